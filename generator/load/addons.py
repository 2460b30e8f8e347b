"""The inventory sections behind the objects tanzu creates beside the Cluster: ``antrea:`` (the
``ANTREA_*`` settings of the AntreaConfig), ``vsphere.kubeVipLoadBalancer`` (the KubevipCPIConfig),
the vSphere identity reference (``vsphere.identityRef`` and fleetgen.yaml's
``credentials.vsphere.identityRef``).

Every ``antrea`` key is the camelCase of its ``ANTREA_*`` variable without the prefix, and its
default is tanzu's (tanzu-framework-release-0.29 providers/config_default.yaml:717-763). A value
that differs from tanzu's default makes tanzu create an AntreaConfig for the cluster
(providers/yttcb/clusterbootstrap.yaml:33-80), and so does fleetgen (generator/render/addons.py).
``ANTREA`` maps each variable to its key and kind, for ``fleetgen import tkg`` and the flat config.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.load.model_base import CIDR, Model
from generator.load.options import ListItem

AntreaKind = Literal["bool", "int", "text", "list"]


class VSphereIdentityRef(Model):
    """The CAPV identity a VSphereCluster authenticates with: a cluster-wide
    VSphereClusterIdentity, or a Secret in the cluster's namespace."""

    kind: Literal["VSphereClusterIdentity", "Secret"]
    name: str = Field(min_length=1)


class KubeVipLoadBalancer(Model):
    """kube-vip as the load balancer of Services of type LoadBalancer (KUBEVIP_LOADBALANCER_ENABLE:
    the section's presence), handing out addresses from ``cidrs`` and ``ipRanges``
    (KUBEVIP_LOADBALANCER_CIDRS / _IP_RANGES, config_default.yaml:767-769)."""

    cidrs: list[CIDR] = Field(default_factory=list)
    ip_ranges: list[ListItem] = Field(default_factory=list)


class Antrea(Model):
    """tanzu's ANTREA_* settings; every default is tanzu's (providers/config_default.yaml)."""

    # config_default.yaml:717-746: the Antrea agent and controller configuration
    no_snat: bool = Field(default=False, alias="noSNAT")
    disable_udp_tunnel_offload: bool = False
    traffic_encap_mode: Literal["encap", "noEncap", "hybrid", "networkPolicyOnly"] = "encap"
    egress_except_cidrs: list[CIDR] = Field(default_factory=list, alias="egressExceptCIDRs")
    nodeportlocal_enabled: bool = Field(default=True, alias="nodePortLocalEnabled")
    nodeportlocal_portrange: str = Field(default="61000-62000", alias="nodePortLocalPortRange",
                                         pattern=r"^\d+-\d+$")
    proxy_all: bool = False
    proxy_nodeport_addrs: list[ListItem] = Field(default_factory=list, alias="proxyNodePortAddrs")
    proxy_skip_services: list[ListItem] = Field(default_factory=list)
    proxy_load_balancer_ips: bool = Field(default=False, alias="proxyLoadBalancerIPs")
    flowexporter_collector_address: str = Field(
        default="flow-aggregator.flow-aggregator.svc:4739:tls",
        alias="flowExporterCollectorAddress")
    flowexporter_poll_interval: str = Field(default="5s", alias="flowExporterPollInterval")
    flowexporter_active_timeout: str = Field(default="30s", alias="flowExporterActiveTimeout")
    flowexporter_idle_timeout: str = Field(default="15s", alias="flowExporterIdleTimeout")
    kube_apiserver_override: str | None = Field(default=None, alias="kubeAPIServerOverride")
    transport_interface: str | None = None
    transport_interface_cidrs: list[CIDR] = Field(default_factory=list,
                                                  alias="transportInterfaceCIDRs")
    multicast_interfaces: list[ListItem] = Field(default_factory=list)
    multicast_igmpquery_interval: str = Field(default="125s", alias="multicastIGMPQueryInterval")
    tunnel_type: Literal["geneve", "vxlan", "gre", "stt"] = "geneve"
    tunnel_port: int = Field(default=0, ge=0, le=65535)
    tunnel_csum: bool = False
    traffic_encryption_mode: Literal["none", "ipsec", "wireGuard"] = "none"
    wireguard_port: int = Field(default=51820, ge=1, le=65535, alias="wireGuardPort")
    enable_usage_reporting: bool = False
    enable_bridging_mode: bool = False
    disable_txchecksum_offload: bool = Field(default=False, alias="disableTXChecksumOffload")
    dns_server_override: str = ""
    multicluster_enable: bool = False
    multicluster_namespace: str = ""
    # config_default.yaml:749-763: the feature gates
    proxy: bool = True
    endpoint_slice: bool = True
    policy: bool = True
    traceflow: bool = True
    node_port_local: bool = True
    networkpolicy_stats: bool = Field(default=False, alias="networkPolicyStats")
    egress: bool = True
    ipam: bool = False
    flowexporter: bool = Field(default=False, alias="flowExporter")
    service_externalip: bool = Field(default=False, alias="serviceExternalIP")
    multicast: bool = False
    multicluster: bool = False
    secondary_network: bool = False
    traffic_control: bool = False
    topology_aware_hints: bool = False


# variable → (antrea key, kind), in config_default.yaml's order.
ANTREA: dict[str, tuple[str, AntreaKind]] = {
    "ANTREA_NO_SNAT": ("noSNAT", "bool"),
    "ANTREA_DISABLE_UDP_TUNNEL_OFFLOAD": ("disableUdpTunnelOffload", "bool"),
    "ANTREA_TRAFFIC_ENCAP_MODE": ("trafficEncapMode", "text"),
    "ANTREA_EGRESS_EXCEPT_CIDRS": ("egressExceptCIDRs", "list"),
    "ANTREA_NODEPORTLOCAL_ENABLED": ("nodePortLocalEnabled", "bool"),
    "ANTREA_NODEPORTLOCAL_PORTRANGE": ("nodePortLocalPortRange", "text"),
    "ANTREA_PROXY_ALL": ("proxyAll", "bool"),
    "ANTREA_PROXY_NODEPORT_ADDRS": ("proxyNodePortAddrs", "list"),
    "ANTREA_PROXY_SKIP_SERVICES": ("proxySkipServices", "list"),
    "ANTREA_PROXY_LOAD_BALANCER_IPS": ("proxyLoadBalancerIPs", "bool"),
    "ANTREA_FLOWEXPORTER_COLLECTOR_ADDRESS": ("flowExporterCollectorAddress", "text"),
    "ANTREA_FLOWEXPORTER_POLL_INTERVAL": ("flowExporterPollInterval", "text"),
    "ANTREA_FLOWEXPORTER_ACTIVE_TIMEOUT": ("flowExporterActiveTimeout", "text"),
    "ANTREA_FLOWEXPORTER_IDLE_TIMEOUT": ("flowExporterIdleTimeout", "text"),
    "ANTREA_KUBE_APISERVER_OVERRIDE": ("kubeAPIServerOverride", "text"),
    "ANTREA_TRANSPORT_INTERFACE": ("transportInterface", "text"),
    "ANTREA_TRANSPORT_INTERFACE_CIDRS": ("transportInterfaceCIDRs", "list"),
    "ANTREA_MULTICAST_INTERFACES": ("multicastInterfaces", "list"),
    "ANTREA_MULTICAST_IGMPQUERY_INTERVAL": ("multicastIGMPQueryInterval", "text"),
    "ANTREA_TUNNEL_TYPE": ("tunnelType", "text"),
    "ANTREA_TUNNEL_PORT": ("tunnelPort", "int"),
    "ANTREA_TUNNEL_CSUM": ("tunnelCsum", "bool"),
    "ANTREA_TRAFFIC_ENCRYPTION_MODE": ("trafficEncryptionMode", "text"),
    "ANTREA_WIREGUARD_PORT": ("wireGuardPort", "int"),
    "ANTREA_ENABLE_USAGE_REPORTING": ("enableUsageReporting", "bool"),
    "ANTREA_ENABLE_BRIDGING_MODE": ("enableBridgingMode", "bool"),
    "ANTREA_DISABLE_TXCHECKSUM_OFFLOAD": ("disableTXChecksumOffload", "bool"),
    "ANTREA_DNS_SERVER_OVERRIDE": ("dnsServerOverride", "text"),
    "ANTREA_MULTICLUSTER_ENABLE": ("multiclusterEnable", "bool"),
    "ANTREA_MULTICLUSTER_NAMESPACE": ("multiclusterNamespace", "text"),
    "ANTREA_PROXY": ("proxy", "bool"),
    "ANTREA_ENDPOINTSLICE": ("endpointSlice", "bool"),
    "ANTREA_POLICY": ("policy", "bool"),
    "ANTREA_TRACEFLOW": ("traceflow", "bool"),
    "ANTREA_NODEPORTLOCAL": ("nodePortLocal", "bool"),
    "ANTREA_NETWORKPOLICY_STATS": ("networkPolicyStats", "bool"),
    "ANTREA_EGRESS": ("egress", "bool"),
    "ANTREA_IPAM": ("ipam", "bool"),
    "ANTREA_FLOWEXPORTER": ("flowExporter", "bool"),
    "ANTREA_SERVICE_EXTERNALIP": ("serviceExternalIP", "bool"),
    "ANTREA_MULTICAST": ("multicast", "bool"),
    "ANTREA_MULTICLUSTER": ("multicluster", "bool"),
    "ANTREA_SECONDARY_NETWORK": ("secondaryNetwork", "bool"),
    "ANTREA_TRAFFIC_CONTROL": ("trafficControl", "bool"),
    "ANTREA_TOPOLOGY_AWARE_HINTS": ("topologyAwareHints", "bool"),
}

# vSphere CPI / CSI settings: variable → key of the inventory's ``vsphere:`` section
# (config_default.yaml:151-152).
VSPHERE_ADDON_VARIABLES: dict[str, str] = {"VSPHERE_REGION": "region", "VSPHERE_ZONE": "zone"}
KUBEVIP_ENABLE = "KUBEVIP_LOADBALANCER_ENABLE"
KUBEVIP_LISTS = {"KUBEVIP_LOADBALANCER_CIDRS": "cidrs",
                 "KUBEVIP_LOADBALANCER_IP_RANGES": "ipRanges"}
