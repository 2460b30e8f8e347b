"""Stage 2: the strict inventory model (pydantic v2) and the effective values derived from it.

Every key is camelCase in YAML. Models are strict (no ``"3"`` for 3, no 1.1 for ``"1.10"``) and
forbid unknown keys. Cross-field rules that need a location live in ``fleetchecks``; this module
only knows the shape of one cluster and its defaults.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Discriminator, Field, Tag

from generator.load.addons import Antrea
from generator.load.grammar import AddressEntry, NetworkName, SearchDomain
from generator.load.infra import (AWS, AWSVPC, Azure, AWSRef, AWSSubnet,  # noqa: F401
                                  AzureIdentityRef, AzureSubnet, AzureVNet, IdentityRef, VSphere)
from generator.load.kube import Annotations, Count, Int32, Labels, Size, WorkerLabels
from generator.load.model_base import CIDR, IP, Endpoint, Model, Name, _dns_label  # noqa: F401
from generator.load.topology import FlatWorkers, tanzu_workers
from generator.load.options import (CertificateRotation, ExtraArgs, ImageRegistry, ImageRepository,
                                    NTPServer, PodSecurityStandard, Proxy, SSHPublicKey)
from generator.net.ip import IPNetwork, family_of, parse_ip

Infrastructure = Literal["vsphere", "aws", "azure"]
IPFamily = Literal["ipv4", "ipv6", "ipv4,ipv6", "ipv6,ipv4"]
PoolKind = Literal["InClusterIPPool", "GlobalInClusterIPPool"]
POOL_KINDS: tuple[str, ...] = get_args(PoolKind)

# Defaults straight from the TKG 2.4 flat-config reference (domain.md §4).
DEFAULT_PODS = {"ipv4": "100.96.0.0/11", "ipv6": "fd00:100:96::/48"}
DEFAULT_SERVICES = {"ipv4": "100.64.0.0/13", "ipv6": "fd00:100:64::/108"}
# The class without CLUSTER_CLASS: v1.1.1 in TKG 2.4 (../shared/docs/domain.md:73, 93); TKG 2.2 built
# tkg-<infra>-default-<*_CLUSTER_CLASS_VERSION> = v1.0.0 (tanzu-framework-release-0.29
# providers/config_default.yaml:798-800, providers/infrastructure-aws/v2.0.2/cconly/base.yaml:8).
DEFAULT_CLASS = {
    "vsphere": "tkg-vsphere-default-v1.1.1",
    "aws": "tkg-aws-default-v1.1.1",
    "azure": "tkg-azure-default-v1.1.1",
}
PLAN_MACHINE_COUNT = {"dev": 1, "prod": 3}
# Machine sizes the TKG ClusterClasses default to (clusterclass-variables.yaml).
VSPHERE_MACHINE = {"controlPlane": {"numCPUs": 2, "diskGiB": 40, "memoryMiB": 8192},
                   "worker": {"numCPUs": 2, "diskGiB": 40, "memoryMiB": 4096}}
AWS_MACHINE = {"controlPlane": {"instanceType": "t3.large", "rootVolumeGiB": 80},
               "worker": {"instanceType": "m5.large", "rootVolumeGiB": 80}}
AZURE_MACHINE = {"controlPlane": {"vmSize": "Standard_D2s_v3", "osDiskGiB": 128},
                 "worker": {"vmSize": "Standard_D2s_v3", "osDiskGiB": 128}}
DEFAULT_MACHINE: dict[str, dict[str, dict[str, Any]]] = {
    "vsphere": VSPHERE_MACHINE, "aws": AWS_MACHINE, "azure": AZURE_MACHINE}


def _some_workers(value: list[Any]) -> list[Any]:
    # tanzu refuses a cluster without workers unless single-node clusters are enabled, which
    # fleetgen does not model (tanzu-framework tkg/client/cluster.go, "Worker count cannot be 0").
    if not value:
        raise ValueError("a cluster needs at least one worker pool (tanzu refuses a cluster "
                         "without workers); leave 'workers' out for the plan's default")
    return value


def _odd_replicas(value: int) -> int:
    if value < 1 or value % 2 == 0:
        raise ValueError(f"control-plane replicas must be odd and at least 1 (etcd quorum), not {value}")
    return value


def _flag_value(value: str) -> str:
    if value not in ("true", "false"):
        raise ValueError(f"a feature flag is the string \"true\" or \"false\", not '{value}'")
    return value


def _plugin(value: str) -> str:
    if value not in FEATURE_PLUGINS:
        raise ValueError(f"'{value}' is not a tanzu feature plugin; use one of: "
                         f"{', '.join(FEATURE_PLUGINS)}")
    return value


FEATURE_PLUGINS = ("cluster", "management-cluster", "global", "package")
FeaturePlugin = Annotated[str, AfterValidator(_plugin)]
FlagValue = Annotated[str, AfterValidator(_flag_value)]


def _flag_name(value: str) -> str:
    if not _FLAG_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a feature flag name (lower-case letters, digits, "
                         "'.' and '-')")
    return value


_FLAG_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
FlagName = Annotated[str, AfterValidator(_flag_name)]


# --- pools -----------------------------------------------------------------------------------

class IPPool(Model):
    """A node IP pool (ipam.cluster.x-k8s.io/v1alpha2). Entries: an IP, ``a-b`` or a CIDR."""

    kind: PoolKind = "InClusterIPPool"
    addresses: list[str]
    prefix: int
    gateway: str | None = None
    excluded_addresses: list[str] | None = None
    allocate_reserved_ip_addresses: bool = Field(default=False, alias="allocateReservedIPAddresses")
    node_network: NetworkName | None = Field(default=None, description=(
        "the node network (L2 segment) the pool is on; pools on one node network are checked "
        "for overlap even across management clusters, and against its DHCP ranges"))


class NodeNetworkSpec(Model):
    """A node network (VLAN / port group) shared by clusters: its subnet and its DHCP scopes."""

    cidr: CIDR | None = None
    dhcp_ranges: list[AddressEntry] = Field(default_factory=list)


def _mac(value: str) -> str:
    if not _MAC.fullmatch(value):
        raise ValueError(f"'{value}' is not a MAC address (six hex pairs separated by ':')")
    return value.lower()


MAC = Annotated[str, AfterValidator(_mac)]
_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")  # fullmatch: `$` takes a final "\n"


class DHCPReservation(Model):
    """A fixed lease the DHCP server keeps for one node, so its address survives downtime."""

    node: Name
    mac: MAC
    ip: IP


# --- machines --------------------------------------------------------------------------------

class Machine(Model):
    """Machine size. vSphere: numCPUs/memoryMiB/diskGiB; AWS: instanceType/rootVolumeGiB;
    Azure: vmSize/osDiskGiB."""

    num_cpus: Size | None = Field(default=None, alias="numCPUs")
    memory_mib: Size | None = Field(default=None, alias="memoryMiB")
    disk_gib: Size | None = Field(default=None, alias="diskGiB")
    instance_type: str | None = None
    root_volume_gib: Size | None = Field(default=None, alias="rootVolumeGiB")
    vm_size: str | None = None
    os_disk_gib: Size | None = Field(default=None, alias="osDiskGiB")
    # tanzu's SIZE / CONTROLPLANE_SIZE / WORKER_SIZE: generator/load/sizes.py (issue 15, helper A)
    size: str | None = Field(default=None, min_length=1)


MACHINE_FIELDS: dict[str, tuple[str, ...]] = {
    "vsphere": ("size", "numCPUs", "memoryMiB", "diskGiB"),
    "aws": ("size", "instanceType", "rootVolumeGiB"),
    "azure": ("size", "vmSize", "osDiskGiB"),
}


class Kubernetes(Model):
    version: str = Field(pattern=r"^v\d+\.\d+\.\d+(\+[0-9A-Za-z.\-]+)?$")
    class_: str | None = Field(default=None, alias="class")
    extra_args: ExtraArgs | None = None  # the variable catalog (issue 15, helper B)
    api_server_event_rate_limit_config: str | None = Field(default=None, description=(
        "the kube-apiserver EventRateLimit admission config, base64 "
        "(APISERVER_EVENT_RATE_LIMIT_CONF_BASE64)"))


class OS(Model):
    name: Literal["ubuntu", "photon", "amazon", "rhel", "windows"] = "ubuntu"
    version: str = "22.04"
    arch: Literal["amd64", "arm64"] = "amd64"


class ControlPlane(Model):
    replicas: Annotated[Int32, AfterValidator(_odd_replicas)] | None = None
    endpoint: Endpoint | None = None
    endpoint_provider: Literal["kube-vip", "nsx-alb"] = "kube-vip"
    vip: IP | None = Field(default=None, description=(
        "the VIP NSX ALB assigned to an FQDN endpoint; rendered as a DNS A record"))
    machine: Machine | None = None
    certificate_rotation: CertificateRotation | None = None  # the variable catalog
    node_labels: Labels | None = None  # CONTROL_PLANE_NODE_LABELS


class MachineDeployment(Model):
    name: Name
    replicas: Count
    class_: str = Field(default="tkg-worker", alias="class")
    failure_domain: str | None = None
    machine: Machine | None = None
    max_surge: Count | None = None
    labels: WorkerLabels = Field(default_factory=dict)


# --- network ---------------------------------------------------------------------------------

class PerRole(Model):
    control_plane: list[str] = Field(default_factory=list)
    worker: list[str] = Field(default_factory=list)


class SearchDomains(Model):
    control_plane: list[SearchDomain] = Field(default_factory=list)
    worker: list[SearchDomain] = Field(default_factory=list)


def _pool_member(value: object) -> str:
    return "inline" if isinstance(value, dict | IPPool) else "name"


PoolRef = Annotated[Annotated[str, Tag("name")] | Annotated[IPPool, Tag("inline")],
                    Discriminator(_pool_member)]


class NodeNetwork(Model):
    """``ipPool`` names a declared pool, or declares one inline (named ``<cluster>-pool``)."""

    ip_pool: PoolRef | None = None
    node_network: NetworkName | None = Field(default=None,
                                             description="the nodeNetworks entry nodes are on")
    dhcp_reservations: list[DHCPReservation] = Field(default_factory=list)


class Network(Model):
    ip_family: IPFamily = "ipv4"
    pods: list[CIDR] | None = None
    services: list[CIDR] | None = None
    nodes: NodeNetwork = Field(default_factory=NodeNetwork)
    nameservers: PerRole = Field(default_factory=PerRole)
    search_domains: SearchDomains = Field(default_factory=SearchDomains)

    @property
    def families(self) -> list[str]:
        return self.ip_family.split(",")

    @property
    def pod_cidrs(self) -> list[str]:
        return self.pods if self.pods is not None else [DEFAULT_PODS[f] for f in self.families]

    @property
    def service_cidrs(self) -> list[str]:
        if self.services is not None:
            return self.services
        return [DEFAULT_SERVICES[f] for f in self.families]

    @property
    def dual_stack(self) -> bool:
        return len(self.families) == 2

    @property
    def family_stated(self) -> bool:
        """Whether the inventory states ``ipFamily`` (TKG_IP_FAMILY given): tanzu writes the CPI's
        ipFamily only then, even for ipv4 (clusterbootstrap.yaml:278-280). Any family other than
        the default ipv4 is stated, so this alone says whether to write it."""
        return "ip_family" in self.model_fields_set


# --- the cluster -----------------------------------------------------------------------------

class ManagementClusterSpec(Model):
    """What the fleet needs to know of a management cluster itself."""

    ip_family: IPFamily = "ipv4"
    features: dict[FeaturePlugin, dict[FlagName, FlagValue]] = Field(default_factory=dict)


class ClusterSpec(Model):
    """One workload cluster, merged from its file and every ``_defaults.yaml`` above it."""

    name: Name
    management_cluster: Name
    namespace: Name = "default"
    infrastructure: Infrastructure
    plan: Literal["dev", "prod"] = "dev"
    kubernetes: Kubernetes
    os: OS = Field(default_factory=OS)
    control_plane: ControlPlane = Field(default_factory=ControlPlane)
    workers: Annotated[list[MachineDeployment], AfterValidator(_some_workers)] | None = None
    machine: Machine | None = None  # both roles: SIZE, VSPHERE_NUM_CPUS … (generator/load/sizes.py)
    network: Network = Field(default_factory=Network)
    cni: Literal["antrea", "calico", "none"] = "antrea"
    antrea: Antrea = Field(default_factory=Antrea)  # ANTREA_* (generator/load/addons.py)
    vsphere: VSphere | None = None
    aws: AWS | None = None
    azure: Azure | None = None
    ip_pools: dict[Name, IPPool] = Field(default_factory=dict)
    node_networks: dict[NetworkName, NodeNetworkSpec] = Field(default_factory=dict)
    management_clusters: dict[Name, ManagementClusterSpec] = Field(default_factory=dict)
    features: dict[FeaturePlugin, dict[FlagName, FlagValue]] = Field(default_factory=dict)
    overlays: list[str] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    # issue 18, helper G: "retain" (the default) renders the Cluster and its own node pools with
    # Flux's and Argo CD's prune/delete protections; "delete" drops them for one release, so that
    # removing the cluster's file afterwards lets the applier delete it (docs/gitops.md).
    deletion_policy: Literal["retain", "delete"] = Field(default="retain", description=(
        "retain: the Cluster carries Flux's and Argo CD's prune protections; delete: not, so "
        "that removing its file afterwards deletes it (docs/gitops.md)"))
    # the TKG variable catalog (generator/render/catalog.py): None is tanzu's default
    ntp_servers: list[NTPServer] | None = None
    audit_logging: bool | None = None
    ssh_authorized_keys: list[SSHPublicKey] | None = Field(default=None, max_length=1)
    proxy: Proxy | None = None
    image_repository: ImageRepository | None = None
    additional_image_registries: list[ImageRegistry] | None = Field(default=None, max_length=3)
    pod_security_standard: PodSecurityStandard | None = None

    @property
    def cluster_class(self) -> str:
        return self.kubernetes.class_ or DEFAULT_CLASS[self.infrastructure]

    @property
    def control_plane_replicas(self) -> int:
        return self.control_plane.replicas or PLAN_MACHINE_COUNT[self.plan]

    @cached_property
    def machine_deployments(self) -> list[MachineDeployment]:
        """The workers as given, or what tanzu builds for the plan when the flat config says
        nothing: dev one md-0, prod md-0 … md-2 sharing 3 workers (generator/load/topology.py)."""
        if self.workers is not None:
            return self.workers
        aws = self.aws
        flat = FlatWorkers(self.infrastructure, self.plan,
                           zones={i: s.az for i, s in enumerate(aws.subnets)} if aws else {},
                           region=aws.region if aws else None)
        # Azure's default zones "1" … "3" are filled in when rendered (views._machine_deployment).
        return [MachineDeployment(name=md["name"], replicas=md["replicas"],
                                  failure_domain=md["failureDomain"] if aws else None)
                for md in tanzu_workers(flat)]

    @property
    def worker_replicas(self) -> int:
        return sum(md.replicas for md in self.machine_deployments)

    @property
    def pool_ref(self) -> str | None:
        """The name of the node IP pool, or None for DHCP."""
        pool = self.network.nodes.ip_pool
        if isinstance(pool, IPPool):
            return f"{self.name}-pool"
        return pool

    @property
    def endpoint_is_ip(self) -> bool:
        endpoint = self.control_plane.endpoint
        return endpoint is not None and parse_ip(endpoint) is not None

    @property
    def windows_workers(self) -> bool:
        return any(md.class_.endswith("windows") for md in self.machine_deployments)

    def effective(self) -> dict[str, Any]:
        """The cluster as JSON-like data with every plan and family default filled in."""
        data: dict[str, Any] = self.model_dump(by_alias=True, mode="json", exclude_none=True)
        data["kubernetes"]["class"] = self.cluster_class
        data["controlPlane"]["replicas"] = self.control_plane_replicas
        data["workers"] = [md.model_dump(by_alias=True, mode="json", exclude_none=True)
                           for md in self.machine_deployments]
        data["network"]["pods"] = self.network.pod_cidrs
        data["network"]["services"] = self.network.service_cidrs
        return data

    def pools_in_scope(self) -> dict[str, IPPool]:
        """Pools this cluster can see: the declared ones plus its inline pool."""
        pools = dict(self.ip_pools)
        inline = self.network.nodes.ip_pool
        if isinstance(inline, IPPool):
            pools[f"{self.name}-pool"] = inline
        return pools


def cidr_family(text: str) -> str:
    return family_of(ipaddress.ip_network(text, strict=False))


def networks(texts: list[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(t, strict=False) for t in texts]
