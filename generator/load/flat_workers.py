"""The machine deployments as cluster.yaml renders them, and the worker lines of the flat config
(cluster-config.yaml) that make ``tanzu cluster create`` build the same, or what it would build
differently (issue 15, item 1). The model of tanzu's conversion is generator/load/topology.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.problems import plural
from generator.load.model import DEFAULT_MACHINE, ClusterSpec
from generator.load.sizes import resolve
from generator.load.topology import (PROD_DEPLOYMENTS, WINDOWS_CLASS, FlatWorkers, tanzu_workers,
                                     tanzu_zone)


def _suffix(index: int) -> str:
    return "" if index == 0 else f"_{index}"


def _zone_key(infra: str, index: int) -> str | None:
    if infra == "vsphere":
        return f"VSPHERE_AZ_{index}"
    if infra == "azure":
        return f"AZURE_NODE_AZ{_suffix(index)}"
    return None  # AWS zones are the subnets' (AWS_NODE_AZ…), written with the subnets


@dataclass(frozen=True)
class FlatOutput:
    lines: list[tuple[str, Any]]  # the worker variables, in order
    differences: list[str]  # what tanzu would build differently, one sentence each


def rendered_workers(spec: ClusterSpec) -> list[dict[str, Any]]:
    """The machine deployments as cluster.yaml renders them: name, class, replicas,
    failureDomain (tanzu's default zone on AWS and Azure when none is given), the effective
    machine, labels and maxSurge."""
    aws = spec.aws
    zones = {i: s.az for i, s in enumerate(aws.subnets)} if aws else {}
    out = []
    for index, md in enumerate(spec.machine_deployments):
        zone = md.failure_domain
        if zone is None and spec.infrastructure != "vsphere":
            zone = tanzu_zone(spec.infrastructure, index, zones, aws.region if aws else None)
        out.append({"name": md.name, "class": md.class_, "replicas": md.replicas,
                    "failureDomain": zone,
                    "machine": resolve(spec.infrastructure, "worker", spec.machine, md.machine),
                    "labels": md.labels, "maxSurge": md.max_surge})
    return out


def flat_output(spec: ClusterSpec) -> FlatOutput:
    """The worker variables of the flat config for the machine deployments cluster.yaml renders
    (``rendered_workers``) and what ``tanzu cluster create --file`` would build differently."""
    rendered = rendered_workers(spec)
    worker = rendered[0]["machine"]
    infra, plan = spec.infrastructure, spec.plan
    total = sum(md["replicas"] for md in rendered)
    lines: list[tuple[str, Any]] = [("WORKER_MACHINE_COUNT", total)]
    slots = range(min(len(rendered), 1 if plan == "dev" else PROD_DEPLOYMENTS))
    counts: dict[int, int] = {}
    if plan == "prod" and len(rendered) >= PROD_DEPLOYMENTS:
        counts = {i: rendered[i]["replicas"] for i in slots}
        lines += [(f"WORKER_MACHINE_COUNT_{i}", counts[i]) for i in slots]
    zones: dict[int, str] = {}
    for i in slots:
        key, zone = _zone_key(infra, i), rendered[i]["failureDomain"]
        if key is not None and zone:
            zones[i] = zone
            lines.append((key, zone))
    if infra == "aws" and spec.aws is not None:
        zones = {i: s.az for i, s in enumerate(spec.aws.subnets)}
    type_field = {"aws": "instanceType", "azure": "vmSize"}.get(infra)
    types: dict[int, str] = {}
    if plan == "prod" and type_field is not None:
        for i in slots:
            kind = rendered[i]["machine"].get(type_field)
            if i > 0 and kind != worker.get(type_field):
                types[i] = kind
                lines.append((f"NODE_MACHINE_TYPE_{i}", kind))
    windows = infra == "vsphere" and all(md["class"] == WINDOWS_CLASS for md in rendered)
    if windows:
        lines.append(("IS_WINDOWS_WORKLOAD_CLUSTER", True))
    flat = FlatWorkers(infra, plan, total, counts, zones,
                       spec.aws.region if spec.aws is not None else None, worker, types,
                       DEFAULT_MACHINE["azure"]["worker"], windows)
    if plan == "prod" and total < PROD_DEPLOYMENTS:
        # tanzu refuses such a cluster outright (validate.go:1495-1497), as the prod-workers
        # rule does: no flat config builds it.
        return FlatOutput(lines, [])
    return FlatOutput(lines, _differences(tanzu_workers(flat), rendered))


def _describe(mds: list[dict[str, Any]]) -> str:
    return ", ".join(f"{md['name']} ({md['replicas']})" for md in mds)


def _differences(tanzu: list[dict[str, Any]], rendered: list[dict[str, Any]]) -> list[str]:
    out = []
    if [md["name"] for md in tanzu] != [md["name"] for md in rendered]:
        out.append(f"tanzu builds the machine deployments {_describe(tanzu)}, not "
                   f"{_describe(rendered)}")
    for ours in rendered:
        name = ours["name"]
        theirs = next((md for md in tanzu if md["name"] == name), None)
        if ours.get("labels"):
            out.append(f"{name}: tanzu sets no machine deployment labels")
        if ours.get("maxSurge") is not None:
            out.append(f"{name}: tanzu sets no rollout strategy (maxSurge)")
        if theirs is None:
            continue
        if theirs["class"] != ours["class"]:
            out.append(f"{name}: tanzu uses class {theirs['class']}, not {ours['class']}")
        if theirs["replicas"] != ours["replicas"] and len(tanzu) == len(rendered):
            out.append(f"{name}: tanzu builds {plural(theirs['replicas'], 'worker')}, "
                       f"not {ours['replicas']}")
        if theirs["failureDomain"] != ours["failureDomain"]:
            out.append(f"{name}: tanzu uses failure domain {theirs['failureDomain'] or '(none)'}, "
                       f"not {ours['failureDomain'] or '(none)'}")
        if theirs["machine"] != ours["machine"]:
            changed = sorted(k for k in {*theirs["machine"], *ours["machine"]}
                             if theirs["machine"].get(k) != ours["machine"].get(k))
            out.append(f"{name}: tanzu gives it the machine "
                       + ", ".join(f"{k} {theirs['machine'].get(k)}" for k in changed)
                       + ", not " + ", ".join(f"{k} {ours['machine'].get(k)}" for k in changed))
    return out
