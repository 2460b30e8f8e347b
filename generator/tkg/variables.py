"""The TKG flat-config variables ``fleetgen import tkg`` knows, and what becomes of each.

Each variable of ``VARIABLES`` maps to one inventory path; the ``SPECIAL`` ones (workers, AWS
subnets, the pool kind …) are assembled by their own code from the indexed variables
(``_0``/``_1``/``_2``). Secrets (``CREDENTIALS``) are refused; ``NOT_IMPORTED`` ones are reported
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.yaml.load import Path_

Kind = Literal["text", "int", "bool", "list", "plan", "family", "provider"]


@dataclass(frozen=True)
class Var:
    """A flat variable that maps to one inventory path."""

    path: Path_
    kind: Kind = "text"
    infra: str | None = None  # the only infrastructure the variable applies to


def _v(*path: str, kind: Kind = "text", infra: str | None = None) -> Var:
    return Var(tuple(path), kind, infra)


# In the order the inventory file lists them (nested keys are reordered by the model anyway).
VARIABLES: dict[str, Var] = {
    "NAMESPACE": _v("namespace"),
    "INFRASTRUCTURE_PROVIDER": _v("infrastructure"),
    "CLUSTER_PLAN": _v("plan", kind="plan"),
    "KUBERNETES_VERSION": _v("kubernetes", "version"),
    "OS_NAME": _v("os", "name"),
    "OS_VERSION": _v("os", "version"),
    "OS_ARCH": _v("os", "arch"),
    "CONTROL_PLANE_MACHINE_COUNT": _v("controlPlane", "replicas", kind="int"),
    "VSPHERE_CONTROL_PLANE_ENDPOINT": _v("controlPlane", "endpoint", infra="vsphere"),
    "AVI_CONTROL_PLANE_HA_PROVIDER": _v("controlPlane", "endpointProvider", kind="provider",
                                        infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_NUM_CPUS": _v("controlPlane", "machine", "numCPUs", kind="int",
                                         infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_MEM_MIB": _v("controlPlane", "machine", "memoryMiB", kind="int",
                                        infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_DISK_GIB": _v("controlPlane", "machine", "diskGiB", kind="int",
                                         infra="vsphere"),
    "CONTROL_PLANE_MACHINE_TYPE": _v("controlPlane", "machine", "instanceType", infra="aws"),
    "AWS_CONTROL_PLANE_OS_DISK_SIZE_GIB": _v("controlPlane", "machine", "rootVolumeGiB",
                                             kind="int", infra="aws"),
    "AZURE_CONTROL_PLANE_MACHINE_TYPE": _v("controlPlane", "machine", "vmSize", infra="azure"),
    "AZURE_CONTROL_PLANE_OS_DISK_SIZE_GIB": _v("controlPlane", "machine", "osDiskGiB", kind="int",
                                               infra="azure"),
    "TKG_IP_FAMILY": _v("network", "ipFamily", kind="family"),
    "CLUSTER_CIDR": _v("network", "pods", kind="list"),
    "SERVICE_CIDR": _v("network", "services", kind="list"),
    "NODE_IPAM_IP_POOL_NAME": _v("network", "nodes", "ipPool", infra="vsphere"),
    "CONTROL_PLANE_NODE_NAMESERVERS": _v("network", "nameservers", "controlPlane", kind="list"),
    "WORKER_NODE_NAMESERVERS": _v("network", "nameservers", "worker", kind="list"),
    "CONTROL_PLANE_NODE_SEARCH_DOMAINS": _v("network", "searchDomains", "controlPlane",
                                            kind="list"),
    "WORKER_NODE_SEARCH_DOMAINS": _v("network", "searchDomains", "worker", kind="list"),
    "VSPHERE_SERVER": _v("vsphere", "server", infra="vsphere"),
    "VSPHERE_DATACENTER": _v("vsphere", "datacenter", infra="vsphere"),
    "VSPHERE_DATASTORE": _v("vsphere", "datastore", infra="vsphere"),
    "VSPHERE_FOLDER": _v("vsphere", "folder", infra="vsphere"),
    "VSPHERE_RESOURCE_POOL": _v("vsphere", "resourcePool", infra="vsphere"),
    "VSPHERE_NETWORK": _v("vsphere", "network", infra="vsphere"),
    "VSPHERE_TEMPLATE": _v("vsphere", "template", infra="vsphere"),
    "VSPHERE_STORAGE_POLICY_ID": _v("vsphere", "storagePolicyID", infra="vsphere"),
    "VSPHERE_TLS_THUMBPRINT": _v("vsphere", "tlsThumbprint", infra="vsphere"),
    "AWS_REGION": _v("aws", "region", infra="aws"),
    "AWS_SSH_KEY_NAME": _v("aws", "sshKeyName", infra="aws"),
    "AWS_IDENTITY_REF_KIND": _v("aws", "identityRef", "kind", infra="aws"),
    "AWS_IDENTITY_REF_NAME": _v("aws", "identityRef", "name", infra="aws"),
    "AWS_VPC_ID": _v("aws", "vpc", "existingID", infra="aws"),
    "AWS_VPC_CIDR": _v("aws", "vpc", "cidr", infra="aws"),
    "BASTION_HOST_ENABLED": _v("aws", "bastion", kind="bool", infra="aws"),
    "AZURE_LOCATION": _v("azure", "location", infra="azure"),
    "AZURE_SUBSCRIPTION_ID": _v("azure", "subscriptionID", infra="azure"),
    "AZURE_RESOURCE_GROUP": _v("azure", "resourceGroup", infra="azure"),
    "AZURE_SSH_PUBLIC_KEY_B64": _v("azure", "sshPublicKey", infra="azure"),
    "AZURE_IDENTITY_NAME": _v("azure", "identityRef", "name", infra="azure"),
    "AZURE_IDENTITY_NAMESPACE": _v("azure", "identityRef", "namespace", infra="azure"),
    "AZURE_ENVIRONMENT": _v("azure", "environment", infra="azure"),
    "AZURE_VNET_NAME": _v("azure", "vnet", "name", infra="azure"),
    "AZURE_VNET_CIDR": _v("azure", "vnet", "cidrBlocks", kind="list", infra="azure"),
    "AZURE_VNET_RESOURCE_GROUP": _v("azure", "vnet", "resourceGroup", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_NAME": _v("azure", "controlPlaneSubnet", "name", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_CIDR": _v("azure", "controlPlaneSubnet", "cidr", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_SECURITY_GROUP": _v("azure", "controlPlaneSubnet", "securityGroup",
                                                    infra="azure"),
    "AZURE_NODE_SUBNET_NAME": _v("azure", "workerSubnet", "name", infra="azure"),
    "AZURE_NODE_SUBNET_CIDR": _v("azure", "workerSubnet", "cidr", infra="azure"),
    "AZURE_NODE_SUBNET_SECURITY_GROUP": _v("azure", "workerSubnet", "securityGroup",
                                           infra="azure"),
    "CNI": _v("cni"),
}

# Worker machine size: one cluster-wide value in the flat config, a per-MachineDeployment
# ``machine`` in the inventory. (variable → infrastructure, machine field, kind)
WORKER_MACHINE: dict[str, tuple[str, str, Kind]] = {
    "VSPHERE_WORKER_NUM_CPUS": ("vsphere", "numCPUs", "int"),
    "VSPHERE_WORKER_MEM_MIB": ("vsphere", "memoryMiB", "int"),
    "VSPHERE_WORKER_DISK_GIB": ("vsphere", "diskGiB", "int"),
    "NODE_MACHINE_TYPE": ("aws", "instanceType", "text"),
    "AWS_NODE_OS_DISK_SIZE_GIB": ("aws", "rootVolumeGiB", "int"),
    "AZURE_NODE_MACHINE_TYPE": ("azure", "vmSize", "text"),
    "AZURE_NODE_OS_DISK_SIZE_GIB": ("azure", "osDiskGiB", "int"),
}
ZONES = range(3)  # md-0 … md-2, and AWS subnets 0 … 2 (TKG's _1 / _2 suffixes)


def suffix(index: int) -> str:
    return "" if index == 0 else f"_{index}"


WORKER_COUNT = "WORKER_MACHINE_COUNT"
WORKER_COUNTS = [f"WORKER_MACHINE_COUNT_{i}" for i in ZONES]
VSPHERE_ZONES = [f"VSPHERE_AZ_{i}" for i in ZONES]
AWS_MD_MACHINE_TYPES = {f"NODE_MACHINE_TYPE_{i}": i for i in (1, 2)}
AWS_SUBNET: dict[str, tuple[str, ...]] = {"AWS_NODE_AZ": ("az",),
                                          "AWS_PRIVATE_NODE_CIDR": ("private", "cidr"),
                                          "AWS_PUBLIC_NODE_CIDR": ("public", "cidr"),
                                          "AWS_PRIVATE_SUBNET_ID": ("private", "id"),
                                          "AWS_PUBLIC_SUBNET_ID": ("public", "id")}
AWS_SUBNET_VARS = {f"{base}{suffix(i)}": (i, sub) for i in ZONES for base, sub in AWS_SUBNET.items()}
POOL_KIND = "NODE_IPAM_IP_POOL_KIND"
ENDPOINTSLICE = "ANTREA_ENDPOINTSLICE"

SPECIAL: dict[str, str | None] = {  # handled by their own code; value: the only infrastructure
    "CLUSTER_NAME": None, WORKER_COUNT: None, ENDPOINTSLICE: None, POOL_KIND: "vsphere",
    **{k: None for k in WORKER_COUNTS}, **{k: "vsphere" for k in VSPHERE_ZONES},
    **{k: infra for k, (infra, _, _) in WORKER_MACHINE.items()},
    **{k: "aws" for k in AWS_MD_MACHINE_TYPES}, **{k: "aws" for k in AWS_SUBNET_VARS},
}
KNOWN = sorted({*VARIABLES, *SPECIAL})

# Secrets are refused outright: a credential in git is a leak, whatever happens next.
_AWS_SECRET = ("reference an identity on the management cluster with AWS_IDENTITY_REF_KIND / "
               "AWS_IDENTITY_REF_NAME (aws.identityRef) and remove the line")
CREDENTIALS: dict[str, str] = {
    "VSPHERE_PASSWORD": "vCenter credentials belong in a Secret on the management cluster "
                        "(the CAPV identity the cluster uses); remove the line",
    "AZURE_CLIENT_SECRET": "reference an AzureClusterIdentity on the management cluster with "
                           "AZURE_IDENTITY_NAME / AZURE_IDENTITY_NAMESPACE (azure.identityRef) and "
                           "remove the line",
    "AWS_SECRET_ACCESS_KEY": _AWS_SECRET,
    "AWS_SESSION_TOKEN": _AWS_SECRET,
    "AWS_ACCESS_KEY_ID": _AWS_SECRET,
    "AWS_B64ENCODED_CREDENTIALS": _AWS_SECRET,
    "AVI_PASSWORD": "NSX ALB credentials belong in the management cluster's AKO Secret; "
                    "remove the line",
}
ENCODED_HINT = ("the tanzu CLI writes secrets as <encoded:…>; keep the secret in a Secret on the "
                "management cluster, reference it (identityRef) and remove the line")

_MANAGEMENT_CREDENTIALS = "belongs to the management cluster's credentials, not to a workload cluster"
NOT_IMPORTED: dict[str, str] = {
    "VSPHERE_USERNAME": _MANAGEMENT_CREDENTIALS,
    "AZURE_CLIENT_ID": _MANAGEMENT_CREDENTIALS,
    "AZURE_TENANT_ID": _MANAGEMENT_CREDENTIALS,
    "AWS_PROFILE": _MANAGEMENT_CREDENTIALS,
    "VSPHERE_INSECURE": "fleetgen always pins vCenter by VSPHERE_TLS_THUMBPRINT",
    "VSPHERE_SSH_AUTHORIZED_KEY": "fleetgen does not manage node SSH keys on vSphere",
    "NODE_IPAM_IP_POOL_APIVERSION": "fleetgen always writes ipam.cluster.x-k8s.io/v1alpha2 pools",
}
NOT_IMPORTED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("AVI_", "NSX ALB is configured on the management cluster (AKO), not per cluster"),
    ("TKG_HTTP_PROXY", "fleetgen does not configure proxies"),
    ("TKG_NO_PROXY", "fleetgen does not configure proxies"),
)

TOP_ORDER = ("managementCluster", "namespace", "infrastructure", "plan", "kubernetes", "os",
             "controlPlane", "workers", "network", "vsphere", "aws", "azure", "cni", "ipPools")
INFRA_PREFIXES = {"VSPHERE_": "vsphere", "AWS_": "aws", "AZURE_": "azure"}


REQUIRED = {"vsphere": ("server", "datacenter", "datastore", "folder", "resourcePool"),
            "aws": ("region", "sshKeyName"),
            "azure": ("location", "subscriptionID", "sshPublicKey")}


def infra_of(key: str) -> str | None:
    """The only infrastructure a variable applies to (None: any)."""
    if key in VARIABLES:
        return VARIABLES[key].infra
    if key in SPECIAL:
        return SPECIAL[key]
    return None
