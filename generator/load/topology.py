"""Worker topology as ``tanzu cluster create`` builds it from a flat config, and whether a
cluster's ``workers`` can be said in a flat config at all.

``tanzu_workers`` is a small model of tanzu's own conversion (traced in
../shared/reference/tanzu-framework-release-0.29, cited line by line below). Three callers share
it, so import, render and the flat output cannot drift apart:

* the model's default ``workers`` (what tanzu builds when the inventory says nothing);
* ``fleetgen import tkg`` (the flat variables → ``workers``);
* the flat output (``cluster-config.yaml``, generator/load/flat_workers.py): the lines it writes
  are fed back through ``tanzu_workers`` and compared with what ``cluster.yaml`` renders; every
  difference becomes a comment at the top of the file and a ``flat-inexpressible`` warning.

This module imports nothing of the model (the model's default workers use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# WORKER_MACHINE_COUNT when the flat config does not set it: dev 1, prod 3 (../shared/docs/
# domain.md:141, the 2.4 docs).
PLAN_WORKER_COUNT = {"dev": 1, "prod": 3}
PROD_DEPLOYMENTS = 3  # md-0, md-1, md-2 (yttcc overlays, e.g. vsphere v1.5.3/yttcc/overlay.yaml:54-92)
WORKER_CLASS = "tkg-worker"  # the only worker class a Linux flat config builds (overlay.yaml:54)
WINDOWS_CLASS = "tkg-worker-windows"  # with IS_WINDOWS_WORKLOAD_CLUSTER (overlay.yaml:97)
AWS_ZONE_LETTERS = "abc"  # aws v2.0.2/yttcc/overlay.yaml:11-13 get_az_from_region(…, "a"/"b"/"c")


def distribute(total: int, count: int = PROD_DEPLOYMENTS) -> list[int]:
    """How tanzu spreads WORKER_MACHINE_COUNT over md-0 … md-2 on a prod plan: the same share
    each, the remainder one by one from md-0 (tkg/client/validate.go:1460-1474): 5 → 2, 2, 1."""
    share, extra = divmod(total, count)
    return [share + (1 if index < extra else 0) for index in range(count)]


@dataclass(frozen=True)
class FlatWorkers:
    """What tanzu reads of a flat config to build the machine deployments."""

    infra: str
    plan: str
    total: int | None = None  # WORKER_MACHINE_COUNT
    counts: dict[int, int] = field(default_factory=dict)  # WORKER_MACHINE_COUNT_0/_1/_2
    zones: dict[int, str] = field(default_factory=dict)  # VSPHERE_AZ_i, AZURE_NODE_AZ(_i), AWS_NODE_AZ(_i)
    region: str | None = None  # AWS_REGION
    worker: dict[str, Any] = field(default_factory=dict)  # the effective `worker` machine
    types: dict[int, str] = field(default_factory=dict)  # NODE_MACHINE_TYPE_1/_2
    azure_default: dict[str, Any] = field(default_factory=dict)  # the class's worker default
    windows: bool = False  # IS_WINDOWS_WORKLOAD_CLUSTER (vSphere)


def tanzu_zone(infra: str, index: int, zones: dict[int, str], region: str | None) -> str | None:
    """The failure domain tanzu gives md-<index>."""
    if zones.get(index):
        return zones[index]
    if infra == "aws":  # aws v2.0.2/yttcc/overlay.yaml:11-13, 65, 75, 93; helpers.star:129-135
        return f"{region}{AWS_ZONE_LETTERS[index]}" if region and index < 3 else None
    if infra == "azure":  # azure v1.6.3/yttcc/overlay.yaml:98, 108, 124: "1", "2", "3"
        return str(index + 1)
    return None  # vsphere v1.5.3/yttcc/overlay.yaml:66-69: failureDomain only with VSPHERE_AZ_i


def replicas(flat: FlatWorkers) -> list[int]:
    """The replicas of md-0 (dev) or md-0 … md-2 (prod)."""
    total = flat.total if flat.total is not None else PLAN_WORKER_COUNT[flat.plan]
    if flat.plan == "prod":
        # All three WORKER_MACHINE_COUNT_<i> set: taken as they are; else WORKER_MACHINE_COUNT
        # is spread (validate.go:1456-1458 predefinedDistribution, 1475-1484).
        if all(i in flat.counts for i in range(PROD_DEPLOYMENTS)):
            return [flat.counts[i] for i in range(PROD_DEPLOYMENTS)]
        return distribute(total)
    if flat.infra == "vsphere":
        # vSphere dev: md-0 takes WORKER_MACHINE_COUNT itself (vsphere overlay.yaml:57-61), which
        # SetMachineDeploymentWorkerCounts leaves at the total (validate.go:1503-1505).
        return [total]
    # AWS / Azure dev: md-0 takes WORKER_MACHINE_COUNT_0 (aws overlay.yaml:63, azure
    # overlay.yaml:96), which is WORKER_MACHINE_COUNT_0 when set, else the total
    # (validate.go:1485-1492).
    return [flat.counts.get(0, total)]


def tanzu_workers(flat: FlatWorkers) -> list[dict[str, Any]]:
    """The machine deployments tanzu builds: ``{name, class, replicas, failureDomain, machine}``
    (failureDomain None when tanzu sets none; machine is the effective worker machine)."""
    out = []
    for index, count in enumerate(replicas(flat)):
        machine = dict(flat.worker)
        kind = flat.types.get(index) if index > 0 else None
        if kind and flat.infra == "aws":
            # aws overlay.yaml:80-88, 98-106: instanceType from NODE_MACHINE_TYPE_<i>, the root
            # volume of every worker.
            machine["instanceType"] = kind
        elif kind and flat.infra == "azure":
            # azure overlay.yaml:113-119: the override holds vmSize only, so the rest of the
            # md's `worker` value falls back to the class defaults.
            machine = {**flat.azure_default, "vmSize": kind}
        # vsphere overlay.yaml:94-136: Windows clusters get tkg-worker-windows deployments.
        kind_of = WINDOWS_CLASS if flat.windows and flat.infra == "vsphere" else WORKER_CLASS
        out.append({"name": f"md-{index}", "class": kind_of, "replicas": count,
                    "failureDomain": tanzu_zone(flat.infra, index, flat.zones, flat.region),
                    "machine": machine})
    return out
