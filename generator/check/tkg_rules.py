"""Checks the tanzu CLI makes on workers and node sizes (issue 15, helper A), as cluster rules.

* ``unknown-size``: a vSphere ``size`` outside tanzu's node type table (tanzu-framework-release-0.29
  tkg/client/validate.go:1285-1288 refuses it).
* ``node-too-small``: a vSphere node below the "small" node type, 2 CPUs, 4096 MiB, 20 GiB
  (ValidateVsphereNodeSize, validate.go:1100-1125).
* ``flat-inexpressible`` (warning): workers that ``tanzu cluster create --file`` cannot build from
  a flat config, so the rendered cluster-config.yaml would build other machine deployments
  (generator/load/flat_workers.py flat_output).
"""

from __future__ import annotations

from typing import Iterator

from generator.check.fleet import Cluster
from generator.load.model import MACHINE_FIELDS, Machine
from generator.load.sizes import VSPHERE_MINIMUM, VSPHERE_SIZES, resolve
from generator.load.flat_workers import flat_output
from generator.problems import Problem
from generator.yaml.load import Path_

_UNITS = {"numCPUs": "CPUs", "memoryMiB": "MiB", "diskGiB": "GiB"}


def _machines(c: Cluster) -> list[tuple[str, Path_, Machine | None]]:
    """(role, path, machine) of the control plane and of every given worker pool."""
    spec = c.spec
    out: list[tuple[str, Path_, Machine | None]] = [
        ("controlPlane", ("controlPlane", "machine"), spec.control_plane.machine)]
    if spec.workers is not None:
        out += [("worker", ("workers", i, "machine"), md.machine) for i, md in enumerate(spec.workers)]
    return out


def unknown_size(c: Cluster) -> Iterator[Problem]:
    if c.spec.infrastructure != "vsphere":
        return
    machines = [(("machine",), c.spec.machine)] + [(p, m) for _, p, m in _machines(c)]
    for path, machine in machines:
        if machine is not None and machine.size is not None and machine.size not in VSPHERE_SIZES:
            yield c.problem((*path, "size"), "unknown-size",
                            f"'{machine.size}' is not a vSphere node size",
                            f"use one of: {', '.join(VSPHERE_SIZES)} (or numCPUs, memoryMiB, "
                            "diskGiB)")


def common_machine_fields(c: Cluster) -> Iterator[Problem]:
    """The cluster-wide ``machine`` takes the infrastructure's fields only (as machine_fields
    checks the roles' machines)."""
    infra, machine = c.spec.infrastructure, c.spec.machine
    allowed = MACHINE_FIELDS[infra]
    for key in sorted(machine.model_dump(by_alias=True, exclude_none=True) if machine else {}):
        if key not in allowed:
            yield c.problem(("machine", key), "wrong-infrastructure",
                            f"'{key}' is not a machine setting on this infrastructure ({infra})",
                            f"machines here take: {', '.join(allowed)}", key=True)


def _source(c: Cluster, own: Path_, own_machine: Machine | None, field: str) -> Path_:
    """Where the effective value of ``field`` comes from: the role's field or size, else the
    cluster-wide ``machine``'s, else the role (the class default)."""
    common = c.spec.machine
    for path, machine in ((own, own_machine), (("machine",), common)):
        if machine is None:
            continue
        if machine.model_dump(by_alias=True).get(field) is not None:
            return (*path, field)
        if machine.size in VSPHERE_SIZES:
            return (*path, "size")
    return own


def vsphere_node_size(c: Cluster) -> Iterator[Problem]:
    """Each role's effective machine against the minimum, located where the small value is
    written (the role's field or size, else the cluster-wide ``machine``), once per place."""
    spec = c.spec
    if spec.infrastructure != "vsphere":
        return
    roles = _machines(c)
    if spec.workers is None:
        roles.append(("worker", ("machine",), None))  # the default workers: only `machine`
    seen: set[Path_] = set()
    for role, path, machine in roles:
        effective = resolve("vsphere", role, spec.machine, machine)
        for field, minimum in VSPHERE_MINIMUM.items():
            value = effective.get(field)
            where = _source(c, path, machine, field)
            if isinstance(value, int) and value < minimum and where not in seen:
                seen.add(where)
                yield c.problem(where, "node-too-small",
                                f"{field} {value} is below tanzu's vSphere minimum of {minimum} "
                                f"{_UNITS[field]} (the 'small' node type)",
                                f"give every node at least {VSPHERE_MINIMUM['numCPUs']} CPUs, "
                                f"{VSPHERE_MINIMUM['memoryMiB']} MiB and "
                                f"{VSPHERE_MINIMUM['diskGiB']} GiB")


def flat_inexpressible(c: Cluster) -> Iterator[Problem]:
    differences = flat_output(c.spec).differences
    if not differences:
        return
    path: Path_ = ("workers",) if c.spec.workers is not None else ("plan",)
    yield c.problem(path, "flat-inexpressible",
                    "tanzu cluster create --file cluster-config.yaml would build other machine "
                    "deployments than cluster.yaml: " + "; ".join(differences),
                    "use md-0 (dev) or md-0, md-1, md-2 (prod) of class tkg-worker, one worker "
                    "size, and no pool labels, if the flat config must build the same cluster",
                    key=True, severity="warning")


TKG_RULES = (common_machine_fields, unknown_size, vsphere_node_size, flat_inexpressible)
