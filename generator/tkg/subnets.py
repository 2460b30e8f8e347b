"""AWS subnets: ``aws.subnets`` assembled from the indexed flat variables (``AWS_NODE_AZ``,
``AWS_PRIVATE_NODE_CIDR`` … with the suffixes "", ``_1``, ``_2``), read as the tanzu CLI reads
them (tanzu-framework-release-0.29; paths below are relative to it):

* every variable is optional: an unset AWS_NODE_AZ(_1/_2) is ``<region>a`` (``b``, ``c``)
  (providers/infrastructure-aws/v2.0.2/yttcc/overlay.yaml:11-13, providers/yttcc/lib/helpers.star:
  129-135), an unset node CIDR the default of providers/config_default.yaml:268-274, and a prod
  cluster in a new VPC always gets three subnets (config_variable_association.star:610-670) — the
  model fills these in (generator/load/infra.py AWS), so the inventory keeps only what was said;
* the dev plan reads subnet 0 only (config_variable_association.star:610: the _1/_2 variables
  only for prodcc);
* with AWS_VPC_ID the CLI blanks every node CIDR (tkg/client/validate.go:1002-1009) and uses the
  subnet IDs alone, so an existing VPC with only private subnet IDs has no public subnet.
"""

from __future__ import annotations

from typing import Any

from generator.tkg.job import Job, get_at
from generator.tkg.variables import AWS_SUBNET_VARS, suffix


def import_subnets(job: Job) -> None:
    """AWS_NODE_AZ, AWS_PRIVATE_NODE_CIDR … with suffixes "", _1, _2 → ``aws.subnets[0..2]``."""
    present = {key: where for key, where in AWS_SUBNET_VARS.items() if job.given(key)}
    if not present:
        return
    merged = job.merged().data
    prod = merged.get("plan") == "prod"
    existing_vpc = bool(get_at(merged, ("aws", "vpc", "existingID")))
    for key, (index, sub) in list(present.items()):
        if index > 0 and not prod:
            job.report(key, "not-imported", "the dev plan builds subnet 0 only (tanzu reads the "
                       "_1 / _2 subnet variables for the prod plan alone)")
            del present[key]
        elif existing_vpc and sub[-1] == "cidr":
            job.report(key, "not-imported", "with AWS_VPC_ID tanzu blanks the node CIDRs and uses "
                       "the existing subnets (AWS_*_SUBNET_ID)")
            del present[key]
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
