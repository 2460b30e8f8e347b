"""DHCP reservations, NSX ALB DNS records and per-management-cluster feature flags: their rules
(exact message and location) and their rendered outputs."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest
from ruamel.yaml import YAML

from generator.pipeline import load_fleet
from generator.problems import FleetError
from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, write_tree

REPO = Path(__file__).resolve().parents[2]
NETWORK = dedent("""\
    nodeNetworks:
      vlan20: {cidr: 10.20.0.0/24, dhcpRanges: [10.20.0.100-10.20.0.200]}
    """)


def fleet(root: Path, **clusters: str) -> Path:
    files = {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + NETWORK}
    files.update({f"clusters/dev/{name}.yaml": dedent(text) for name, text in clusters.items()})
    return write_tree(root, files)


def problems(root: Path) -> list[str]:
    with pytest.raises(FleetError) as info:
        load_fleet(root)
    return [f"{p.location}: {p.code}: {p.message}" for p in info.value.problems]


WEB = """\
    controlPlane: {endpoint: 10.20.0.10}
    network:
      nodes:
        nodeNetwork: vlan20
        dhcpReservations:
        - {node: web-cp-0, mac: "00:50:56:AA:00:01", ip: 10.20.0.21}
        - {node: web-md-0, mac: "00:50:56:aa:00:02", ip: "fd00::5"}
        - {node: web-cp-0, mac: "00:50:56:aa:00:01", ip: 10.20.1.9}
    """


def test_reservation_rules(tmp_path: Path) -> None:
    fleet(tmp_path, web=WEB)
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:7:54: reservation-outside-network: reservation fd00::5 for node "
        "'web-md-0' is outside node network 'vlan20' (10.20.0.0/24)",
        "clusters/dev/web.yaml:8:14: duplicate-reservation: node web-cp-0 is already reserved by "
        "entry 0",
        "clusters/dev/web.yaml:8:29: duplicate-reservation: mac 00:50:56:aa:00:01 is already "
        "reserved by entry 0",
        "clusters/dev/web.yaml:8:54: reservation-outside-network: reservation 10.20.1.9 for node "
        "'web-cp-0' is outside node network 'vlan20' (10.20.0.0/24)",
    ]


def test_reservations_need_a_declared_node_network(tmp_path: Path) -> None:
    fleet(tmp_path, web=WEB.replace("nodeNetwork: vlan20", "nodeNetwork: vlan02"))
    assert problems(tmp_path)[:2] == [
        "clusters/dev/web.yaml:4:18: unknown-node-network: no node network 'vlan02' is declared",
        "clusters/dev/web.yaml:5:5: reservation-network: DHCP reservations need "
        "network.nodes.nodeNetwork naming a nodeNetworks entry with a cidr",
    ]


def test_reservation_inside_a_pool_or_on_an_endpoint(tmp_path: Path) -> None:
    fleet(tmp_path, web="""\
        controlPlane: {endpoint: 10.20.0.10}
        network:
          nodes:
            nodeNetwork: vlan20
            dhcpReservations:
            - {node: a, mac: "00:50:56:aa:00:01", ip: 10.20.0.10}
        """, ipam="""\
        controlPlane: {endpoint: 10.20.0.11}
        network:
          nodes:
            ipPool: {gateway: 10.20.0.1, prefix: 24, addresses: [10.20.0.30-10.20.0.40],
                     nodeNetwork: vlan20}
          nameservers: {controlPlane: [10.20.0.2], worker: [10.20.0.2]}
        """, web2="""\
        controlPlane: {endpoint: 10.20.0.12}
        network:
          nodes:
            nodeNetwork: vlan20
            dhcpReservations:
            - {node: b, mac: "00:50:56:aa:00:02", ip: 10.20.0.35}
        """)
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:6:47: address-conflict: the DHCP reservation of node 'a' overlaps "
        "the endpoint of cluster 'web' (clusters/dev/web.yaml:1:26) in 10.20.0.10",
        "clusters/dev/web2.yaml:6:47: reservation-in-pool: the DHCP reservation of node 'b' "
        "overlaps pool 'ipam-pool' (clusters/dev/ipam.yaml:4:5) in 10.20.0.35",
    ]


def test_reservations_only_for_dhcp_clusters(tmp_path: Path) -> None:
    fleet(tmp_path, web="""\
        controlPlane: {endpoint: 10.20.0.10}
        network:
          nodes:
            ipPool: {gateway: 10.20.0.1, prefix: 24, addresses: [10.20.0.30-10.20.0.40]}
            dhcpReservations: [{node: a, mac: "00:50:56:aa:00:01", ip: 10.20.0.21}]
          nameservers: {controlPlane: [10.20.0.2], worker: [10.20.0.2]}
        """)
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:5:5: reservation-with-ipam: DHCP reservations apply to DHCP "
        "clusters; this cluster uses node IPAM"]


def test_bad_mac_is_a_located_value_error(tmp_path: Path) -> None:
    fleet(tmp_path, web=WEB.replace('"00:50:56:AA:00:01"', '"00-50-56-aa-00-01"'))
    assert problems(tmp_path)[0] == (
        "clusters/dev/web.yaml:6:29: invalid-value: network.nodes.dhcpReservations[0].mac: "
        "'00-50-56-aa-00-01' is not a MAC address (six hex pairs separated by ':')")


def test_vip_rules(tmp_path: Path) -> None:
    fleet(tmp_path, a="controlPlane: {endpoint: 10.20.0.10, vip: 10.20.0.50}\n",
          b="controlPlane: {endpointProvider: nsx-alb, endpoint: b.example.com, "
            "vip: 10.20.0.50}\n")
    assert problems(tmp_path) == [
        "clusters/dev/a.yaml:1:38: vip-not-applicable: a recorded VIP is for NSX ALB clusters "
        "with an FQDN endpoint",
        "clusters/dev/b.yaml:1:73: address-conflict: the VIP of cluster 'b' overlaps the VIP of "
        "cluster 'a' (clusters/dev/a.yaml:1:43) in 10.20.0.50",
    ]


def test_flags_conflict_across_clusters_of_one_management_cluster(tmp_path: Path) -> None:
    fleet(tmp_path, a="controlPlane: {endpoint: 10.20.0.10}\n"
                      "features: {cluster: {custom-nameservers: \"true\"}}\n",
          b="controlPlane: {endpoint: 10.20.0.11}\n"
            "features: {cluster: {custom-nameservers: \"false\"}}\n")
    assert problems(tmp_path) == [
        "clusters/dev/b.yaml:2:42: flag-conflict: cluster.custom-nameservers is \"false\" here "
        "but \"true\" for cluster 'a' on 'mgmt-a'"]


def test_dual_stack_management_cluster_gets_its_flag(tmp_path: Path) -> None:
    fleet(tmp_path, a="controlPlane: {endpoint: 10.20.0.10}\n"
                      "managementClusters: {mgmt-a: {ipFamily: \"ipv4,ipv6\"}}\n")
    assert fleetgen(tmp_path, "render").exit_code == 0
    script = (tmp_path / "rendered/mgmt-a/tanzu-features.sh").read_text()
    assert "tanzu config set features.management-cluster.dual-stack-ipv4-primary true\n" in script
    fragment = YAML(typ="safe").load((tmp_path / "rendered/mgmt-a/tanzu-features.yaml").read_text())
    assert fragment["clientOptions"]["features"] == {
        "management-cluster": {"dual-stack-ipv4-primary": "true"}}


def test_example_outputs_dhcp_dns_and_flags() -> None:
    rendered = REPO / "rendered"
    dhcpd = (rendered / "mgmt-site-a/dev/web/dhcpd.conf").read_text()
    assert ("host web-control-plane-0 {\n  hardware ethernet 00:50:56:a1:10:01;\n"
            "  fixed-address 10.20.0.21;\n}\n") in dhcpd
    kea = json.loads((rendered / "mgmt-site-a/dev/web/kea-reservations.json").read_text())
    assert kea["reservations"][0] == {"hostname": "web-control-plane-0",
                                      "hw-address": "00:50:56:a1:10:01",
                                      "ip-address": "10.20.0.21"}
    zone = (rendered / "mgmt-site-a/_global/endpoints.zone").read_text()
    assert "portal-api.site-a.example.com. 300 IN A 10.20.0.50\n" in zone
    endpoint = YAML(typ="safe").load(
        (rendered / "mgmt-site-a/_global/dnsendpoint-prod.portal.yaml").read_text())
    assert endpoint["spec"]["endpoints"] == [{"dnsName": "portal-api.site-a.example.com",
                                              "recordType": "A", "recordTTL": 300,
                                              "targets": ["10.20.0.50"]}]
    features = YAML(typ="safe").load((rendered / "mgmt-site-a/lab/ds-lab/features.yaml").read_text())
    assert features["clientOptions"]["features"] == {"cluster": {"dual-stack-ipv4-primary": "true"}}
    flat = YAML(typ="safe").load((rendered / "mgmt-site-a/lab/ds-lab/cluster-config.yaml").read_text())
    assert flat["ANTREA_ENDPOINTSLICE"] is True
    script = (rendered / "mgmt-site-a/tanzu-features.sh").read_text()
    assert "tanzu config set features.cluster.dual-stack-ipv4-primary true\n" in script
