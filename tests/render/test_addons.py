"""addons.yaml: the objects `tanzu cluster create` makes beside the Cluster (issue 15, item 5),
each traced from tanzu-framework-release-0.29 providers/yttcb/clusterbootstrap.yaml (cited as
`cb.yaml:LINE`), and each valid against its schema in ../shared/crds/tanzu-addons-release-0.29."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.crds import crds_dir, validate_object
from support.fleets import VSPHERE_DEFAULTS, write_tree

from generator.pipeline import load_fleet, wanted_files
from generator.render.addons import addon_objects
from generator.yaml.fast import load_fast, load_fast_all

FOLDER = "mgmt-a/dev/web"
SETTINGS = "credentials: {vsphere: {identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}}}\n"
CIPHERS = ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
           "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
DUAL = 'features: {cluster: {dual-stack-ipv4-primary: "true", dual-stack-ipv6-primary: "true"}}\n'


def render(tmp_path: Path, web: str, defaults: str = VSPHERE_DEFAULTS) -> dict[str, bytes]:
    root = write_tree(tmp_path / "fleet", {"clusters/_defaults.yaml": defaults,
                                           "clusters/dev/web.yaml": web,
                                           "fleetgen.yaml": SETTINGS})
    return wanted_files(root, load_fleet(root))


def addons(tmp_path: Path, web: str) -> dict[str, dict[str, Any]]:
    """The objects of the cluster's addons.yaml by kind (checking their order is tanzu's)."""
    files = render(tmp_path, web)
    docs = load_fast_all(files[f"{FOLDER}/addons.yaml"].decode())
    kinds = [d["kind"] for d in docs]
    order = ["AntreaConfig", "CalicoConfig", "VSphereCPIConfig", "VSphereCSIConfig",
             "KubevipCPIConfig", "ClusterBootstrap"]  # cb.yaml:161, 237, 264, 312, 405, 421
    assert kinds == [k for k in order if k in kinds]
    return {d["kind"]: d for d in docs}


def cpi(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return objects["VSphereCPIConfig"]["spec"]["vsphereCPI"]  # type: ignore[no-any-return]


KUBE_VIP = "controlPlane: {endpoint: 10.0.0.10}\n"


def test_default_vsphere_cluster(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP)
    assert list(objects) == ["VSphereCPIConfig", "VSphereCSIConfig", "ClusterBootstrap"]
    for obj in objects.values():  # cb.yaml:266-268, 315-317, 425-427: named after the cluster
        assert (obj["metadata"]["name"], obj["metadata"]["namespace"]) == ("web", "dev")
        assert "ownerReferences" not in obj["metadata"]
    assert cpi(objects) == {
        "mode": "vsphereCPI",  # cb.yaml:271
        # cb.yaml:8-19, 281-285: the kube-vip VIP left out of the node addresses
        "vmNetwork": {"excludeInternalSubnetCidr": "10.0.0.10/32",
                      "excludeExternalSubnetCidr": "10.0.0.10/32"},
        "tlsCipherSuites": CIPHERS}  # cb.yaml:286
    assert objects["VSphereCSIConfig"]["spec"] == {"vsphereCSI": {
        "mode": "vsphereCSI",  # cb.yaml:320
        "config": {"tlsThumbprint": "", "datacenter": "/dc0", "useTopologyCategories": False,
                   "httpProxy": "", "httpsProxy": "", "noProxy": ""}}}  # cb.yaml:321-333
    bootstrap = objects["ClusterBootstrap"]
    assert bootstrap["apiVersion"] == "run.tanzu.vmware.com/v1alpha3"  # cb.yaml:423
    # cb.yaml:429 KUBERNETES_RELEASE, the TKr name (tkg/client/cluster.go:567-571)
    assert bootstrap["metadata"]["annotations"] == {
        "tkg.tanzu.vmware.com/add-missing-fields-from-tkr": "v1.27.5---vmware.1-tkg.1"}
    assert bootstrap["spec"] == {
        "cpi": {"refName": "vsphere-cpi*", "valuesFrom": {"providerRef": {
            "apiGroup": "cpi.tanzu.vmware.com", "kind": "VSphereCPIConfig", "name": "web"}}},
        "csi": {"refName": "vsphere-csi*", "valuesFrom": {"providerRef": {
            "apiGroup": "csi.tanzu.vmware.com", "kind": "VSphereCSIConfig", "name": "web"}}},
        "kapp": {"refName": "kapp-controller*"},  # cb.yaml:486-487
        "additionalPackages": [{"refName": "metrics-server*"},  # cb.yaml:488-491
                               {"refName": "secretgen-controller*"}, {"refName": "pinniped*"}]}


def test_addons_file_is_in_the_kustomization(tmp_path: Path) -> None:
    files = render(tmp_path, KUBE_VIP)
    assert "addons.yaml" in load_fast(files[f"{FOLDER}/kustomization.yaml"])["resources"]


@pytest.mark.parametrize(("network", "family", "vip", "cidr"), [
    ("ipv6", "ipv6", "fd00::10", "fd00::10/128"),
    ("ipv4,ipv6", "ipv4,ipv6", "10.0.0.10", "10.0.0.10/32"),
    ("ipv6,ipv4", "ipv6,ipv4", "fd00::10", "fd00::10/128"),
])
def test_cpi_ip_family(tmp_path: Path, network: str, family: str, vip: str, cidr: str) -> None:
    # cb.yaml:278-280 ipFamily: TKG_IP_FAMILY; the CPI reads it (vspherecpiconfig_utils.go:184)
    objects = addons(tmp_path, f"controlPlane: {{endpoint: \"{vip}\"}}\n"
                               f"network: {{ipFamily: \"{network}\"}}\n{DUAL}")
    assert cpi(objects)["ipFamily"] == family
    assert cpi(objects)["vmNetwork"]["excludeInternalSubnetCidr"] == cidr
    # EndpointSlice stays tanzu's default (true, config_default.yaml:750): no AntreaConfig
    assert "AntreaConfig" not in objects


def test_fqdn_endpoint_excludes_nothing(tmp_path: Path) -> None:
    # cb.yaml:10-11: an endpoint that does not parse as an IP leaves the CIDR empty
    objects = addons(tmp_path, "controlPlane: {endpoint: web.example.com}\n")
    assert cpi(objects)["vmNetwork"] == {"excludeInternalSubnetCidr": "",
                                         "excludeExternalSubnetCidr": ""}


def test_nsx_alb_cluster_has_no_cpi_config_without_settings(tmp_path: Path) -> None:
    # cb.yaml:83-86: NSX ALB, ipv4, no region/zone/proxy: no CPI config, no cpi in the bootstrap
    objects = addons(tmp_path, "controlPlane: {endpointProvider: nsx-alb}\n")
    assert list(objects) == ["VSphereCSIConfig", "ClusterBootstrap"]
    assert "cpi" not in objects["ClusterBootstrap"]["spec"]


def test_nsx_alb_cluster_with_zone_has_cpi_without_vm_network(tmp_path: Path) -> None:
    objects = addons(tmp_path, "controlPlane: {endpointProvider: nsx-alb}\nvsphere: {zone: z}\n")
    assert cpi(objects) == {"mode": "vsphereCPI", "zone": "z", "tlsCipherSuites": CIPHERS}


def test_region_and_zone(tmp_path: Path) -> None:
    # cb.yaml:272-277 (CPI), 328-329 (CSI)
    objects = addons(tmp_path, KUBE_VIP + "vsphere: {region: k8s-region, zone: k8s-zone}\n")
    assert (cpi(objects)["region"], cpi(objects)["zone"]) == ("k8s-region", "k8s-zone")
    config = objects["VSphereCSIConfig"]["spec"]["vsphereCSI"]["config"]
    assert (config["region"], config["zone"]) == ("k8s-region", "k8s-zone")


def test_antrea_proxy_all(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP + "antrea: {proxyAll: true}\n")
    config = objects["AntreaConfig"]["spec"]["antrea"]["config"]
    assert objects["AntreaConfig"]["apiVersion"] == "cni.tanzu.vmware.com/v1alpha1"  # cb.yaml:163
    assert config["antreaProxy"] == {"proxyAll": True, "nodePortAddresses": [],
                                     "skipServices": [], "proxyLoadBalancerIPs": False}
    assert config["serviceCIDR"] == "100.64.0.0/13"  # cb.yaml:197 SERVICE_CIDR
    assert config["featureGates"]["EndpointSlice"] is True  # cb.yaml:220
    assert "kubeAPIServerOverride" not in config  # null in ytt: pruned by the API server
    assert objects["ClusterBootstrap"]["spec"]["cni"] == {  # cb.yaml:433-440
        "refName": "antrea*", "valuesFrom": {"providerRef": {
            "apiGroup": "cni.tanzu.vmware.com", "kind": "AntreaConfig", "name": "web"}}}


def test_dual_stack_antrea_with_endpointslice_off(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP + "network: {ipFamily: \"ipv4,ipv6\"}\n" + DUAL
                     + "antrea: {endpointSlice: false, noSNAT: true}\n")
    config = objects["AntreaConfig"]["spec"]["antrea"]["config"]
    assert config["featureGates"]["EndpointSlice"] is False
    assert config["noSNAT"] is True
    assert config["serviceCIDR"] == "100.64.0.0/13,fd00:100:64::/108"


def test_calico(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP + "cni: calico\n")
    assert objects["CalicoConfig"]["spec"] == {  # cb.yaml:243-248
        "calico": {"config": {"vethMTU": 0, "skipCNIBinaries": True}}}
    assert objects["ClusterBootstrap"]["spec"]["cni"]["refName"] == "calico*"  # cb.yaml:441-448


def test_cni_none_is_unmanaged(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP + "cni: none\n")
    notes = objects["ClusterBootstrap"]["metadata"]["annotations"]
    assert notes["tkg.tanzu.vmware.com/unmanaged-cni"] == ""  # cb.yaml:430-431
    assert "cni" not in objects["ClusterBootstrap"]["spec"]


def test_storage_policy_configures_the_storage_class(tmp_path: Path) -> None:
    objects = addons(tmp_path, KUBE_VIP + "vsphere: {storagePolicyID: gold}\n")
    assert objects["ClusterBootstrap"]["spec"]["additionalPackages"][-1] == {  # cb.yaml:494-502
        "refName": "tkg-storageclass*",
        "valuesFrom": {"inline": {"infraProvider": "vsphere", "VSPHERE_STORAGE_POLICY_ID": "gold"}}}


def test_kube_vip_load_balancer(tmp_path: Path) -> None:
    web = KUBE_VIP + ("vsphere: {kubeVipLoadBalancer: {cidrs: [10.0.5.0/28], "
                      "ipRanges: [10.0.6.1-10.0.6.9]}}\n")
    files = render(tmp_path, web)
    docs = load_fast_all(files[f"{FOLDER}/addons.yaml"].decode())
    objects = {d["kind"]: d for d in docs}
    # cb.yaml:405-419, before the ClusterBootstrap (:421)
    assert [d["kind"] for d in docs][-2:] == ["KubevipCPIConfig", "ClusterBootstrap"]
    assert objects["KubevipCPIConfig"]["spec"] == {"loadbalancerCIDRs": "10.0.5.0/28",
                                                   "loadbalancerIPRanges": "10.0.6.1-10.0.6.9"}
    assert objects["ClusterBootstrap"]["spec"]["additionalPackages"][-1] == {  # cb.yaml:511-518
        "refName": "kube-vip-cloud-provider*", "valuesFrom": {"providerRef": {
            "apiGroup": "cpi.tanzu.vmware.com", "kind": "KubevipCPIConfig", "name": "web"}}}
    cluster = load_fast(files[f"{FOLDER}/cluster.yaml"])
    variables = {v["name"]: v["value"] for v in cluster["spec"]["topology"]["variables"]}
    # providers/yttcc/lib/config_variable_association.star:998-999
    assert variables["kubeVipLoadBalancerProvider"] is True


def test_kube_vip_load_balancer_without_addresses_has_no_config(tmp_path: Path) -> None:
    # cb.yaml:122-124: the config needs KUBEVIP_LOADBALANCER_CIDRS or _IP_RANGES
    objects = addons(tmp_path, KUBE_VIP + "vsphere: {kubeVipLoadBalancer: {}}\n")
    assert "KubevipCPIConfig" not in objects


def test_proxy_reaches_cpi_and_csi(tmp_path: Path) -> None:
    web = KUBE_VIP + ("proxy: {httpProxy: \"http://proxy.example.com:3128\", "
                      "httpsProxy: \"http://proxy.example.com:3128\", noProxy: [corp.example.com, vc.example.com]}\n")
    objects = addons(tmp_path, web)
    proxy = cpi(objects)["proxy"]  # cb.yaml:304-309
    assert proxy["http_proxy"] == proxy["https_proxy"] == "http://proxy.example.com:3128"
    # TKG_NO_PROXY as tanzu completes it (tkg/client/validate.go:1587-1629)
    assert {"corp.example.com", "localhost", "100.64.0.0/13"} <= set(proxy["no_proxy"].split(","))
    config = objects["VSphereCSIConfig"]["spec"]["vsphereCSI"]["config"]  # cb.yaml:331-333
    assert (config["httpProxy"], config["noProxy"]) == (proxy["http_proxy"], proxy["no_proxy"])


AWS = """\
managementCluster: mgmt-a
namespace: dev
infrastructure: aws
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
aws: {region: eu-west-1, sshKeyName: k, subnets: [{az: eu-west-1a}]}
"""


def _aws_objects(tmp_path: Path, extra: str) -> list[dict[str, Any]]:
    root = write_tree(tmp_path / "fleet", {"clusters/dev/shop.yaml": AWS + extra})
    (cluster,) = load_fleet(root).clusters
    return addon_objects(cluster.spec)


def test_aws_with_antrea_defaults_has_no_addons(tmp_path: Path) -> None:
    # cb.yaml:118-120: nothing customised, no vSphere CPI/CSI: no ClusterBootstrap
    assert _aws_objects(tmp_path, "") == []


def test_aws_with_calico(tmp_path: Path) -> None:
    objects = _aws_objects(tmp_path, "cni: calico\n")
    assert [o["kind"] for o in objects] == ["CalicoConfig", "ClusterBootstrap"]
    assert set(objects[1]["spec"]) == {"cni", "kapp", "additionalPackages"}


# --- schemas ---------------------------------------------------------------------------------------

SCHEMA_CASES = [
    KUBE_VIP,
    'controlPlane: {endpoint: "fd00::10"}\nnetwork: {ipFamily: ipv6}\nantrea: {proxyAll: true}\n',
    KUBE_VIP + "cni: calico\nvsphere: {region: r, zone: z, storagePolicyID: gold}\n",
    KUBE_VIP + "cni: none\n",
    KUBE_VIP + "vsphere: {kubeVipLoadBalancer: {cidrs: [10.0.5.0/28]}}\n",
    "controlPlane: {endpointProvider: nsx-alb}\nantrea: {trafficEncapMode: hybrid, "
    "egressExceptCIDRs: [10.1.0.0/16], transportInterface: eth1, tunnelPort: 6081, "
    "kubeAPIServerOverride: \"https://10.0.0.10:6443\", ipam: true}\n",
]


@pytest.mark.parametrize("web", SCHEMA_CASES)
def test_every_object_matches_its_schema(tmp_path: Path, web: str) -> None:
    crds_dir()  # skips, with the reason, without ../shared/crds
    for kind, obj in addons(tmp_path, web).items():
        assert validate_object(obj) == [], kind


def test_schema_check_can_fail() -> None:
    crds_dir()
    bad = {"apiVersion": "cpi.tanzu.vmware.com/v1alpha1", "kind": "VSphereCPIConfig",
           "metadata": {"name": "web", "namespace": "dev"},
           "spec": {"vsphereCPI": {"mode": "vsphereCPI", "ipFamily": "ipv5"}}}
    assert validate_object(bad)


PROXY = ('proxy: {httpProxy: "http://proxy.example.com:3128", '
         'httpsProxy: "http://proxy.example.com:3128"}\n')


def test_aws_proxy_makes_the_ebs_csi_config(tmp_path: Path) -> None:
    # cb.yaml:112-116 (awsebscsi_configs_exist), 386-403, 468-476
    objects = _aws_objects(tmp_path, PROXY)
    assert [o["kind"] for o in objects] == ["AwsEbsCSIConfig", "ClusterBootstrap"]
    driver = objects[0]["spec"]["awsEBSCSIDriver"]
    assert driver["namespace"] == "kube-system" and driver["deploymentReplicas"] == 1
    assert driver["httpProxy"] == "http://proxy.example.com:3128"
    assert "169.254.0.0/16" in driver["noProxy"].split(",")  # validate.go:1631-1637
    assert objects[1]["spec"]["csi"] == {"refName": "aws-ebs-csi*", "valuesFrom": {"providerRef": {
        "apiGroup": "csi.tanzu.vmware.com", "kind": "AwsEbsCSIConfig", "name": "shop"}}}


def test_azure_proxy_makes_the_disk_and_file_csi_configs(tmp_path: Path) -> None:
    azure = ("managementCluster: mgmt-a\nnamespace: dev\ninfrastructure: azure\nplan: prod\n"
             "kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n"
             "azure: {location: westeurope, subscriptionID: 00000000-0000-0000-0000-000000000000,"
             " sshPublicKey: c3NoLXJzYSBBQUFB}\n")
    root = write_tree(tmp_path / "fleet", {"clusters/dev/crm.yaml": azure + PROXY})
    (cluster,) = load_fleet(root).clusters
    objects = addon_objects(cluster.spec)
    assert [o["kind"] for o in objects] == ["AzureDiskCSIConfig", "AzureFileCSIConfig",
                                            "ClusterBootstrap"]  # cb.yaml:348, 367, 421
    assert objects[0]["spec"]["azureDiskCSIDriver"]["deploymentReplicas"] == 3  # prod, :357-358
    bootstrap = objects[2]["spec"]
    assert bootstrap["csi"]["refName"] == "azuredisk-csi*"  # :477-485
    assert bootstrap["additionalPackages"][-1]["refName"] == "azurefile-csi*"  # :503-510


def test_overlays_patch_the_addon_objects(tmp_path: Path) -> None:
    overlay = """\
patches:
- target: {kind: VSphereCPIConfig}
  patch: |
    apiVersion: cpi.tanzu.vmware.com/v1alpha1
    kind: VSphereCPIConfig
    metadata: {name: any}
    spec:
      vsphereCPI:
        insecure: false
"""
    root = write_tree(tmp_path / "fleet", {"clusters/_defaults.yaml": VSPHERE_DEFAULTS,
                                           "clusters/dev/web.yaml": KUBE_VIP + "overlays: [cpi]\n",
                                           "overlays/cpi/overlay.yaml": overlay})
    files = wanted_files(root, load_fleet(root))
    docs = {d["kind"]: d for d in load_fast_all(files[f"{FOLDER}/addons.yaml"].decode())}
    assert docs["VSphereCPIConfig"]["spec"]["vsphereCPI"]["insecure"] is False
    assert docs["VSphereCPIConfig"]["spec"]["vsphereCPI"]["mode"] == "vsphereCPI"
