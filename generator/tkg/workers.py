"""Workers, node sizes and the class: the inventory's ``workers``, ``controlPlane.machine`` and
``kubernetes.class`` from the flat variables, meaning what ``tanzu cluster create`` means.

The machine deployments are what ``generator.load.topology.tanzu_workers`` (the traced model of
tanzu's conversion) builds from WORKER_MACHINE_COUNT(_0/_1/_2), the zone variables and the plan;
the sizes follow tanzu's precedence (``_resolve_sizes``). Every variable tanzu would ignore is
reported as not imported, with the reason.
"""

from __future__ import annotations

from typing import Any

from generator.load.model import DEFAULT_MACHINE
from generator.load.sizes import VSPHERE_SIZES, size_fields
from generator.load.topology import (PLAN_WORKER_COUNT, PROD_DEPLOYMENTS, FlatWorkers,
                                     distribute, tanzu_workers, tanzu_zone)
from generator.tkg.job import Job, get_at
from generator.tkg.variables import (AWS_MD_MACHINE_TYPES, AZURE_ZONES, CLUSTER_CLASS, VARIABLES,
                                     VSPHERE_BASE_MACHINE, VSPHERE_ZONES, WORKER_COUNT,
                                     WORKER_COUNTS, WORKER_MACHINE, Kind)

__all__ = ["distribute", "import_workers"]

_VALIDATE = "tanzu-framework-release-0.29 tkg/client/validate.go"


def import_workers(job: Job, infra: str | None) -> None:
    """CLUSTER_CLASS, the node sizes, and the worker variables → ``kubernetes.class``,
    ``controlPlane.machine`` and ``workers``."""
    if job.given(CLUSTER_CLASS):  # the class tanzu's yttcc overlays write (overlay.yaml:42)
        job.put(("kubernetes", "class"), job.text(CLUSTER_CLASS), CLUSTER_CLASS)
    if infra is None:
        return
    worker, worker_keys = _resolve_sizes(job, infra)
    _import_workers(job, infra, worker, worker_keys)


# --- sizes -------------------------------------------------------------------------------------

def _role_vars(infra: str, role: str) -> dict[str, tuple[str, Kind]]:
    """The role's own machine variables: variable → (machine field, kind)."""
    if role == "worker":
        return {k: (name, kind) for k, (only, name, kind) in WORKER_MACHINE.items() if only == infra}
    return {k: (str(var.path[-1]), var.kind) for k, var in VARIABLES.items()
            if var.infra == infra and var.path[:2] == ("controlPlane", "machine")}


def _size(job: Job, infra: str, key: str) -> dict[str, Any] | None:
    if not job.given(key):
        return None
    text = job.text(key)
    if infra == "vsphere" and text not in VSPHERE_SIZES:
        # OverrideVsphereNodeSizeWithOptions refuses an unknown size (validate.go:1285-1288).
        job.error(job.flat.value_at(key), "invalid-value",
                  f"{key} '{text}' is not a vSphere node size",
                  f"use one of: {', '.join(VSPHERE_SIZES)}")
        return None
    return size_fields(infra, text)


def _resolve_sizes(job: Job, infra: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Each machine field of each role as tanzu resolves it, the role's size first, then SIZE,
    then the role's own variable, then (vSphere) the base VSPHERE_NUM_CPUS … :
    OverrideVsphereNodeSizeWithOptions (validate.go:1283-1324) sets SIZE, then CONTROLPLANE_SIZE /
    WORKER_SIZE, over whatever the file says; SetVsphereNodeSize (validate.go:1129-1158) fills
    the role variables still unset from the base ones. AWS and Azure likewise
    (OverrideAWSNodeSizeWithOptions validate.go:1209-1221, OverrideAzureNodeSizeWithOptions
    validate.go:1161-1205). The control plane's values go into ``controlPlane.machine``; the
    worker's are returned (field → value, field → variable) for every machine deployment."""
    common = _size(job, infra, "SIZE")
    base = {name: (key, kind) for key, (name, kind) in VSPHERE_BASE_MACHINE.items()
            if infra == "vsphere" and job.given(key)}
    base_used: set[str] = set()
    sizes_used: set[str] = set()
    worker: dict[str, Any] = {}
    worker_keys: dict[str, str] = {}
    for role, role_size in (("controlPlane", "CONTROLPLANE_SIZE"), ("worker", "WORKER_SIZE")):
        own_size = _size(job, infra, role_size)
        own = {name: (key, kind) for key, (name, kind) in _role_vars(infra, role).items()}
        for name, (key, kind) in own.items():
            sized, by = ((own_size, role_size) if own_size and name in own_size else
                         (common, "SIZE") if common and name in common else (None, None))
            value, source = None, None
            if sized is not None and by is not None:
                value, source = sized[name], by
                sizes_used.add(by)
                if job.given(key):
                    job.used.discard(key)
                    job.report(key, "not-imported", f"{by} sets it, as tanzu does "
                               f"({_VALIDATE}:1283-1324)")
            elif job.given(key):
                value = job.value(key, kind)
                source = key
            elif name in base:
                value, source = job.value(base[name][0], base[name][1]), base[name][0]
                base_used.add(base[name][0])
            if value is None or source is None:
                continue
            if role == "controlPlane":
                job.put(("controlPlane", "machine", name), value, source)
            else:
                job.used.add(source)
                worker[name], worker_keys[name] = value, source
    if job.given("SIZE") and common is not None and "SIZE" not in sizes_used:
        job.report("SIZE", "not-imported", "CONTROLPLANE_SIZE and WORKER_SIZE set both roles")
    for name, (key, _) in base.items():
        if key not in base_used:
            job.report(key, "not-imported", "both roles set their own value "
                       f"(VSPHERE_CONTROL_PLANE_… and VSPHERE_WORKER_…, {_VALIDATE}:1129-1158)")
    return worker, worker_keys


# --- machine deployments -----------------------------------------------------------------------

def _dev_only(job: Job, keys: list[str], first: str) -> None:
    for key in keys:
        if job.given(key):
            job.report(key, "not-imported", f"tanzu uses only {first} on a dev plan (md-0 alone; "
                       "vsphere v1.5.3/yttcc/overlay.yaml:70-93)")


def _import_workers(job: Job, infra: str, worker: dict[str, Any],
                    worker_keys: dict[str, str]) -> None:
    merged = job.merged().data
    plan = str(merged.get("plan")) if merged.get("plan") in PLAN_WORKER_COUNT else "dev"
    counts = {i: v for i, k in enumerate(WORKER_COUNTS) if job.given(k)
              and (v := job.value(k, "int")) is not None}
    total = job.value(WORKER_COUNT, "int") if job.given(WORKER_COUNT) else None
    zone_keys = VSPHERE_ZONES if infra == "vsphere" else AZURE_ZONES if infra == "azure" else []
    zones = {i: job.text(k) for i, k in enumerate(zone_keys) if job.given(k)}
    subnets = get_at(merged, ("aws", "subnets")) if infra == "aws" else None
    if isinstance(subnets, list):
        zones = {i: s["az"] for i, s in enumerate(subnets) if isinstance(s, dict) and s.get("az")}
    types = {i: job.text(k) for k, i in AWS_MD_MACHINE_TYPES.items() if job.given(k)}
    if infra == "vsphere":
        for key in AWS_MD_MACHINE_TYPES:
            if job.given(key):
                job.report(key, "not-imported", "it applies to AWS and Azure clusters, this one is "
                           "vSphere")
        types = {}
    said = counts or total is not None or zones and infra != "aws" or worker or types
    if plan == "dev":
        _dev_only(job, WORKER_COUNTS[1:], WORKER_COUNT if infra == "vsphere" else
                  f"{WORKER_COUNT} or {WORKER_COUNTS[0]}")
        _dev_only(job, zone_keys[1:], zone_keys[0] if zone_keys else "")
        _dev_only(job, list(AWS_MD_MACHINE_TYPES), "NODE_MACHINE_TYPE")
        counts = {i: c for i, c in counts.items() if i == 0}
        zones = {i: z for i, z in zones.items() if i == 0}
        types = {}
        if 0 in counts and infra == "vsphere":
            # vSphere dev: md-0 takes WORKER_MACHINE_COUNT (vsphere overlay.yaml:57-61).
            job.report(WORKER_COUNTS[0], "not-imported", f"tanzu uses only {WORKER_COUNT} on a "
                       "vSphere dev plan (vsphere v1.5.3/yttcc/overlay.yaml:57-61)")
            counts = {}
        elif 0 in counts and total is not None and total != counts[0]:
            job.report(WORKER_COUNT, "not-imported", f"{WORKER_COUNTS[0]} sets md-0's workers "
                       f"({_VALIDATE}:1485-1489)")
            total = None
    elif counts and len(counts) < PROD_DEPLOYMENTS:
        for index in counts:
            job.report(WORKER_COUNTS[index], "not-imported", "tanzu uses WORKER_MACHINE_COUNT_0 "
                       f"… _2 only when all three are set; it spreads {WORKER_COUNT} "
                       f"({_VALIDATE}:1456-1474)")
        counts = {}
    elif counts and total is not None and total != sum(counts.values()):
        job.report(WORKER_COUNT, "not-imported", f"{', '.join(WORKER_COUNTS)} set the workers "
                   f"({sum(counts.values())} in all)")
        total = None
    if not said:
        return
    region = get_at(merged, ("aws", "region")) if infra == "aws" else None
    defaults = DEFAULT_MACHINE[infra]["worker"]
    built = tanzu_workers(FlatWorkers(infra, plan, total, counts, zones,
                                      region if isinstance(region, str) else None,
                                      {**defaults, **worker}, types, DEFAULT_MACHINE["azure"]["worker"]))
    workers: list[dict[str, Any]] = []
    for md in built:
        entry: dict[str, Any] = {"name": md["name"], "replicas": md["replicas"]}
        # tanzu's own default zone (AWS: the subnet's or the region's, Azure: "1" … "3") is
        # what render gives a machine deployment without one: not written.
        default_zone = tanzu_zone(infra, len(workers), zones if infra == "aws" else {},
                                  region if isinstance(region, str) else None)
        if md["failureDomain"] and md["failureDomain"] != default_zone:
            entry["failureDomain"] = md["failureDomain"]
        machine = {k: v for k, v in md["machine"].items() if v != defaults.get(k)}
        if machine:
            entry["machine"] = machine
        workers.append(entry)
    count_key = (WORKER_COUNTS[0] if counts else WORKER_COUNT if total is not None else None)
    anchor = count_key or next((k for k in [*WORKER_COUNTS, *zone_keys, *worker_keys.values(),
                                            *AWS_MD_MACHINE_TYPES] if job.given(k)), "CLUSTER_NAME")
    job.put(("workers",), workers, anchor)
    for index, md in enumerate(workers):
        md_key = WORKER_COUNTS[index] if index in counts else count_key
        if md_key is not None:
            job.note(("workers", index, "replicas"), md["replicas"], md_key)
            job.origins[("workers", index)] = job.flat.origin(md_key)
        if index in zones and infra != "aws" and "failureDomain" in md:
            job.note(("workers", index, "failureDomain"), zones[index], zone_keys[index])
        for name, value in md.get("machine", {}).items():
            type_key = f"NODE_MACHINE_TYPE_{index}"
            source = type_key if index in types and name in ("instanceType", "vmSize") \
                else worker_keys.get(name)
            if source is not None:
                job.note(("workers", index, "machine", name), value, source)
    for key, index in AWS_MD_MACHINE_TYPES.items():
        if index in types:
            job.used.add(key)
