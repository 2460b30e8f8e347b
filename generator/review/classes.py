"""The risk classes of ``fleetgen diff`` and the rules that find them in a changed Cluster
object: data only (the command line lists the classes without importing the diff machinery).

A rule names a path in the Cluster object (``[*]`` is any item of a list matched by name) and
fires when a changed field lies at or below it, or when an added or removed map holds it. The
variables that make Cluster API replace machines are those whose ClusterClass patches write a
machine or bootstrap template (KubeadmControlPlaneTemplate, KubeadmConfigTemplate,
*MachineTemplate); each cites the patch in tanzu-framework release-0.29
``providers/infrastructure-<infra>/v*/cconly/`` that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

RISK_CLASSES = ("ip-removed-in-use", "ip-overlap", "pool-capacity", "immutable-field",
                "dhcp-to-ipam", "endpoint-change", "endpoint-reused", "rollout",
                "cluster-removed", "adoption-removes")


@dataclass(frozen=True)
class Rule:
    cls: str
    path: str                  # in the Cluster object; VARS / OVERRIDES are spelled out below
    what: str                  # the words of the risk
    key: tuple[str, ...] = ()  # the inventory key that usually sets it (where, if nothing better)
    source: str = ""           # the ClusterClass patch (or API rule) behind the rule


_V = "infrastructure-vsphere/v1.5.3/cconly/base.yaml"
_A = "infrastructure-aws/v2.0.2/cconly/base.yaml"
_Z = "infrastructure-azure/v1.6.3/cconly/base.yaml"
_ADM = "infrastructure-*/cconly/overlay-kube-apiserver-admission.yaml"

# ClusterClass variable → (what, inventory key, patches that write machine/bootstrap templates).
ROLLOUT_VARIABLES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "controlPlane": ("control-plane machines or node network settings", ("controlPlane",),
                     f"{_V}:900,2398 {_A}:732 {_Z}:786"),
    "worker": ("worker machines or node network settings", ("workers",),
               f"{_V}:956,2380 {_A}:756 {_Z}:924,996"),
    "vcenter": ("the vCenter placement", ("vsphere",), f"{_V}:900,956,1146"),
    "network": ("the node network", ("network",), f"{_V}:1146,1279,1309 {_A}:878 {_Z}:1214"),
    "user": ("the node users (ssh keys)", ("user",), f"{_V}:1015,1053,1988"),
    "ntpServers": ("the NTP servers", ("ntpServers",), f"{_V}:2159"),
    "auditLogging": ("API server audit logging", ("auditLogging",),
                     f"{_V}:1782 {_A}:1191 {_Z}:1527"),
    "proxy": ("the HTTP proxy", ("proxy",), f"{_V}:1469,2259 {_A}:878 {_Z}:1214"),
    "imageRepository": ("the image repository", ("imageRepository",),
                        f"{_V}:1614,1641 {_A}:1023,1050 {_Z}:1359,1386"),
    "trust": ("the trusted CA certificates", ("trust",), f"{_V}:1551,1641 {_A}:960 {_Z}:1296"),
    "additionalImageRegistries": ("the additional image registries",
                                  ("additionalImageRegistries",),
                                  f"{_V}:1736 {_A}:1145 {_Z}:1481"),
    "etcdExtraArgs": ("etcd arguments", ("etcdExtraArgs",), f"{_V}:675 {_A}:368 {_Z}:430"),
    "apiServerExtraArgs": ("API server arguments", ("apiServerExtraArgs",),
                           f"{_V}:697 {_A}:390 {_Z}:509"),
    "kubeSchedulerExtraArgs": ("scheduler arguments", ("kubeSchedulerExtraArgs",),
                               f"{_V}:726 {_A}:419 {_Z}:545"),
    "kubeControllerManagerExtraArgs": ("controller-manager arguments",
                                       ("kubeControllerManagerExtraArgs",),
                                       f"{_V}:748 {_A}:441 {_Z}:459"),
    "controlPlaneKubeletExtraArgs": ("control-plane kubelet arguments",
                                     ("controlPlaneKubeletExtraArgs",),
                                     f"{_V}:777 {_A}:470 {_Z}:567"),
    "workerKubeletExtraArgs": ("worker kubelet arguments", ("workerKubeletExtraArgs",),
                               f"{_V}:827 {_A}:520 {_Z}:645"),
    "tlsCipherSuites": ("the TLS cipher suites", ("tlsCipherSuites",),
                        f"{_V}:675-827 {_A}:368-520 {_Z}:430-645"),
    "podSecurityStandard": ("the pod security standard", ("podSecurityStandard",), f"{_ADM}:78"),
    "eventRateLimitConf": ("the event rate limit", ("eventRateLimitConf",), f"{_ADM}:150"),
    "controlPlaneCertificateRotation": ("control-plane certificate rotation",
                                        ("controlPlaneCertificateRotation",),
                                        f"{_V}:1974 {_A}:1368 {_Z}:1704"),
    "customTDNFRepository": ("the custom TDNF repository", ("customTDNFRepository",),
                             f"{_V}:2210"),
    "additionalFQDN": ("the API server certificate names", ("additionalFQDN",), f"{_V}:2194"),
    "nodePoolLabels": ("node labels", ("workers",), f"{_V}:1367 {_A}:783 {_Z}:1119"),
    "controlPlaneTaint": ("the control-plane taint", ("controlPlane",), f"{_V}:1959"),
    "pci": ("PCI passthrough devices", ("vsphere",), f"{_V}:2336,2359"),
    "sshKeyName": ("the AWS ssh key", ("aws",), f"{_A}:732,756"),
    "sshPublicKey": ("the Azure ssh key", ("azure",), f"{_Z}:786,924"),
    "acceleratedNetworking": ("Azure accelerated networking", ("azure",), f"{_Z}:786,924"),
    "region": ("the AWS region", ("aws", "region"), f"{_A}:551 (AWSClusterTemplate)"),
    "location": ("the Azure location", ("azure", "location"), f"{_Z}:739 (AzureClusterTemplate)"),
}

_MD = "spec.topology.workers.machineDeployments[*]"

RULES: tuple[Rule, ...] = (
    Rule("immutable-field", "spec.clusterNetwork.pods", "pod CIDRs or IP family",
         ("network", "pods"), "Cluster API: clusterNetwork is immutable"),
    Rule("immutable-field", "spec.clusterNetwork.services", "service CIDRs or IP family",
         ("network", "services"), "Cluster API: clusterNetwork is immutable"),
    Rule("immutable-field", "spec.topology.variables[network].value.ipv6Primary",
         "the primary IP family", ("network", "ipFamily"), f"{_V}:276"),
    Rule("endpoint-change", "spec.topology.variables[apiServerEndpoint]",
         "the control-plane endpoint", ("controlPlane", "endpoint"), f"{_V}:341,859,1073"),
    Rule("endpoint-change", "spec.topology.variables[apiServerPort]",
         "the control-plane endpoint port", ("controlPlane", "port"), f"{_V}:347,1266"),
    Rule("endpoint-change", "spec.topology.variables[aviAPIServerHAProvider]",
         "the control-plane endpoint provider", ("controlPlane", "endpointProvider"),
         f"{_V}:335,1073"),
    Rule("endpoint-change",
         "metadata.annotations.tkg.tanzu.vmware.com/cluster-controlplane-endpoint",
         "the control-plane endpoint", ("controlPlane", "endpoint")),
    Rule("rollout", "spec.topology.version", "the Kubernetes version", ("kubernetes", "version")),
    Rule("rollout", "spec.topology.class", "the ClusterClass", ("kubernetes", "class")),
    Rule("rollout", f"{_MD}.class", "a machine deployment class", ("workers",)),
    Rule("rollout", f"{_MD}.failureDomain", "a machine deployment failure domain", ("workers",)),
    *(Rule("rollout", f"spec.topology.variables[{name}]", what, key, source)
      for name, (what, key, source) in ROLLOUT_VARIABLES.items()),
    *(Rule("rollout", f"{_MD}.variables.overrides[{name}]", f"{what} of a machine deployment",
           ("workers",), source) for name, (what, _key, source) in ROLLOUT_VARIABLES.items()),
)
