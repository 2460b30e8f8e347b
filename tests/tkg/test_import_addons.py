"""`fleetgen import tkg` of the add-on settings: ANTREA_* into `antrea:`, VSPHERE_REGION /
VSPHERE_ZONE into `vsphere.region` / `vsphere.zone`, with tanzu's defaults, and back out through
the rendered flat config (issue 15, item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.fleets import VSPHERE_FLAT, write_tree

from generator.pipeline import load_fleet, wanted_files
from generator.problems import FleetError
from generator.tkg.importer import import_tkg
from generator.yaml.fast import load_fast

MGMT = "mgmt-lab"
IMPORTED = "clusters/imported"
DEFAULTS = f"""\
managementCluster: {MGMT}
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
"""
SETTINGS = "credentials: {vsphere: {identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}}}\n"
FLAT = VSPHERE_FLAT


def fleet(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "fleet", {"clusters/_defaults.yaml": DEFAULTS,
                                           f"{IMPORTED}/.keep": "", "fleetgen.yaml": SETTINGS})


def imported(tmp_path: Path, extra: str, base: str = FLAT) -> tuple[Path, Any, list[Any]]:
    root = fleet(tmp_path)
    flat = tmp_path / "input" / "web-config.yaml"
    flat.parent.mkdir(parents=True, exist_ok=True)
    flat.write_text(base + extra, encoding="utf-8")
    result = import_tkg(root, flat, None, root / IMPORTED)
    (root / IMPORTED / "web.yaml").write_text(result.text, encoding="utf-8")
    return root, load_fast(result.text), result.reported


def flat_config(root: Path) -> dict[str, Any]:
    files = wanted_files(root, load_fleet(root))
    return load_fast(files[f"{MGMT}/dev/web/cluster-config.yaml"])  # type: ignore[no-any-return]


def test_antrea_settings_are_imported_and_written_back(tmp_path: Path) -> None:
    extra = ("ANTREA_PROXY_ALL: \"true\"\n"  # tanzu reads "true" as true
             "ANTREA_TRAFFIC_ENCAP_MODE: hybrid\n"
             "ANTREA_EGRESS_EXCEPT_CIDRS: 10.1.0.0/16, 10.2.0.0/16\n"
             "ANTREA_TUNNEL_PORT: 6082\n"
             "ANTREA_NETWORKPOLICY_STATS: true\n")
    root, data, reported = imported(tmp_path, extra)
    assert data["antrea"] == {"proxyAll": True, "trafficEncapMode": "hybrid",
                              "egressExceptCIDRs": ["10.1.0.0/16", "10.2.0.0/16"],
                              "tunnelPort": 6082, "networkPolicyStats": True}
    assert reported == []  # none reported as "not imported"
    config = flat_config(root)
    assert config["ANTREA_PROXY_ALL"] is True
    assert config["ANTREA_TRAFFIC_ENCAP_MODE"] == "hybrid"
    assert config["ANTREA_EGRESS_EXCEPT_CIDRS"] == "10.1.0.0/16,10.2.0.0/16"
    assert config["ANTREA_TUNNEL_PORT"] == 6082
    assert config["ANTREA_NETWORKPOLICY_STATS"] is True


def test_tanzu_defaults_are_not_written(tmp_path: Path) -> None:
    # tanzu-framework-release-0.29 providers/config_default.yaml:723, 736, 750: the defaults
    extra = "ANTREA_PROXY_ALL: false\nANTREA_TUNNEL_TYPE: geneve\nANTREA_ENDPOINTSLICE: true\n"
    root, data, reported = imported(tmp_path, extra)
    assert "antrea" not in data
    assert reported == []
    assert not any(key.startswith("ANTREA_") for key in flat_config(root))


def test_endpointslice_is_an_antrea_setting_with_tanzus_default(tmp_path: Path) -> None:
    # config_default.yaml:750 ANTREA_ENDPOINTSLICE: true; clusterbootstrap.yaml:36 off-default
    # makes tanzu create the AntreaConfig.
    root, data, _ = imported(tmp_path, "ANTREA_ENDPOINTSLICE: false\n")
    assert data["antrea"] == {"endpointSlice": False}
    assert flat_config(root)["ANTREA_ENDPOINTSLICE"] is False


def test_dual_stack_flat_config_states_endpointslice(tmp_path: Path) -> None:
    # The TKG 2.4 docs ask for ANTREA_ENDPOINTSLICE: true on dual-stack Antrea clusters
    # (../shared/docs/domain.md §5): stated in the flat config though it is tanzu's default.
    extra = "TKG_IP_FAMILY: ipv4,ipv6\nANTREA_ENDPOINTSLICE: true\n"
    flat = FLAT.replace("INFRASTRUCTURE_PROVIDER: vsphere\n", "INFRASTRUCTURE_PROVIDER: vsphere\n"
                        "OS_NAME: ubuntu\n")
    root = fleet(tmp_path)
    write_tree(root, {"clusters/_defaults.yaml": DEFAULTS + "features: {cluster: "
                      "{dual-stack-ipv4-primary: \"true\"}}\n"})
    path = tmp_path / "in.yaml"
    path.write_text(flat + extra, encoding="utf-8")
    result = import_tkg(root, path, None, root / IMPORTED)
    assert "antrea" not in load_fast(result.text)
    (root / IMPORTED / "web.yaml").write_text(result.text, encoding="utf-8")
    assert flat_config(root)["ANTREA_ENDPOINTSLICE"] is True


def test_region_and_zone(tmp_path: Path) -> None:
    # config_default.yaml:151-152
    root, data, reported = imported(tmp_path, "VSPHERE_REGION: k8s-region\n"
                                              "VSPHERE_ZONE: k8s-zone\n")
    assert data["vsphere"]["region"] == "k8s-region"
    assert data["vsphere"]["zone"] == "k8s-zone"
    assert reported == []
    config = flat_config(root)
    assert (config["VSPHERE_REGION"], config["VSPHERE_ZONE"]) == ("k8s-region", "k8s-zone")


@pytest.mark.parametrize(("line", "code", "word"), [
    ("ANTREA_TRAFFIC_ENCAP_MODE: tunnel\n", "invalid-value", "ANTREA_TRAFFIC_ENCAP_MODE"),
    ("ANTREA_PROXY_ALL: maybe\n", "wrong-type", "ANTREA_PROXY_ALL"),
    ("ANTREA_EGRESS_EXCEPT_CIDRS: 10.1.0.0/33\n", "", "ANTREA_EGRESS_EXCEPT_CIDRS"),
])
def test_bad_antrea_value_is_located_at_its_line(line: str, code: str, word: str,
                                                 tmp_path: Path) -> None:
    root = fleet(tmp_path)
    path = tmp_path / "in.yaml"
    path.write_text(FLAT + line, encoding="utf-8")
    with pytest.raises(FleetError) as info:
        import_tkg(root, path, None, root / IMPORTED)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert [p.location.line for p in errors] == [12]
    assert word in errors[0].message
    assert not code or errors[0].code == code


def test_region_on_aws_is_reported(tmp_path: Path) -> None:
    flat = ("CLUSTER_NAME: web\nNAMESPACE: dev\nINFRASTRUCTURE_PROVIDER: aws\nAWS_REGION: "
            "eu-west-1\nAWS_SSH_KEY_NAME: k\nAWS_NODE_AZ: eu-west-1a\nVSPHERE_REGION: r\n")
    root = fleet(tmp_path)
    path = tmp_path / "in.yaml"
    path.write_text(flat, encoding="utf-8")
    result = import_tkg(root, path, None, root / IMPORTED)
    assert [(p.location.line, p.code) for p in result.reported] == [(7, "not-imported")]
    assert "vsphere" not in load_fast(result.text)


def test_kube_vip_load_balancer(tmp_path: Path) -> None:
    # config_default.yaml:767-769
    extra = ("KUBEVIP_LOADBALANCER_ENABLE: true\nKUBEVIP_LOADBALANCER_CIDRS: 10.0.5.0/28\n"
             "KUBEVIP_LOADBALANCER_IP_RANGES: 10.0.6.1-10.0.6.9,10.0.7.1-10.0.7.9\n")
    root, data, reported = imported(tmp_path, extra)
    assert data["vsphere"]["kubeVipLoadBalancer"] == {
        "cidrs": ["10.0.5.0/28"], "ipRanges": ["10.0.6.1-10.0.6.9", "10.0.7.1-10.0.7.9"]}
    assert reported == []
    config = flat_config(root)
    assert config["KUBEVIP_LOADBALANCER_ENABLE"] is True
    assert config["KUBEVIP_LOADBALANCER_CIDRS"] == "10.0.5.0/28"
    assert config["KUBEVIP_LOADBALANCER_IP_RANGES"] == "10.0.6.1-10.0.6.9,10.0.7.1-10.0.7.9"


def test_kube_vip_enabled_without_addresses_is_kept(tmp_path: Path) -> None:
    # ENABLE alone still sets the kubeVipLoadBalancerProvider variable
    # (providers/yttcc/lib/config_variable_association.star:998-999)
    root, data, _ = imported(tmp_path, "KUBEVIP_LOADBALANCER_ENABLE: \"true\"\n")
    assert data["vsphere"]["kubeVipLoadBalancer"] == {}
    assert flat_config(root)["KUBEVIP_LOADBALANCER_ENABLE"] is True


def test_kube_vip_addresses_without_enable_are_reported(tmp_path: Path) -> None:
    _, data, reported = imported(tmp_path, "KUBEVIP_LOADBALANCER_CIDRS: 10.0.5.0/28\n")
    assert "kubeVipLoadBalancer" not in data.get("vsphere", {})
    assert [(p.location.line, p.code) for p in reported] == [(12, "not-imported")]
    assert "KUBEVIP_LOADBALANCER_ENABLE is not true" in reported[0].message
