"""Stage 3, one cluster at a time: the checks the tanzu CLI makes before it creates a workload
cluster that fleetgen's other rules do not cover (issue 15, item 8), and the shape rules of what
fleetgen accepts because tanzu accepts it (item 9).

Each rule cites where tanzu makes the check: ``tanzu-framework-release-0.29 <path>:<line>``
(../shared/reference/), or the TKG 2.4 docs (../shared/seed/, ../shared/docs/domain.md) where
those speak. ``PARITY_RULES`` is appended to ``cluster_rules.CLUSTER_RULES``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Callable, Iterator

from generator.check.fleet import Cluster
from generator.load.infra import AWS_PROD_SUBNETS
from generator.problems import Problem, plural

# tkg/client/validate.go:1673-1691 CheckClusterNameFormat, the Azure branch (1676-1678). The other
# branch's rule is the DNS label every cluster name already is (model_base.Name), except that tanzu
# also wants two characters at least, which fleetgen does not check (single-letter names are
# valid Cluster API names and common in its tests).
AZURE_CLUSTER_NAME = re.compile(r"[a-z][a-z0-9-.]{0,42}[a-z0-9]")
AZURE_NAME_MAX = 44
# tkg/client/cluster.go:959-993 and validate.go:1910-1912: AKO fails to deploy for a longer name
# (constants.AkoMaxAllowedClusterNameLen; the doc comment at cluster.go:959 says 25).
AKO_MAX_NAME = 25


def azure_cluster_name(c: Cluster) -> Iterator[Problem]:
    """tanzu's Azure cluster-name rule (validate.go:1676-1678, an Azure resource-name limit): a
    letter first and at most 44 characters."""
    name = c.spec.name
    if c.spec.infrastructure != "azure" or AZURE_CLUSTER_NAME.fullmatch(name) or (
            len(name) == 1 and name.isalpha()):  # one letter: see the two-character note above
        return
    yield c.problem(("name",), "cluster-name",
                    f"cluster name '{name}': on Azure a cluster name starts with a letter and has "
                    f"at most {AZURE_NAME_MAX} characters (the tanzu CLI refuses it: it must match "
                    f"{AZURE_CLUSTER_NAME.pattern})", "rename the file (or set 'name:')")


def ako_name_length(c: Cluster) -> Iterator[Problem]:
    """AKO (NSX ALB) cannot serve a cluster whose name is longer than 25 characters
    (cluster.go:990-992). tanzu checks it whenever the management cluster runs AKO; fleetgen
    knows that only when the cluster takes its endpoint from NSX ALB."""
    name = c.spec.name
    if c.spec.control_plane.endpoint_provider == "nsx-alb" and len(name) > AKO_MAX_NAME:
        yield c.problem(("name",), "cluster-name",
                        f"cluster name '{name}' has {len(name)} characters; with NSX ALB (AKO) "
                        f"at most {AKO_MAX_NAME} are allowed (AKO fails to deploy otherwise)",
                        "rename the file (or set 'name:')")


def aws_zone_in_region(c: Cluster) -> Iterator[Problem]:
    """An AWS availability zone is named after its region (validate.go:331-335 checks
    AWS_NODE_AZ; fleetgen checks every subnet, since a zone of another region is never valid)."""
    aws = c.spec.aws
    if aws is None:
        return
    for index, subnet in enumerate(aws.subnets):
        if subnet.az and not subnet.az.startswith(aws.region):
            yield c.problem(("aws", "subnets", index, "az"), "zone-outside-region",
                            f"availability zone {subnet.az} is not in region {aws.region}",
                            f"use a zone of {aws.region} ({aws.region}a, {aws.region}b …)")


def aws_existing_vpc(c: Cluster) -> Iterator[Problem]:
    """In an existing VPC tanzu creates no subnets: a prod cluster needs three given subnets
    (validate.go:1028-1039 asks for AWS_PRIVATE_SUBNET_ID_1 and _2), and once subnet 0 has a
    public subnet ID every subnet needs one, while without it none may have one
    (validate.go:1041-1065)."""
    aws = c.spec.aws
    if aws is None or not aws.vpc.existing_id:
        return
    wanted = AWS_PROD_SUBNETS if c.spec.plan == "prod" else 1
    if len(aws.subnets) < wanted:
        yield c.problem(("aws", "subnets"), "prod-zones",
                        f"the prod plan in an existing VPC needs {plural(wanted, 'subnet')}, not "
                        f"{len(aws.subnets)}", "tanzu creates no subnets in an existing VPC "
                        "(aws.vpc.existingID): list the three it uses")
    public = bool(aws.subnets[0].public.id)
    for index, subnet in enumerate(aws.subnets[:wanted]):
        if index and bool(subnet.public.id) != public:
            rule = "needs a public.id like" if public else "cannot have a public.id without"
            yield c.problem(("aws", "subnets", index, "public"), "subnet-id-required",
                            f"subnet {index} {rule} subnet 0's", key=True)


def aws_dev_subnets(c: Cluster) -> Iterator[Problem]:
    """A dev cluster with more than one subnet: cluster.yaml has them all, but tanzu reads the
    _1 / _2 subnet variables of cluster-config.yaml for the prod plan only
    (providers/yttcc/lib/config_variable_association.star:610)."""
    aws = c.spec.aws
    if aws is not None and c.spec.plan == "dev" and len(aws.subnets) > 1:
        yield c.problem(("aws", "subnets"), "flat-inexpressible",
                        f"tanzu cluster create --file cluster-config.yaml would build subnet 0 only: "
                        f"the dev plan reads no AWS_NODE_AZ_1 / _2 (cluster.yaml has "
                        f"{len(aws.subnets)} subnets)", "use plan: prod, or one subnet",
                        severity="warning")


def azure_ssh_key(c: Cluster) -> Iterator[Problem]:
    """AZURE_SSH_PUBLIC_KEY_B64 must be standard base64 (validate.go:283-293; Go's decoder skips
    line breaks)."""
    azure = c.spec.azure
    if azure is None:
        return
    text = azure.ssh_public_key.replace("\r", "").replace("\n", "")
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        yield c.problem(("azure", "sshPublicKey"), "invalid-value",
                        "sshPublicKey is not base64: it is AZURE_SSH_PUBLIC_KEY_B64, the public key "
                        "base64-encoded", "encode it: base64 -w0 < ~/.ssh/id_rsa.pub")


def vsphere_storage(c: Cluster) -> Iterator[Problem]:
    """A datastore or a storage policy, at least one (validate.go:920-928)."""
    vsphere = c.spec.vsphere
    if vsphere is not None and not vsphere.datastore and not vsphere.storage_policy_id:
        yield c.problem(("vsphere",), "missing-key", "vSphere clusters need vsphere.datastore or "
                        "vsphere.storagePolicyID (VSPHERE_DATASTORE / VSPHERE_STORAGE_POLICY_ID)",
                        key=True)


def aws_identity_name(c: Cluster) -> Iterator[Problem]:
    """A kind without a name is ignored: the class sets an identity only when it has a name
    (providers/infrastructure-aws/v2.0.2/cconly/base.yaml:654)."""
    aws = c.spec.aws
    if aws is not None and aws.identity_ref is not None and aws.identity_ref.name is None:
        yield c.problem(("aws", "identityRef"), "identity-ignored",
                        "identityRef without a name is ignored: the cluster uses CAPA's default "
                        "controller identity", "add its name, or remove identityRef", key=True,
                        severity="warning")


def management_family(c: Cluster) -> Iterator[Problem]:
    """An IPv6 workload cluster needs an IPv6 management cluster (the TKG 2.4 docs deploy IPv6
    workload clusters from an IPv6 management cluster: ../shared/seed/000_5e1b867fe812736d.txt:248),
    and a dual-stack one a dual-stack management cluster. The 2.2 source has no such check
    (tkg/client/validate.go:1693-1731 configureAndValidateIPFamilyConfiguration checks only the
    workload cluster's own CIDRs and flags). Checked only when ``managementClusters.<name>``
    declares the management cluster: fleetgen does not guess its family."""
    spec = c.spec
    own = spec.management_clusters.get(spec.management_cluster)
    family = spec.network.ip_family
    if own is None or family == "ipv4":
        return
    dual = spec.network.dual_stack
    if (own.ip_family == family) or (dual and "," in own.ip_family):
        return
    where = c.inventory.locate(("managementClusters", spec.management_cluster, "ipFamily"))
    what = "a dual-stack" if dual else "an IPv6"
    yield c.problem(("network", "ipFamily"), "family-mismatch",
                    f"{what} workload cluster needs {what} management cluster; "
                    f"'{spec.management_cluster}' is {own.ip_family} ({where})",
                    "create it on a management cluster of its family")


PARITY_RULES: tuple[Callable[[Cluster], Iterator[Problem]], ...] = (
    azure_cluster_name, ako_name_length, aws_zone_in_region, aws_existing_vpc, aws_dev_subnets,
    azure_ssh_key, vsphere_storage, aws_identity_name, management_family,
)
