"""``fleetgen import tkg``: one TKG flat cluster configuration (and its node pool) as an inventory.

The flat config is read the way the tanzu CLI reads it: a mapping ``KEY: value`` where a value may
be typed (``3``, ``true``) or a string (``"3"``, ``"true"``), an empty value means unset, and lists
are comma-separated. Each variable maps to one inventory path (``VARIABLES``); workers and AWS
subnets are assembled from the indexed variables (``_0``/``_1``/``_2``).

Import is a front end to the same checks as a hand-written cluster, in two stages like the
pipeline: first the flat file itself (types, secrets, required variables, the pool object), then
the merged cluster through ``to_spec``, every ``CLUSTER_RULES`` rule and the node-pool rules. Every
problem points at the flat line that produced the value (``Job.sources`` maps each inventory
path back to its variable), or at the ``_defaults.yaml`` / pool file it came from.

What is not imported is never dropped silently: secrets are refused, and everything else fleetgen
does not model is reported (warnings, and a comment block at the top of the file). The imported
cluster is the one the flat config alone describes, with tanzu's defaults: the ``_defaults.yaml``
chain above the target folder supplies only what a flat config cannot say, and every other value
it would change is overridden (``faithful``). The written file keeps only the values that change
the rendered cluster; ``Imported.inherited`` says which values it leaves to the chain and why.

This module is the import job's order; its parts live beside it: ``variables`` (the variable
table), ``flat`` (reading the file), ``job`` (the state of one import), ``workers`` (workers and
AWS subnets), ``pool`` (``--pool``), ``faithful`` (what the chain may not change) and
``minimise`` (keeping what changes the cluster). ``bulk`` runs many imports as one, with the
fleet checks (``fleet``) and shared pools (``declare``); ``sources`` finds what to import.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.check.cluster_rules import CLUSTER_RULES, INFRA_NAMES
from generator.check.fleet import Cluster
from generator.check.pools import check_pools, resolve_pools
from generator.load.inventory import InventoryLoader, Layer, Origin
from generator.load.model import POOL_KINDS
from generator.load.validation import to_spec
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.problems import FleetError, Location, Problem, has_errors, path_text
from generator.secrets import is_secret_value
from generator.tkg.addons import import_addons
from generator.tkg.catalog import import_catalog
from generator.tkg.faithful import left_to_inheritance, unset_inherited
from generator.tkg.flat import Flat, empty, read_flat
from generator.tkg.job import Job, chain_value, get_at
from generator.tkg.minimise import minimise
from generator.tkg.pool import import_pool
from generator.tkg.subnets import import_subnets
from generator.tkg.variables import (CREDENTIALS, ENCODED_HINT, INFRA_PREFIXES, KNOWN,
                                     NOT_IMPORTED, NOT_IMPORTED_PREFIXES, POOL_KIND, REQUIRED,
                                     VARIABLES, infra_of)
from generator.tkg.workers import import_workers
from generator.yaml.dump import dump
from generator.yaml.load import Path_


@dataclass(frozen=True)
class Imported:
    path: Path  # where the inventory file goes: DIR/<CLUSTER_NAME>.yaml
    text: str  # the inventory file's text
    reported: list[Problem]  # warnings: variables not imported and why, and rule warnings
    # the values the file leaves to the _defaults.yaml chain: "path from file:line: why"
    inherited: list[str] = field(default_factory=list)
    origins: dict[Path_, Origin] = field(default_factory=dict)  # the file's values: flat lines
    management_cluster: str = ""  # as the target folder's _defaults.yaml chain gives it


def import_tkg(root: Path, flat: Path, pool: Path | None, to: Path) -> Imported:
    """The inventory file for one flat cluster config; raises FleetError (exit 2) with every
    located problem. Writes nothing."""
    root = root.resolve()
    source = read_flat(flat)
    name, target, target_rel, chain = _target(root, source, to)
    job = Job(source, name, target_rel, chain)
    job.note(("name",), name, "CLUSTER_NAME")  # validated as the file name, never written
    infra = _classify(job)
    _variables(job, infra)
    import_addons(job, infra)  # ANTREA_*, VSPHERE_REGION / _ZONE (issue 15, helper C)
    if infra == "aws":
        import_subnets(job)
    import_workers(job, infra)
    if pool is not None:
        import_pool(job, pool)
    _required(job, infra, to, pool is not None)
    if (root / target_rel).exists():
        job.error(Location(target_rel), "file-exists", f"{target_rel} already exists",
                  "import into another folder with --to, or remove the file first")
    if has_errors(job.problems):
        raise FleetError(job.problems)
    unset_inherited(job, infra)  # the chain may not change what the flat config says
    if has_errors(job.problems):
        raise FleetError([_named(job, p) for p in job.problems])
    _validate(job)
    if has_errors(job.problems):
        raise FleetError(job.problems)
    data = minimise(job)
    reported = sorted(job.problems, key=Problem.sort_key)
    return Imported(target, _text(source, data, reported), reported,
                    left_to_inheritance(job, infra, data), dict(job.origins),
                    str(job.merged().data.get("managementCluster") or ""))


def _target(root: Path, source: Flat, to: Path) -> tuple[str, Path, str, list[Layer]]:
    """The cluster name, its file, that file relative to root and the defaults chain above it."""
    if empty(source.values.get("CLUSTER_NAME")):
        raise FleetError([Problem(source.key_at("CLUSTER_NAME") if "CLUSTER_NAME" in source.values
                                  else Location(source.label, 1, 1), "missing-key",
                                  "CLUSTER_NAME is required: it names the cluster and its file",
                                  "add 'CLUSTER_NAME: <name>' to the flat config")])
    value = source.values["CLUSTER_NAME"]
    name = value.strip() if isinstance(value, str) else source.raw("CLUSTER_NAME")
    target = to / f"{name}.yaml"
    absolute = target.resolve()
    base = root / CLUSTERS_DIR
    if not absolute.is_relative_to(base):
        raise FleetError([Problem(Location(str(to)), "outside-fleet",
                                  f"{to} is not inside {base}: the cluster would not be part of "
                                  "the fleet", f"import into a folder under {base}")])
    loader = InventoryLoader(root)
    layers = [loader.layer(p) for p in loader.defaults_chain(absolute)]
    if loader.problems:
        raise FleetError(loader.problems)
    return name, target, loader.rel(absolute), [layer for layer in layers if layer is not None]


def _classify(job: Job) -> str | None:
    """Refuse secrets, report what is not imported; returns the cluster's infrastructure."""
    flat = job.flat
    for key, value in flat.values.items():
        if isinstance(value, str) and value.strip().startswith("<encoded:"):
            job.error(flat.key_at(key), "credential",
                      f"{key} holds an encoded secret; fleetgen never stores secrets in an "
                      "inventory", ENCODED_HINT)
        elif is_secret_value(value):  # a PEM private key, in any variable
            job.error(flat.key_at(key), "credential",
                      f"{key} holds a private key; fleetgen never stores secrets in an "
                      "inventory", "give the public key or certificate, or remove the line")
        elif key in CREDENTIALS and not empty(value):
            job.error(flat.key_at(key), "credential",
                      f"{key} is a credential; fleetgen never stores secrets in an inventory",
                      CREDENTIALS[key])
    infra = _infrastructure(job)
    for key, value in flat.values.items():
        if key in CREDENTIALS or empty(value) or (isinstance(value, str)
                                                    and value.strip().startswith("<encoded:")):
            continue
        if not isinstance(key, str) or key not in KNOWN:
            _report_unknown(job, str(key))
        elif (only := infra_of(key)) is not None and infra is not None and only != infra:
            job.report(key, "not-imported", f"it applies to {INFRA_NAMES[only]} clusters, this one "
                       f"is {INFRA_NAMES[infra]}")
    return infra


def _report_unknown(job: Job, key: str) -> None:
    if key in NOT_IMPORTED:
        job.report(key, "not-imported", NOT_IMPORTED[key])
        return
    for prefix, reason in NOT_IMPORTED_PREFIXES:
        if key.startswith(prefix):
            job.report(key, "not-imported", reason)
            return
    match = difflib.get_close_matches(key, KNOWN, n=1, cutoff=0.8)
    job.report(key, "unknown-variable", "fleetgen does not model this variable",
               f"did you mean '{match[0]}'?" if match else
               "set it another way (an overlay, or the management cluster) if it is still needed")


def _infrastructure(job: Job) -> str | None:
    """INFRASTRUCTURE_PROVIDER, else the inherited value, else the only family of variables."""
    flat = job.flat
    if job.given("INFRASTRUCTURE_PROVIDER"):
        value = job.text("INFRASTRUCTURE_PROVIDER")
        if value not in INFRA_NAMES:
            job.error(flat.value_at("INFRASTRUCTURE_PROVIDER"), "invalid-value",
                      f"INFRASTRUCTURE_PROVIDER '{value}' is not supported",
                      f"fleetgen imports {', '.join(INFRA_NAMES)} clusters")
            return None
        return value
    inherited = chain_value(job, ("infrastructure",))
    if isinstance(inherited, str) and inherited in INFRA_NAMES:
        return inherited
    seen = {infra for key in flat.values if isinstance(key, str)
            for prefix, infra in INFRA_PREFIXES.items() if key.startswith(prefix)}
    if len(seen) == 1:
        infra = seen.pop()
        job.data["infrastructure"] = infra  # not from one variable: stated, so it is never lost
        return infra
    job.error(Location(flat.label, 1, 1), "missing-key",
              "INFRASTRUCTURE_PROVIDER is not set and cannot be told from the variables",
              "add 'INFRASTRUCTURE_PROVIDER: vsphere' (or aws, azure)")
    return None


def _variables(job: Job, infra: str | None) -> None:
    for key, var in VARIABLES.items():
        if not job.given(key) or (var.infra is not None and var.infra != infra):
            continue
        if key in ("AWS_VPC_CIDR",) and job.given("AWS_VPC_ID"):
            job.report(key, "not-imported", "with AWS_VPC_ID the existing VPC's own CIDR applies")
            continue
        value = job.value(key, var.kind)
        if value is not None:
            job.put(var.path, value, key)
    if infra == "vsphere" and job.given(POOL_KIND):
        kind = job.text(POOL_KIND)
        if kind not in POOL_KINDS:
            job.error(job.flat.value_at(POOL_KIND), "invalid-value",
                      f"NODE_IPAM_IP_POOL_KIND '{kind}' is not a pool kind",
                      f"use {' or '.join(POOL_KINDS)}")
        elif not job.given("NODE_IPAM_IP_POOL_NAME"):
            job.report(POOL_KIND, "not-imported", "there is no NODE_IPAM_IP_POOL_NAME")
        else:
            job.used.add(POOL_KIND)  # checked against the pool once it is known
    import_catalog(job, infra)  # proxy, registries, audit logging … (generator/render/catalog.py)


def _required(job: Job, infra: str | None, to: Path, pool_given: bool) -> None:
    """What the flat config cannot say or did not say, checked on the merged cluster so the
    message names the variable (and the _defaults.yaml) to set."""
    merged = job.merged().data
    start = Location(job.flat.label, 1, 1)
    defaults = (to / DEFAULTS_FILE).as_posix()
    if not merged.get("managementCluster"):
        job.error(start, "missing-key", "managementCluster is not set: a flat config does not "
                  "name the management cluster", f"add 'managementCluster: <name>' to {defaults}")
    if not get_at(merged, ("kubernetes", "version")):
        job.error(start, "missing-key", "kubernetes.version is not set: the flat config has no "
                  "KUBERNETES_VERSION", f"add 'kubernetes: {{version: <TKr version>}}' to "
                  f"{defaults}, or KUBERNETES_VERSION to the flat config")
    if infra is None:
        return
    required = {key: var.path for key, var in VARIABLES.items() if var.infra == infra
                and var.path[-1] in REQUIRED[infra]}
    for key, path in required.items():
        if key == "VSPHERE_DATASTORE" and get_at(merged, ("vsphere", "storagePolicyID")):
            # tanzu-framework-release-0.29 tkg/client/validate.go:920-928: a datastore or a
            # storage policy (the rule parity_rules.vsphere_storage checks the inventory).
            continue
        if get_at(merged, path) in (None, ""):
            also = " (or VSPHERE_STORAGE_POLICY_ID)" if key == "VSPHERE_DATASTORE" else ""
            job.error(start, "missing-key", f"{key}{also} is required for "
                      f"{INFRA_NAMES[infra]} clusters",
                      f"add it to the flat config, or {path_text(path)} to {defaults}")
    # AWS_NODE_AZ is not required: tanzu uses <region>a (generator/tkg/subnets.py).
    pool = get_at(merged, ("network", "nodes", "ipPool"))
    if not pool_given and isinstance(pool, str) and get_at(merged, ("ipPools", pool)) is None:
        job.error(job.flat.value_at("NODE_IPAM_IP_POOL_NAME"), "unknown-pool",
                  f"pool '{pool}' is not declared in any _defaults.yaml above {job.target_rel}",
                  "pass its InClusterIPPool or GlobalInClusterIPPool object with --pool")


# --- validation: the pipeline's own checks ------------------------------------------------------

def _validate(job: Job) -> None:
    inv = job.merged()
    spec, problems = to_spec(inv)
    if spec is not None:
        cluster = Cluster(spec, inv)
        problems += [p for rule in CLUSTER_RULES for p in rule(cluster)]
        pools, found = resolve_pools([cluster])
        problems += found + check_pools([cluster], pools)
        problems += _consistent(job, cluster)
    job.problems += [_named(job, p) for p in problems]


def _consistent(job: Job, cluster: Cluster) -> list[Problem]:
    """Variables fleetgen derives or checks rather than stores."""
    spec, flat, out = cluster.spec, job.flat, []
    name = spec.pool_ref
    if job.given(POOL_KIND) and name is not None:
        kind = job.text(POOL_KIND)
        pool = spec.pools_in_scope().get(name)
        if pool is not None and pool.kind != kind:
            out.append(Problem(flat.value_at(POOL_KIND), "pool-mismatch",
                               f"NODE_IPAM_IP_POOL_KIND is {kind}, but pool '{name}' is a "
                               f"{pool.kind}", f"set NODE_IPAM_IP_POOL_KIND: {pool.kind}"))
    return out


def _named(job: Job, problem: Problem) -> Problem:
    """Name the flat variable in a problem located at its value: people edit the flat file, so
    ``controlPlane.replicas: …`` at CONTROL_PLANE_MACHINE_COUNT's value becomes
    ``CONTROL_PLANE_MACHINE_COUNT: …``."""
    if problem.location.path != job.flat.label:
        return problem
    at_value = {job.flat.value_at(key): key for key in sorted(job.used) if key in job.flat.values}
    key = at_value.get(problem.location)
    if key is None:
        return problem
    message = problem.message
    for path in sorted((p for p, k in job.sources.items() if k == key), key=len, reverse=True):
        message = message.removeprefix(f"{path_text(path)}: ")
    return replace(problem, message=f"{key}: {message}")


# --- the file -----------------------------------------------------------------------------------

def _text(source: Flat, data: dict[str, Any], reported: list[Problem]) -> str:
    """The inventory file: where it came from, what was not imported, then the values."""
    lines = [f"# Imported from the TKG flat config {Path(source.label).name} by fleetgen import tkg."]
    skipped = [p for p in reported if p.code in ("not-imported", "unknown-variable")]
    if skipped:
        lines.append("# Not imported (the flat config's value is not part of this inventory):")
        lines += [f"#   line {p.location.line}: {p.message}" for p in skipped]
    body = dump(data) if data else ""
    return "\n".join(lines) + "\n" + body
