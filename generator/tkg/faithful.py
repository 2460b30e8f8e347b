"""An import that changes nothing: the cluster a flat config describes, whatever the target
folder's ``_defaults.yaml`` chain says.

The target is the cluster as the flat config alone says it, with tanzu's defaults (the model's
defaults are tanzu's: ``generator.load.model``, ``generator.render.catalog``). The chain above the
target folder may only supply what a flat config cannot say (``INHERITABLE``, and the conditional
cases of ``inheritable``); every other value it sets is overridden in the imported file with the
value the flat config implies, tanzu's default included: ``[]`` for a list, ``""`` for a text
whose default is empty, ``null`` for an optional setting (``null`` replaces whatever a farther
file said: generator/load/inventory.py ``_merge_into``, and the model reads it as unset).

What a cluster file cannot override is an error, never a silent difference: a mapping whose keys
the chain adds (mappings merge key by key), or ``network.ipFamily`` stated by the chain when the
flat config does not state TKG_IP_FAMILY (tanzu then writes no CPI ``ipFamily``; no value of the
key means "unset").
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from generator.load.inventory import Layer, Origin, merge_layers
from generator.load.validation import to_spec
from generator.problems import Location, Problem, has_errors, path_text
from generator.render.catalog import CATALOG
from generator.tkg.job import Job, get_at, has_at, put_at
from generator.tkg.minimise import fingerprint, spec_of
from generator.tkg.variables import REQUIRED, VARIABLES
from generator.yaml.load import Path_

# AWS and Azure identities are flat variables (AWS_IDENTITY_REF_*, AZURE_IDENTITY_*), so only
# the vCenter one, which a flat config cannot name, is inherited.
_CREDENTIALS = ("the credentials: a flat config's secrets are never imported, so the identity "
                "the fleet references stands in for them")
_FLEET = "fleetgen's own setting: tanzu has no flat variable for it"
# What a flat config cannot say, so an imported cluster takes it from the _defaults.yaml chain.
INHERITABLE: dict[Path_, str] = {
    ("managementCluster",): "a flat config does not name its management cluster (tanzu uses "
                            "the current kubectl context)",
    ("ipPools",): "pool declarations: a flat config names its pool (NODE_IPAM_IP_POOL_NAME), "
                  "the fleet declares it",
    ("nodeNetworks",): _FLEET,
    ("managementClusters",): _FLEET,
    ("network", "nodes", "nodeNetwork"): _FLEET,
    ("network", "nodes", "dhcpReservations"): _FLEET,
    ("controlPlane", "vip"): "the NSX ALB VIP of an FQDN endpoint (the DNS record fleetgen "
                             "renders): tanzu has no flat variable for it",
    ("features",): "tanzu's feature flags are CLI settings (tanzu config set), not flat variables",
    ("overlays",): _FLEET,
    ("labels",): _FLEET,
    ("annotations",): _FLEET,
}


def inheritable(job: Job, infra: str | None) -> dict[Path_, str]:
    """Every path the chain may supply for this flat config, with the reason."""
    out = dict(INHERITABLE)
    if not job.given("KUBERNETES_VERSION"):
        out[("kubernetes", "version")] = ("the flat config has no KUBERNETES_VERSION (tanzu takes "
                                          "the management cluster's default TKr)")
    if not job.given("INFRASTRUCTURE_PROVIDER") and "infrastructure" not in job.data:
        out[("infrastructure",)] = "the flat config has no INFRASTRUCTURE_PROVIDER"
    if infra == "vsphere":
        out[("vsphere", "identityRef")] = _CREDENTIALS
    for key, var in VARIABLES.items():
        if infra is None or var.infra != infra or var.path[-1] not in REQUIRED[infra]:
            continue
        if key == "VSPHERE_DATASTORE" and job.given("VSPHERE_STORAGE_POLICY_ID"):
            continue  # a storage policy instead of a datastore (validate.go:920-928)
        if not job.given(key):
            out[var.path] = (f"the flat config has no {key}, which tanzu requires "
                             "(a complete flat config gives it)")
    return out


def _reason(paths: dict[Path_, str], path: Path_) -> str | None:
    return next((paths[path[:end]] for end in range(len(path), 0, -1) if path[:end] in paths),
                None)


def _only(data: dict[str, Any], keep: dict[Path_, str], path: Path_ = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        child = (*path, key)
        if _reason(keep, child) is not None:
            out[key] = value
        elif isinstance(value, dict) and (inner := _only(value, keep, child)):
            out[key] = inner
    return out


def _leaves(value: Any, path: Path_ = ()) -> list[Path_]:
    if isinstance(value, dict) and value:
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))]
    return [path]


def _covered(data: dict[str, Any], path: Path_) -> bool:
    """Whether ``data`` (the imported file) decides ``path``: it or a non-mapping above it."""
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True
    return True


def _override(dump: Any, data: dict[str, Any], path: Path_) -> tuple[Path_, Any] | None:
    """Where and what to write so ``path`` reads as the target's value, or None if unable."""
    node = dump
    for end, part in enumerate(path, start=1):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
        if not isinstance(node, dict) and not has_at(data, path[:end]):
            return path[:end], node
    return None


def target_chain(job: Job, keep: dict[Path_, str]) -> list[Layer]:
    return [(_only(layer, keep), origins) for layer, origins in job.chain]


def unset_inherited(job: Job, infra: str | None) -> None:
    """Add to ``job.data`` every value that the chain would otherwise change; an unset that
    cannot be written is a located error."""
    keep = inheritable(job, infra)
    alone = replace(job, chain=target_chain(job, keep), data=copy.deepcopy(job.data))
    spec = spec_of(alone, alone.data)
    if spec is None:  # the flat config alone is no valid cluster: say why, where
        spec_problems = to_spec(alone.merged())[1]
        job.problems.extend(spec_problems or [Problem(
            Location(job.flat.label, 1, 1), "invalid-value",
            "the flat config alone does not make a valid cluster (its pool is not declared)")])
        return
    want = fingerprint(alone, alone.data)
    dump = spec.model_dump(by_alias=True, mode="json")
    chain, origins = merge_layers(job.chain)
    written: list[Path_] = []
    for leaf in _leaves(chain):
        if leaf == () or _reason(keep, leaf) is not None or _covered(job.data, leaf):
            continue
        found = _override(dump, job.data, leaf)
        if found is None:
            _cannot(job, origins, leaf)
            continue
        at, value = found
        if not has_at(job.data, at):
            put_at(job.data, at, value)
            written.append(at)
    if fingerprint(alone, job.data) != want:  # an override that is not the flat config's value
        for at in written:
            one = copy.deepcopy(alone.data)
            put_at(one, at, get_at(job.data, at))
            if fingerprint(alone, one) != want:
                _cannot(job, origins, at)
    if not has_errors(job.problems) and fingerprint(job, job.data) != want:
        merged = spec_of(job, job.data)
        real = merged.model_dump(by_alias=True, mode="json") if merged else {}
        before = len(job.problems)
        for leaf in _leaves(chain):
            if _reason(keep, leaf) is None and get_at(real, leaf) != get_at(dump, leaf):
                _cannot(job, origins, leaf)
        if len(job.problems) == before:
            job.error(Location(job.flat.label, 1, 1), "import-differs",
                      f"the imported cluster would render differently from {job.flat.label} "
                      f"under the _defaults.yaml above {job.target_rel}",
                      "import into a folder whose _defaults.yaml sets less, and report this")


def _cannot(job: Job, origins: dict[Path_, Origin], path: Path_) -> None:
    where = _origin(origins, path)
    key = flat_key(path)
    value = get_at(merge_layers(job.chain)[0], path) if key else None
    ask = (f"add '{key}: {_flat_spelling(value)}' to the flat config to keep this value"
           if key and value is not None and not isinstance(value, dict) else
           f"add {key} to the flat config" if key else "change the _defaults.yaml")
    job.problems.append(Problem(
        where, "cannot-unset",
        f"{path_text(path)}: the flat config does not set it, but {where.path} does, and an "
        "imported cluster file cannot unset it: the cluster would differ from the one tanzu built",
        f"{ask}, or move {path_text(path)} out of {where.path} into the clusters that need it"))


def _flat_spelling(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _origin(origins: dict[Path_, Origin], path: Path_) -> Location:
    for end in range(len(path), 0, -1):
        if path[:end] in origins:
            return origins[path[:end]].key
    for candidate, origin in sorted(origins.items(), key=lambda item: len(item[0])):
        if candidate[:len(path)] == path:
            return origin.key
    return Location("_defaults.yaml")


def flat_key(path: Path_) -> str | None:
    """The flat variable that writes ``path`` (or the nearest key above it)."""
    table = {var.path: key for key, var in VARIABLES.items()}
    table.update({entry.path: entry.flat for entry in CATALOG})
    for end in range(len(path), 0, -1):
        if path[:end] in table:
            return table[path[:end]]
    return None


def left_to_inheritance(job: Job, infra: str | None, written: dict[str, Any]) -> list[str]:
    """One line per value the written file leaves to the chain, with where it comes from and
    why that is the flat config's value."""
    keep = inheritable(job, infra)
    chain, origins = merge_layers(job.chain)
    lines: list[str] = []
    for leaf in _leaves(chain):
        if leaf == () or _covered(written, leaf):
            continue
        why = _reason(keep, leaf)
        if why is not None:  # reported once, at the inheritable key (ipPools, identityRef …)
            leaf = next(leaf[:end] for end in range(1, len(leaf) + 1) if leaf[:end] in keep)
            line = f"{path_text(leaf)} from {_origin(origins, leaf)}: {why}"
            if line not in lines:
                lines.append(line)
            continue
        key = job.sources.get(leaf) or flat_key(leaf)
        why = (f"the same as the flat config's {key}" if key and job.given(key)
               else "renders the same as what the flat config says")
        lines.append(f"{path_text(leaf)} from {_origin(origins, leaf)}: {why}")
    return lines
