"""Workers: the inventory's ``workers`` list assembled from indexed flat variables
(``WORKER_MACHINE_COUNT_0`` … ``_2``, ``VSPHERE_AZ_0`` … ``_2``) and the plan."""

from __future__ import annotations

from typing import Any

from generator.load.model import DEFAULT_MACHINE, PLAN_MACHINE_COUNT
from generator.tkg.job import Job, get_at
from generator.tkg.variables import (AWS_MD_MACHINE_TYPES, VSPHERE_ZONES,
                                     WORKER_COUNT, WORKER_COUNTS, WORKER_MACHINE, infra_of)

def distribute(total: int, count: int) -> list[int]:
    """How the tanzu CLI spreads WORKER_MACHINE_COUNT over the machine deployments of a
    multi-AZ cluster: evenly, the remainder going to the first ones."""
    share, extra = divmod(total, count)
    return [share + (1 if index < extra else 0) for index in range(count)]


def import_workers(job: Job, infra: str | None) -> None:
    """WORKER_MACHINE_COUNT(_0/_1/_2), VSPHERE_AZ_0/1/2 or the AWS AZs, and the worker machine
    size → ``workers``. Nothing is written when the flat config says nothing about workers."""
    if infra is None:
        return
    flat = job.flat
    counts = {i: job.value(k, "int") for i, k in enumerate(WORKER_COUNTS) if job.given(k)}
    total = job.value(WORKER_COUNT, "int") if job.given(WORKER_COUNT) else None
    zones: dict[int, str] = {}
    if infra == "vsphere":
        zones = {i: job.text(k) for i, k in enumerate(VSPHERE_ZONES) if job.given(k)}
    defaults = DEFAULT_MACHINE[infra]["worker"]
    machine: dict[str, Any] = {}
    for key, (only, name, kind) in WORKER_MACHINE.items():
        if only == infra and job.given(key):
            value = job.value(key, kind)
            job.used.add(key)
            # Equal to the ClusterClass default: a machine override would only repeat it.
            if value is not None and value != defaults[name]:
                machine[name] = value
    types_by_md = {i: job.text(k) for k, i in AWS_MD_MACHINE_TYPES.items()
                   if infra == "aws" and job.given(k)}
    if not (counts or total is not None or zones or machine or types_by_md):
        return
    merged = job.merged().data
    plan = str(merged.get("plan")) if merged.get("plan") in PLAN_MACHINE_COUNT else "dev"
    subnets = get_at(merged, ("aws", "subnets")) if infra == "aws" else None
    aws_zones = [s.get("az") for s in subnets if isinstance(s, dict)] if isinstance(
        subnets, list) else []
    if counts:
        size = max(counts) + 1
        for index in range(size):
            if index not in counts:
                job.error(flat.key_at(WORKER_COUNTS[max(counts)]), "missing-key",
                          f"{WORKER_COUNTS[index]} is required with {WORKER_COUNTS[max(counts)]}",
                          "WORKER_MACHINE_COUNT_0 … _2 count the workers of md-0 … md-2")
    elif zones:
        size = max(zones) + 1
    elif infra == "aws" and plan == "prod" and aws_zones:
        size = len(aws_zones)
    else:
        size = 1
    if counts:
        replicas = [counts.get(i) or 0 for i in range(size)]
        if total is not None and total != sum(replicas):
            job.report(WORKER_COUNT, "not-imported", f"{', '.join(WORKER_COUNTS[:size])} set the "
                       f"workers ({sum(replicas)} in all)")
        elif total is not None:
            job.used.add(WORKER_COUNT)
    else:
        replicas = distribute(total if total is not None else PLAN_MACHINE_COUNT[plan], size)
    for key, index in AWS_MD_MACHINE_TYPES.items():
        if index in types_by_md and index >= size:
            job.report(key, "not-imported", f"the cluster has no md-{index}")
    workers: list[dict[str, Any]] = []
    for index in range(size):
        md: dict[str, Any] = {"name": f"md-{index}", "replicas": replicas[index]}
        zone = zones.get(index) if infra == "vsphere" else (
            aws_zones[index] if index < len(aws_zones) else None)
        if zone:
            md["failureDomain"] = zone
        size_here = dict(machine)
        if index in types_by_md:
            if types_by_md[index] != defaults["instanceType"]:
                size_here["instanceType"] = types_by_md[index]
            else:
                size_here.pop("instanceType", None)
        if size_here:
            md["machine"] = size_here
        workers.append(md)
    count_key = (WORKER_COUNTS[min(counts)] if counts else WORKER_COUNT if total is not None
                 else VSPHERE_ZONES[min(zones)] if zones else None)
    anchor = count_key or next(k for k in [*WORKER_MACHINE, *AWS_MD_MACHINE_TYPES]
                               if job.given(k) and infra_of(k) == infra)
    job.put(("workers",), workers, anchor)
    for index in range(size):
        replicas_key = WORKER_COUNTS[index] if index in counts else count_key
        if replicas_key is not None:
            job.note(("workers", index, "replicas"), replicas[index], replicas_key)
            job.origins[("workers", index)] = flat.origin(replicas_key)
        if index in zones:
            job.note(("workers", index, "failureDomain"), zones[index], VSPHERE_ZONES[index])
        for name, value in workers[index].get("machine", {}).items():
            size_key = next((k for k, i in AWS_MD_MACHINE_TYPES.items() if i == index
                             and name == "instanceType" and index in types_by_md), None) or next(
                k for k, (only, n, _) in WORKER_MACHINE.items() if only == infra and n == name)
            job.note(("workers", index, "machine", name), value, size_key)
    for key in AWS_MD_MACHINE_TYPES:
        if key in flat.values and AWS_MD_MACHINE_TYPES[key] < size:
            job.used.add(key)
