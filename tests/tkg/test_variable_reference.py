"""docs/tkg-variables.md cannot drift: every flat variable tanzu applies to a vSphere, AWS or
Azure workload cluster has a row, every inventory key a row names exists in the inventory schema,
and the variable catalog cites lines of the reference that really say what it claims.

The variables come from the reference itself (tanzu-framework release-0.29 in
``../shared/reference/``): those ``providers/config_default.yaml`` lists, which
``providers/yttcc/lib/config_variable_association.star`` associates with vsphere / aws / azure or
which the workload-cluster templates (the Cluster's and the ClusterBootstrap's) read.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from generator.load.schema import allowed_keys
from generator.render.catalog import CATALOG
from generator.tkg.variables import CREDENTIALS, NOT_IMPORTED
from generator.yaml.fast import load_fast

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "tanzu-framework-release-0.29"
DOC = REPO / "docs" / "tkg-variables.md"
INFRAS = {"vsphere", "aws", "azure"}
ASSOCIATION = "providers/yttcc/lib/config_variable_association.star"
GET_VARS_FROM = 355  # get_cluster_variables() and below: what the workload templates read
READERS = ("providers/infrastructure-*/v*/yttcc/overlay.yaml",
           "providers/infrastructure-*/v*/cconly/overlay*.yaml",
           "providers/yttcc/02_customizations/**/*.yaml",
           "providers/yttcc/lib/helpers.star", "providers/yttcc/lib/validate.star",
           "providers/yttcb/*")  # the ClusterBootstrap and its configs


def reference() -> Path:
    """The reference folder, or skip: it is upstream source kept beside the repository."""
    if not REFERENCE.is_dir():
        pytest.skip(f"tanzu-framework reference not found at {REFERENCE}; it comes from the "
                    "shared/ folder beside the repository")
    return REFERENCE


@cache
def _lines(rel: str) -> list[str]:
    return (reference() / rel).read_text(encoding="utf-8").splitlines()


@cache
def applicable() -> list[str]:
    ref = reference()
    defaults = [m.group(1) for line in _lines("providers/config_default.yaml")
                if (m := re.match(r"([A-Z0-9_]+):", line))]
    association: dict[str, set[str]] = {}
    for line in _lines(ASSOCIATION):
        if m := re.match(r'\s*"([A-Z0-9_]+)": \[(.*)\]', line):
            association[m.group(1)] = {p.strip().strip('"') for p in m.group(2).split(",")}
    texts = ["\n".join(_lines(ASSOCIATION)[GET_VARS_FROM - 1:])]
    texts += [p.read_text(encoding="utf-8") for pattern in READERS for p in ref.glob(pattern)]
    every = "\n".join(texts)

    def read(var: str) -> bool:
        return re.search(r'data\.values(\["%s"\]|\.%s\b)|Mapping\["%s"\]' % ((var,) * 3),
                         every) is not None

    return [var for var in dict.fromkeys(defaults) if not var.startswith(("OCI_", "DOCKER_"))
            and (association[var] & INFRAS if var in association else read(var))]


def rows() -> dict[str, list[str]]:
    out = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and re.fullmatch(r"[A-Z0-9_]+", cells[0]):
            out[cells[0]] = cells[1:]
    return out


def test_every_applicable_variable_has_one_row() -> None:
    wanted = applicable()
    assert len(wanted) > 250  # the association alone lists 250+ for the three infrastructures
    table = rows()
    assert [var for var in wanted if var not in table] == []
    assert [var for var, cells in table.items() if "?" in cells[:2]] == []


def _schema_path(key: str) -> tuple[str | int, ...]:
    return tuple(part for piece in key.split(".")
                 for part in ((piece[:-2], 0) if piece.endswith("[]") else (piece,)))


def test_every_inventory_key_exists() -> None:
    reference()
    missing = []
    for var, (keys, _, _) in rows().items():
        for key in re.findall(r"`([^`]+)`", keys):
            path = _schema_path(key)
            if path[-1] not in allowed_keys(path[:-1]):
                missing.append((var, key))
    assert missing == []


def test_sources_point_into_the_reference() -> None:
    bad = []
    for var, (_, _, source) in rows().items():
        for rel, line in re.findall(r"((?:providers|tkg)/[\w./*-]+):(\d+)", source):
            files = list(reference().glob(rel))
            if not files or any(int(line) > len(p.read_text().splitlines()) for p in files):
                bad.append((var, f"{rel}:{line}"))
    assert bad == []


def test_catalog_rows_match_the_catalog_and_cite_their_variable() -> None:
    table = rows()
    for entry in CATALOG:
        rel, line = entry.source.rsplit(":", 1)
        assert entry.flat in _lines(rel)[int(line) - 1], entry.source  # the cited line names it
        assert table[entry.flat][2].startswith(entry.source)
        key = ".".join(str(p) for p in entry.path if not isinstance(p, int))
        assert table[entry.flat][0].replace("[]", "") == f"`{key}`"
        if entry.default_at:
            rel, line = entry.default_at.rsplit(":", 1)
            text = _lines(rel)[int(line) - 1]
            assert text.startswith(f"{entry.flat}:")
            default = load_fast(text)[entry.flat]  # tanzu's default, as config_default.yaml says
            assert (default if default is not None else "") == entry.default, entry.flat


def test_refused_and_reported_variables_say_so() -> None:
    table = rows()
    for var in CREDENTIALS:
        if var in table:
            assert table[var][1].startswith("refused: secret"), var
    for var in NOT_IMPORTED:
        if var in table:
            assert table[var][1].startswith(("not imported", "management cluster only")), var
