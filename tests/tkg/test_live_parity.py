"""Issue 17: adopting what `tanzu cluster create` built changes nothing.

For every case of the parity corpus, the objects tanzu builds (``expected.yaml``) are turned into
what the management cluster returns once they are applied (tests/support/live.py: the TKr
resolver's TKR_DATA, version and label, Cluster API's defaults from the case's real ClusterClass
variables in ../shared/crds, server fields, refs, status). The flat config is imported and
rendered, and `fleetgen diff --live` against that export must report no change and no risk.

One relaxation: tanzu builds no-proxy lists from a Go map (tkg/client/validate.go:1587-1629), so
their order differs from run to run and the live order cannot be known here; the export takes
the rendered order where the two hold the same names (a real cluster whose order differs shows a
`proxy` change, which is true: the sync rewrites the list).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from support.cli import fleetgen
from support.crds import CLASS_VARIABLE_DIRS
from support.live import as_live, clusterclass, export, shared_class_variables
from test_parity import CASES, _drop_nulls, applied_objects, expected_objects, import_and_render


def _class_dir(obj: dict[str, Any]) -> str | None:
    name = str(((obj.get("spec") or {}).get("topology") or {}).get("class", ""))
    return next((d for prefix, d in CLASS_VARIABLE_DIRS.items() if name.startswith(prefix)), None)


def _names(value: Any) -> list[str]:
    return sorted({p for p in value.split(",") if p}) if isinstance(value, str) else \
        sorted(set(value)) if isinstance(value, list) else []


def _no_proxy_as_rendered(expected: Any, rendered: Any) -> Any:
    """``expected`` with each no-proxy list (``noProxy``, ``no_proxy``: in the proxy variable
    and the add-on configs) in the rendered order, where both hold the same names."""
    if isinstance(expected, dict) and isinstance(rendered, dict):
        out = {}
        for key, value in expected.items():
            theirs = rendered.get(key)
            if key in ("noProxy", "no_proxy") and _names(value) == _names(theirs) and theirs:
                out[key] = copy.deepcopy(theirs)
            else:
                out[key] = _no_proxy_as_rendered(value, theirs)
        return out
    if isinstance(expected, list) and isinstance(rendered, list):
        named = {v.get("name"): v for v in rendered if isinstance(v, dict)}
        return [_no_proxy_as_rendered(v, named.get(v.get("name")) if isinstance(v, dict)
                                      else None) for v in expected]
    return copy.deepcopy(expected)


def live_objects(case: str, root: Path) -> list[dict[str, Any]]:
    rendered = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
                for o in applied_objects(root)}
    out: list[dict[str, Any]] = []
    classes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for obj in expected_objects(case):
        obj = _drop_nulls(obj)  # kubectl apply stores nothing for a null
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key in rendered:
            obj = _no_proxy_as_rendered(obj, rendered[key])
        class_dir = _class_dir(obj) if obj["kind"] == "Cluster" else None
        variables = shared_class_variables(class_dir) if class_dir else None
        if class_dir and variables is not None:
            name = obj["spec"]["topology"]["class"]
            classes[(obj["metadata"]["namespace"], name)] = variables
        out.append(as_live(obj, variables))
    out += [clusterclass(name, ns, variables) for (ns, name), variables in sorted(classes.items())]
    return out


@pytest.mark.parametrize("case", CASES)
def test_adopting_what_tanzu_built_changes_nothing(case: str, tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    import_and_render(root, case)
    file = tmp_path / "live.yaml"
    file.write_text(export(live_objects(case, root)))
    result = fleetgen(root, "diff", "--format", "json", "--live", str(file))
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    shown = [(c["title"], [(f["path"], f["old"], f["new"]) for f in c["fields"]][:6])
             for c in report["changes"]]
    assert result.exit_code == 0, (result.stderr, shown, report["risks"])
    assert report["risks"] == [] and report["live"]["unmanaged"] == []
    assert {"tkr-data", "tkr-version"} <= {e["kind"] for e in report["live"]["effects"]}
