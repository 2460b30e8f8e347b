"""The TKG flat-config variables ``fleetgen import tkg`` knows, and what becomes of each.

Each variable of ``VARIABLES`` maps to one inventory path; the ``SPECIAL`` ones (workers, AWS
subnets, the pool kind …) are assembled by their own code from the indexed variables
(``_0``/``_1``/``_2``). Secrets (``CREDENTIALS``) are refused; ``NOT_IMPORTED`` ones are reported
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.render.catalog import CATALOG
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
# Helper A (issue 15): node sizes, the class and Azure worker AZs, imported by generator/tkg/workers.py.
SIZE_VARS = ("SIZE", "CONTROLPLANE_SIZE", "WORKER_SIZE")
VSPHERE_BASE_MACHINE: dict[str, tuple[str, Kind]] = {
    "VSPHERE_NUM_CPUS": ("numCPUs", "int"), "VSPHERE_MEM_MIB": ("memoryMiB", "int"),
    "VSPHERE_DISK_GIB": ("diskGiB", "int")}
AZURE_ZONES = [f"AZURE_NODE_AZ{suffix(i)}" for i in ZONES]
CLUSTER_CLASS = "CLUSTER_CLASS"

SPECIAL: dict[str, str | None] = {  # handled by their own code; value: the only infrastructure
    "CLUSTER_NAME": None, WORKER_COUNT: None, ENDPOINTSLICE: None, POOL_KIND: "vsphere",
    **{k: None for k in WORKER_COUNTS}, **{k: "vsphere" for k in VSPHERE_ZONES},
    **{k: infra for k, (infra, _, _) in WORKER_MACHINE.items()},
    **{k: None for k in AWS_MD_MACHINE_TYPES}, **{k: "aws" for k in AWS_SUBNET_VARS},
    **{k: None for k in (*SIZE_VARS, CLUSTER_CLASS)}, **{k: "vsphere" for k in VSPHERE_BASE_MACHINE},
    **{k: "azure" for k in AZURE_ZONES},
}
# The variable catalog (generator/render/catalog.py), imported by generator/tkg/catalog.py;
# value: the only infrastructure (None: any). TKG_HTTP_PROXY_ENABLED is checked, not stored.
CATALOG_VARS: dict[str, str | None] = {
    **{e.flat: (e.infra[0] if len(e.infra) == 1 else None) for e in CATALOG},
    "TKG_HTTP_PROXY_ENABLED": None}
KNOWN = sorted({*VARIABLES, *SPECIAL, *CATALOG_VARS})

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
    "NSXT_PASSWORD": "NSX-T credentials belong in a Secret on the cluster (NSXT_SECRET_NAME); "
                     "remove the line",
    "NSXT_VMC_ACCESS_TOKEN": "a VMC token belongs in a Secret, not in git; remove the line",
    "NSXT_CLIENT_CERT_KEY_DATA": "a private key belongs in a Secret, not in git; remove the line",
    "LDAP_BIND_PASSWORD": "identity management is the management cluster's; its bind password "
                          "belongs in its Secret; remove the line",
    "OIDC_IDENTITY_PROVIDER_CLIENT_SECRET": "identity management is the management cluster's; its "
                                            "client secret belongs in its Secret; remove the line",
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
    "NODE_IPAM_IP_POOL_APIVERSION": "fleetgen always writes ipam.cluster.x-k8s.io/v1alpha2 pools",
}
# Management-cluster-only and tanzu-internal variables (docs/tkg-variables.md lists each with
# its source). Paths below are in tanzu-framework release-0.29.
_MANAGEMENT_ONLY = ("management cluster only: it configures the management cluster itself "
                    "(providers/config_default.yaml:56)")
_MHC = ("management cluster only: tanzu writes machine health checks into the ClusterClass "
        "(providers/infrastructure-*/cconly/overlay.yaml), which the management cluster "
        "installs; a workload cluster's value changes nothing")
_IDENTITY = ("management cluster only: Pinniped is set up on the management cluster and its "
             "workload clusters use it")
_INTERNAL = ("set by the tanzu CLI itself, not by users (providers/config_default.yaml:774, "
             "'Internal configuration, not meant to be overridden')")
NOT_IMPORTED.update({
    "ENABLE_CEIP_PARTICIPATION": _MANAGEMENT_ONLY,
    "DEPLOY_TKG_ON_VSPHERE7": _MANAGEMENT_ONLY,
    "ENABLE_TKGS_ON_VSPHERE7": _MANAGEMENT_ONLY,
    **{k: _MHC for k in ("ENABLE_MHC", "ENABLE_MHC_WORKER_NODE", "ENABLE_MHC_CONTROL_PLANE",
                         "MHC_UNKNOWN_STATUS_TIMEOUT", "MHC_FALSE_STATUS_TIMEOUT",
                         "MHC_MAX_UNHEALTHY_CONTROL_PLANE", "MHC_MAX_UNHEALTHY_WORKER_NODE",
                         "NODE_STARTUP_TIMEOUT")},
    **{k: _IDENTITY for k in ("IDENTITY_MANAGEMENT_TYPE", "ENABLE_OIDC", "CERT_DURATION",
                              "CERT_RENEW_BEFORE")},
    **{k: _INTERNAL for k in ("PROVIDER_TYPE", "TKG_CLUSTER_ROLE", "TKG_VERSION",
                              "VSPHERE_VERSION", "TKR_DATA", "KUBERNETES_RELEASE",
                              "TKG_DEFAULT_BOM", "CORE_DNS_IP", "FILTER_BY_ADDON_TYPE")},
    "VIP_NETWORK_INTERFACE": "tanzu 2.2 does not pass it to the ClusterClass (the vSphere overlay "
                             "filters the variable out: providers/infrastructure-vsphere/v1.5.3/"
                             "yttcc/overlay.yaml:141), so the class default eth0 applies",
    **{k: "NSX-T pod routing and the CPI's NSX-T settings are not modelled (they need the NSX-T "
          "credential Secret tanzu writes from NSXT_USERNAME / NSXT_PASSWORD); patch the "
          "VSphereCPIConfig / AntreaConfig with an overlay" for k in (
        "NSXT_POD_ROUTING_ENABLED", "NSXT_ROUTER_PATH", "NSXT_USERNAME", "NSXT_MANAGER_HOST",
        "NSXT_ALLOW_UNVERIFIED_SSL", "NSXT_REMOTE_AUTH", "NSXT_VMC_AUTH_HOST",
        "NSXT_CLIENT_CERT_DATA", "NSXT_ROOT_CA_DATA_B64", "NSXT_SECRET_NAME",
        "NSXT_SECRET_NAMESPACE")},
    "ENABLE_DEFAULT_STORAGE_CLASS": "fleetgen keeps tanzu's default (true): the storage class "
                                    "add-on (providers/yttcb/clusterbootstrap.yaml:102-104)",
    "USE_TOPOLOGY_CATEGORIES": "fleetgen keeps tanzu's default (false) in the VSphereCSIConfig "
                               "(providers/yttcb/clusterbootstrap.yaml:330)",
    "CLUSTER_API_SERVER_PORT": "fleetgen keeps the default API server port 6443 (the port would "
                               "land in variable apiServerPort and spec.clusterNetwork.apiServerPort)",
    "VSPHERE_CONTROL_PLANE_ENDPOINT_PORT": "fleetgen keeps the default API server port 6443",
    **{k: f"PCI passthrough and VM hardware settings (variable {v}) are not modelled" for k, v in (
        ("VSPHERE_WORKER_PCI_DEVICES", "pci.worker.devices"),
        ("VSPHERE_CONTROL_PLANE_PCI_DEVICES", "pci.controlPlane.devices"),
        ("VSPHERE_IGNORE_PCI_DEVICES_ALLOW_LIST", "pci"),
        ("VSPHERE_CONTROL_PLANE_CUSTOM_VMX_KEYS", "controlPlane.machine.customVMXKeys"),
        ("VSPHERE_WORKER_CUSTOM_VMX_KEYS", "worker.machine.customVMXKeys"),
        ("VSPHERE_CONTROL_PLANE_HARDWARE_VERSION", "pci.controlPlane.hardwareVersion"),
        ("VSPHERE_WORKER_HARDWARE_VERSION", "pci.worker.hardwareVersion"))},
    **{k: "class-based Azure clusters take the image the TKr resolves (annotation "
          "run.tanzu.vmware.com/resolve-os-image); tanzu 2.2 reads it only in commented-out "
          "templates (providers/infrastructure-azure/yttcc/azure-overlay.yaml:84,108)" for k in (
        "AZURE_IMAGE_ID", "AZURE_IMAGE_RESOURCE_GROUP", "AZURE_IMAGE_NAME",
        "AZURE_IMAGE_SUBSCRIPTION_ID", "AZURE_IMAGE_GALLERY", "AZURE_IMAGE_PUBLISHER",
        "AZURE_IMAGE_OFFER", "AZURE_IMAGE_SKU", "AZURE_IMAGE_THIRD_PARTY", "AZURE_IMAGE_VERSION")},
})
_AUTOSCALER = ("the cluster autoscaler (its Deployment and the machine "
                                    "deployments' size annotations, providers/yttcc/"
                                    "02_customizations/autoscaler) is not rendered")
NOT_IMPORTED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("AVI_", "NSX ALB is configured on the management cluster (AKO), not per cluster"),
    ("OIDC_", _IDENTITY),
    ("LDAP_", _IDENTITY),
    ("SUPERVISOR_ISSUER_", _IDENTITY),
    ("AUTOSCALER_", _AUTOSCALER),
    ("ENABLE_AUTOSCALER", _AUTOSCALER),
)

TOP_ORDER = ("managementCluster", "namespace", "infrastructure", "plan", "kubernetes", "os",
             "controlPlane", "workers", "network", "vsphere", "aws", "azure", "cni", "ipPools",
             "labels", "ntpServers", "sshAuthorizedKeys", "auditLogging", "podSecurityStandard",
             "proxy", "imageRepository", "additionalImageRegistries")
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
    if key in CATALOG_VARS:
        return CATALOG_VARS[key]
    return None
