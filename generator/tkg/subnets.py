"""AWS subnets: ``aws.subnets`` assembled from the indexed flat variables (``AWS_NODE_AZ``,
``AWS_PRIVATE_NODE_CIDR`` … with the suffixes "", ``_1``, ``_2``)."""

from __future__ import annotations

from typing import Any

from generator.problems import Location
from generator.tkg.job import Job
from generator.tkg.variables import AWS_SUBNET_VARS, suffix


def import_subnets(job: Job) -> None:
    """AWS_NODE_AZ, AWS_PRIVATE_NODE_CIDR … with suffixes "", _1, _2 → ``aws.subnets[0..2]``."""
    present = {key: where for key, where in AWS_SUBNET_VARS.items() if job.given(key)}
    if not present:
        return
    count = max(index for index, _ in present.values()) + 1
    subnets: list[dict[str, Any]] = [{} for _ in range(count)]
    job.put(("aws", "subnets"), subnets, min(present, key=lambda k: job.flat.key_at(k)))
    for key, (index, sub) in AWS_SUBNET_VARS.items():
        if key not in present:
            continue
        side_id = f"AWS_{sub[0].upper()}_SUBNET_ID{suffix(index)}" if sub[-1] == "cidr" else None
        if side_id is not None and side_id in present:
            job.report(key, "not-imported", f"with {side_id} the existing subnet's own CIDR applies")
            continue
        job.put(("aws", "subnets", index, *sub), job.text(key), key)
    for index in range(count):
        az = f"AWS_NODE_AZ{suffix(index)}"
        if "az" not in subnets[index]:
            first = [k for k, (i, _) in present.items() if i == index]
            where = job.flat.key_at(first[0]) if first else Location(job.flat.label, 1, 1)
            job.error(where, "missing-key", f"{az} is required: it names the availability zone "
                      f"of subnet {index}", f"add '{az}: <zone>' to the flat config")
