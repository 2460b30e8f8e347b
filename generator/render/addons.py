"""The objects tanzu creates beside a Cluster for its add-ons, as fleetgen renders them into the
cluster's ``addons.yaml``: the ClusterBootstrap and the configs it points at (AntreaConfig,
CalicoConfig, VSphereCPIConfig, VSphereCSIConfig), under tanzu's names, namespaces and
annotations, and the KubevipCPIConfig of kube-vip's load balancer. Each is traced from
tanzu-framework-release-0.29 providers/yttcb/clusterbootstrap.yaml (cited below by line); tanzu
sets no ownerReferences on them (the add-ons manager does, after).

Values ytt leaves null (VSPHERE_REGION unset, ANTREA_TRANSPORT_INTERFACE unset …) are left out:
the API server prunes a null field of a non-nullable schema property before it stores the object,
so the stored object is the same.

Not rendered, because fleetgen does not model what triggers them: the pinniped Secret (management
clusters only), the NSX-T credential Secret and ``nsxt`` CPI settings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from generator.check.fleet import Cluster
from generator.load.addons import ANTREA, KUBEVIP_ENABLE, KUBEVIP_LISTS, Antrea
from generator.load.model import ClusterSpec
from generator.render.catalog import no_proxy

DEFAULT_ANTREA = Antrea()
# clusterbootstrap.yaml:286 (the VSphereCPIConfig's tlsCipherSuites, a constant)
CPI_CIPHER_SUITES = ",".join((
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))


@dataclass(frozen=True, eq=False)
class Companion:
    """A render source: the ``index``-th object of a cluster's ``addons.yaml``."""

    cluster: Cluster
    index: int


def tkr_name(version: str) -> str:
    """The TKr a version names (KUBERNETES_RELEASE, tkg/client/cluster.go:567-571): '+' is
    written '---' in a TKr name, and the name starts with 'v'."""
    name = version.replace("+", "---")
    return name if name.startswith("v") else "v" + name


def antrea_customised(antrea: Antrea) -> bool:
    """clusterbootstrap.yaml:33-80: any ANTREA_* setting off tanzu's default (NSXT_POD_ROUTING is
    not modelled)."""
    return antrea != DEFAULT_ANTREA


def _proxy(spec: ClusterSpec) -> dict[str, str] | None:
    """The cluster's proxy (TKG_HTTP_PROXY, TKG_HTTPS_PROXY, and TKG_NO_PROXY as tanzu completes
    it before the templates run, tkg/client/validate.go:1562-1567), or None without one."""
    proxy = spec.proxy
    if proxy is None or not proxy.http_proxy:
        return None
    return {"http": proxy.http_proxy, "https": proxy.https_proxy or "",
            "no": ",".join(no_proxy(spec, list(proxy.no_proxy or [])))}


def endpoint_cidr(spec: ClusterSpec) -> str:
    """vsphereControlPlaneEndpointAsCidr (clusterbootstrap.yaml:8-19): a kube-vip endpoint that is
    an IP, as a /32 or /128, so the CPI leaves the VIP out of the node addresses; else ''."""
    endpoint = spec.control_plane.endpoint
    if endpoint is None or spec.control_plane.endpoint_provider != "kube-vip":
        return ""
    try:
        address = ipaddress.ip_address(endpoint)
    except ValueError:
        return ""
    return f"{address}/{address.max_prefixlen}"


def _meta(spec: ClusterSpec) -> dict[str, Any]:
    # Every object is named after the cluster, in its namespace (clusterbootstrap.yaml:165-167 …).
    return {"name": spec.name, "namespace": spec.namespace}


def _ref(group: str, kind: str, spec: ClusterSpec) -> dict[str, Any]:
    return {"providerRef": {"apiGroup": group, "kind": kind, "name": spec.name}}


def antrea_config(spec: ClusterSpec) -> dict[str, Any]:
    """clusterbootstrap.yaml:161-235."""
    a = spec.antrea
    config: dict[str, Any] = {
        "egress": {"exceptCIDRs": a.egress_except_cidrs},
        "nodePortLocal": {"enabled": a.nodeportlocal_enabled,
                          "portRange": a.nodeportlocal_portrange},
        "antreaProxy": {"proxyAll": a.proxy_all, "nodePortAddresses": a.proxy_nodeport_addrs,
                        "skipServices": a.proxy_skip_services,
                        "proxyLoadBalancerIPs": a.proxy_load_balancer_ips},
        "flowExporter": {"collectorAddress": a.flowexporter_collector_address,
                         "pollInterval": a.flowexporter_poll_interval,
                         "activeFlowTimeout": a.flowexporter_active_timeout,
                         "idleFlowTimeout": a.flowexporter_idle_timeout},
        "kubeAPIServerOverride": a.kube_apiserver_override,  # null when unset: left out
        "transportInterface": a.transport_interface,
        "transportInterfaceCIDRs": a.transport_interface_cidrs,
        "multicastInterfaces": a.multicast_interfaces,
        "tunnelType": a.tunnel_type,
        "tunnelPort": a.tunnel_port,
        "tunnelCsum": a.tunnel_csum,
        "trafficEncryptionMode": a.traffic_encryption_mode,
        "enableUsageReporting": a.enable_usage_reporting,
        "wireGuard": {"port": a.wireguard_port},
        # SERVICE_CIDR as the flat config gives it: the comma-separated service CIDRs (:197)
        "serviceCIDR": ",".join(spec.network.service_cidrs),
        "trafficEncapMode": a.traffic_encap_mode,
        "noSNAT": a.no_snat,
        "disableUdpTunnelOffload": a.disable_udp_tunnel_offload,
        "enableBridgingMode": a.enable_bridging_mode,
        "disableTXChecksumOffload": a.disable_txchecksum_offload,
        "dnsServerOverride": a.dns_server_override,
        "multicast": {"igmpQueryInterval": a.multicast_igmpquery_interval},
        "multicluster": {"enable": a.multicluster_enable, "namespace": a.multicluster_namespace},
        "featureGates": {
            "AntreaProxy": a.proxy, "EndpointSlice": a.endpoint_slice,
            "AntreaTraceflow": a.traceflow, "NodePortLocal": a.node_port_local,
            "AntreaPolicy": a.policy, "FlowExporter": a.flowexporter,
            "NetworkPolicyStats": a.networkpolicy_stats, "Egress": a.egress,
            "AntreaIPAM": a.ipam, "ServiceExternalIP": a.service_externalip,
            "Multicast": a.multicast, "Multicluster": a.multicluster,
            "SecondaryNetwork": a.secondary_network, "TrafficControl": a.traffic_control,
            "TopologyAwareHints": a.topology_aware_hints,
        },
    }
    return {"apiVersion": "cni.tanzu.vmware.com/v1alpha1", "kind": "AntreaConfig",
            "metadata": _meta(spec),
            "spec": {"antrea": {"config": {k: v for k, v in config.items() if v is not None}}}}


def calico_config(spec: ClusterSpec) -> dict[str, Any]:
    """clusterbootstrap.yaml:237-249 (skipCNIBinaries: every provider but docker)."""
    return {"apiVersion": "cni.tanzu.vmware.com/v1alpha1", "kind": "CalicoConfig",
            "metadata": _meta(spec),
            "spec": {"calico": {"config": {"vethMTU": 0, "skipCNIBinaries": True}}}}


def cpi_wanted(spec: ClusterSpec) -> bool:
    """vspherecpi_configs_exist (clusterbootstrap.yaml:82-87), without Windows workers (:251).

    TKG_IP_FAMILY counts when the inventory states ``network.ipFamily`` (or it is not ipv4)."""
    vsphere = spec.vsphere
    if vsphere is None or spec.windows_workers:
        return False
    return bool(spec.network.family_stated or vsphere.region or vsphere.zone
                or spec.control_plane.endpoint_provider == "kube-vip" or _proxy(spec))


def cpi_config(spec: ClusterSpec) -> dict[str, Any]:
    """clusterbootstrap.yaml:264-309. The CPI takes its IP family from here or from the Cluster
    (addons/controllers/cpi/vspherecpiconfig_utils.go:98-101, 184)."""
    assert spec.vsphere is not None
    cpi: dict[str, Any] = {"mode": "vsphereCPI", "region": spec.vsphere.region,
                           "zone": spec.vsphere.zone}
    if spec.network.family_stated:
        cpi["ipFamily"] = spec.network.ip_family  # :278-280
    if spec.control_plane.endpoint_provider == "kube-vip":  # :281-285
        cidr = endpoint_cidr(spec)
        cpi["vmNetwork"] = {"excludeInternalSubnetCidr": cidr, "excludeExternalSubnetCidr": cidr}
    cpi["tlsCipherSuites"] = CPI_CIPHER_SUITES
    proxy = _proxy(spec)
    if proxy is not None:  # :304-309
        cpi["proxy"] = {"http_proxy": proxy["http"], "https_proxy": proxy["https"],
                        "no_proxy": proxy["no"]}
    return {"apiVersion": "cpi.tanzu.vmware.com/v1alpha1", "kind": "VSphereCPIConfig",
            "metadata": _meta(spec),
            "spec": {"vsphereCPI": {k: v for k, v in cpi.items() if v is not None}}}


def csi_wanted(spec: ClusterSpec) -> bool:
    """vspherecsi_configs_exist (clusterbootstrap.yaml:89-94): fleetgen never sets
    VSPHERE_INSECURE (it pins the thumbprint), so every vSphere cluster without Windows workers."""
    return spec.vsphere is not None and not spec.windows_workers


def csi_config(spec: ClusterSpec) -> dict[str, Any]:
    """clusterbootstrap.yaml:312-334 (USE_TOPOLOGY_CATEGORIES is not modelled: false)."""
    assert spec.vsphere is not None
    proxy = _proxy(spec) or {"http": "", "https": "", "no": ""}
    config = {"tlsThumbprint": spec.vsphere.tls_thumbprint, "datacenter": spec.vsphere.datacenter,
              "zone": spec.vsphere.zone, "region": spec.vsphere.region,
              "useTopologyCategories": False, "httpProxy": proxy["http"],
              "httpsProxy": proxy["https"], "noProxy": proxy["no"]}
    return {"apiVersion": "csi.tanzu.vmware.com/v1alpha1", "kind": "VSphereCSIConfig",
            "metadata": _meta(spec),
            "spec": {"vsphereCSI": {"mode": "vsphereCSI",
                                    "config": {k: v for k, v in config.items() if v is not None}}}}


# AWS / Azure CSI configs, made only for a proxy (cb.yaml:96-116): kind → (spec key, package)
CLOUD_CSI: dict[str, tuple[str, str, str]] = {
    "AzureDiskCSIConfig": ("azure", "azureDiskCSIDriver", "azuredisk-csi*"),  # :348-365
    "AzureFileCSIConfig": ("azure", "azureFileCSIDriver", "azurefile-csi*"),  # :367-384
    "AwsEbsCSIConfig": ("aws", "awsEBSCSIDriver", "aws-ebs-csi*"),  # :386-403
}


def cloud_csi(spec: ClusterSpec) -> list[dict[str, Any]]:
    """The AWS EBS / Azure disk and file CSI configs tanzu makes for a proxy (not with Windows
    workers): deploymentReplicas 3 on prod, else 1."""
    proxy = _proxy(spec)
    if proxy is None or spec.windows_workers:
        return []
    return [{"apiVersion": "csi.tanzu.vmware.com/v1alpha1", "kind": kind, "metadata": _meta(spec),
             "spec": {key: {"namespace": "kube-system",
                            "deploymentReplicas": 3 if spec.plan == "prod" else 1,
                            "httpProxy": proxy["http"], "httpsProxy": proxy["https"],
                            "noProxy": proxy["no"]}}}
            for kind, (infra, key, _) in CLOUD_CSI.items() if spec.infrastructure == infra]


def kubevip_wanted(spec: ClusterSpec) -> bool:
    """kubevipcpiconfig_exist (clusterbootstrap.yaml:122-124), without Windows workers (:406):
    a vSphere workload cluster with kube-vip's load balancer on and addresses to hand out."""
    lb = spec.vsphere.kube_vip_load_balancer if spec.vsphere is not None else None
    return lb is not None and bool(lb.cidrs or lb.ip_ranges) and not spec.windows_workers


def kubevip_config(spec: ClusterSpec) -> dict[str, Any]:
    """clusterbootstrap.yaml:405-419: the lists as the flat config's comma-separated strings."""
    assert spec.vsphere is not None and spec.vsphere.kube_vip_load_balancer is not None
    lb = spec.vsphere.kube_vip_load_balancer
    body = {"loadbalancerCIDRs": ",".join(lb.cidrs) or None,
            "loadbalancerIPRanges": ",".join(lb.ip_ranges) or None}
    return {"apiVersion": "cpi.tanzu.vmware.com/v1alpha1", "kind": "KubevipCPIConfig",
            "metadata": _meta(spec), "spec": {k: v for k, v in body.items() if v is not None}}


def _storage_class(spec: ClusterSpec) -> dict[str, Any] | None:
    """storage_class_customized (clusterbootstrap.yaml:102-104, 336-341, 494-502): a vSphere
    storage policy (ENABLE_DEFAULT_STORAGE_CLASS is not modelled: true)."""
    if spec.vsphere is None or not spec.vsphere.storage_policy_id:
        return None
    return {"refName": "tkg-storageclass*",
            "valuesFrom": {"inline": {"infraProvider": "vsphere",
                                      "VSPHERE_STORAGE_POLICY_ID": spec.vsphere.storage_policy_id}}}


def cluster_bootstrap(spec: ClusterSpec, cpi: bool, csi: bool) -> dict[str, Any] | None:
    """clusterbootstrap.yaml:421-519, when should_create_clusterbootstrap (:118-120)."""
    storage = _storage_class(spec)
    customised = antrea_customised(spec.antrea)
    clouds = [o["kind"] for o in cloud_csi(spec)]
    if not (spec.cni != "antrea" or customised or cpi or csi or storage or clouds):
        return None
    annotations = {"tkg.tanzu.vmware.com/add-missing-fields-from-tkr":
                   tkr_name(spec.kubernetes.version)}
    if spec.cni == "none":
        annotations["tkg.tanzu.vmware.com/unmanaged-cni"] = ""  # :430-431
    body: dict[str, Any] = {}
    if spec.cni == "antrea" and customised:  # :433-440
        body["cni"] = {"refName": "antrea*",
                       "valuesFrom": _ref("cni.tanzu.vmware.com", "AntreaConfig", spec)}
    elif spec.cni == "calico":  # :441-448
        body["cni"] = {"refName": "calico*",
                       "valuesFrom": _ref("cni.tanzu.vmware.com", "CalicoConfig", spec)}
    if cpi:  # :450-458
        body["cpi"] = {"refName": "vsphere-cpi*",
                       "valuesFrom": _ref("cpi.tanzu.vmware.com", "VSphereCPIConfig", spec)}
    if csi:  # :459-467
        body["csi"] = {"refName": "vsphere-csi*",
                       "valuesFrom": _ref("csi.tanzu.vmware.com", "VSphereCSIConfig", spec)}
    for kind in clouds:  # :468-485 (one CSI per infrastructure; Azure's file CSI is a package)
        if kind != "AzureFileCSIConfig":
            body["csi"] = {"refName": CLOUD_CSI[kind][2],
                           "valuesFrom": _ref("csi.tanzu.vmware.com", kind, spec)}
    body["kapp"] = {"refName": "kapp-controller*"}  # :486-487
    packages: list[dict[str, Any]] = [{"refName": "metrics-server*"},  # :488-491
                                      {"refName": "secretgen-controller*"},
                                      {"refName": "pinniped*"}]
    if spec.windows_workers:
        packages.append({"refName": "tkg-windows*"})  # :492-493
    if storage is not None:
        packages.append(storage)
    if "AzureFileCSIConfig" in clouds:  # :503-510
        packages.append({"refName": "azurefile-csi*",
                         "valuesFrom": _ref("csi.tanzu.vmware.com", "AzureFileCSIConfig", spec)})
    if kubevip_wanted(spec):  # :511-518
        packages.append({"refName": "kube-vip-cloud-provider*",
                         "valuesFrom": _ref("cpi.tanzu.vmware.com", "KubevipCPIConfig", spec)})
    body["additionalPackages"] = packages
    return {"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "ClusterBootstrap",
            "metadata": {**_meta(spec), "annotations": annotations}, "spec": body}


def addon_objects(spec: ClusterSpec) -> list[dict[str, Any]]:
    """Every object of the cluster's addons.yaml, in tanzu's order; [] when tanzu creates none
    (an AWS or Azure cluster with Antrea's defaults)."""
    cpi, csi = cpi_wanted(spec), csi_wanted(spec)
    bootstrap = cluster_bootstrap(spec, cpi, csi)
    objects = []
    if antrea_customised(spec.antrea):  # :161 (whatever the CNI, as tanzu does)
        objects.append(antrea_config(spec))
    if spec.cni == "calico":
        objects.append(calico_config(spec))
    if cpi:
        objects.append(cpi_config(spec))
    if csi:
        objects.append(csi_config(spec))
    objects += cloud_csi(spec)
    if kubevip_wanted(spec):
        objects.append(kubevip_config(spec))
    if bootstrap is not None:
        objects.append(bootstrap)
    return objects


def flat_lines(spec: ClusterSpec) -> list[list[Any]]:
    """The flat-config lines of the add-on settings: every ANTREA_* off tanzu's default (and
    ANTREA_ENDPOINTSLICE: true on dual-stack Antrea clusters, as the TKG 2.4 docs ask), then
    VSPHERE_REGION / VSPHERE_ZONE."""
    values = spec.antrea.model_dump(by_alias=True)
    defaults = DEFAULT_ANTREA.model_dump(by_alias=True)
    lines: list[list[Any]] = []
    for variable, (key, kind) in ANTREA.items():
        value = values[key]
        explicit = (variable == "ANTREA_ENDPOINTSLICE" and spec.network.dual_stack
                    and spec.cni == "antrea")
        if value != defaults[key] or explicit:
            lines.append([variable, ",".join(value) if kind == "list" else value])
    if spec.vsphere is not None:
        for variable, value in (("VSPHERE_REGION", spec.vsphere.region),
                                ("VSPHERE_ZONE", spec.vsphere.zone)):
            if value:
                lines.append([variable, value])
        lb = spec.vsphere.kube_vip_load_balancer
        if lb is not None:
            lines.append([KUBEVIP_ENABLE, True])
            lines += [[variable, ",".join(getattr(lb, _KUBEVIP_FIELDS[key]))]
                      for variable, key in KUBEVIP_LISTS.items()
                      if getattr(lb, _KUBEVIP_FIELDS[key])]
    return lines


_KUBEVIP_FIELDS = {"cidrs": "cidrs", "ipRanges": "ip_ranges"}


def addons_view(cluster: Cluster) -> dict[str, Any]:
    """``c.addons``: the objects of addons.yaml, the add-on lines of cluster-config.yaml, and
    whether the ``kubeVipLoadBalancerProvider`` variable is on (KUBEVIP_LOADBALANCER_ENABLE,
    providers/yttcc/lib/config_variable_association.star:998-999)."""
    spec = cluster.spec
    return {"objects": addon_objects(spec), "flat": flat_lines(spec),
            "kube_vip_lb": spec.vsphere is not None
            and spec.vsphere.kube_vip_load_balancer is not None}


def companion_view(companion: Companion) -> dict[str, Any]:
    """One object of addons.yaml (what ``addons.yaml.j2`` lays out as ``a``)."""
    return addon_objects(companion.cluster.spec)[companion.index]
