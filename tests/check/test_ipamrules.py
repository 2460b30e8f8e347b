"""Each IPAM rule: its exact message and the location a person has to edit."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from textwrap import dedent

import pytest

from ruamel.yaml import YAML

from generator.check.run import check_fleet
from generator.load.inventory import merge_layers
from generator.load.inventory import load_inventory
from generator.problems import FleetError, Problem
from generator.yaml.dump import dump
from support.fleets import VSPHERE_DEFAULTS, write_tree

NS = "network:\n  nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}\n"


def fleet_problems(root: Path) -> list[str]:
    try:
        fleet = check_fleet(load_inventory(root))
    except FleetError as exc:
        found: list[Problem] = exc.problems
    else:
        found = list(fleet.warnings)
    return [f"{p.location}: {p.severity}[{p.code}]: {p.message}" for p in found]


def pool_fleet(root: Path, pool: str, *users: str) -> list[str]:
    """A fleet whose _defaults declare pool 'p' (YAML body of the pool) and clusters using it."""
    files = {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + "ipPools:\n  p:\n"
             + "".join(f"    {line}\n" for line in dedent(pool).strip().splitlines())}
    for index, extra in enumerate(users or ("",)):
        cluster = {"controlPlane": {"endpoint": f"10.9.0.{index + 1}"},
                   "network": {"nodes": {"ipPool": "p"}}}
        merged, _ = merge_layers([(cluster, {}), (YAML(typ="safe").load(dedent(extra)) or {}, {})])
        files[f"clusters/dev/c{index}.yaml"] = dump(merged)
    write_tree(root, files)
    return fleet_problems(root)


GOOD = """\
gateway: 10.0.0.1
prefix: 24
addresses: [10.0.0.10-10.0.0.60]
"""


def test_a_good_pool_has_no_problems(tmp_path: Path) -> None:
    assert pool_fleet(tmp_path, GOOD) == []


@pytest.mark.parametrize(("pool", "expected"), [
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: []",
     "clusters/_defaults.yaml:19:16: error[pool-empty]: pool 'p' has no addresses"),
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.10, 10.0.0.300]",
     "clusters/_defaults.yaml:19:28: error[pool-address]: pool 'p': '10.0.0.300' is not a valid "
     "IP, range, nor CIDR"),
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.10 - 10.0.0.20]",
     "clusters/_defaults.yaml:19:17: error[pool-address]: pool 'p': '10.0.0.10 ' is not a valid "
     "IP, range, nor CIDR"),
    ("prefix: 24\ngateway: \"fd00::1\"\naddresses: [10.0.0.10-10.0.0.60]",
     "clusters/_defaults.yaml:16:3: error[pool-family]: pool 'p' mixes IPv4 and IPv6 in its "
     "addresses, gateway and exclusions"),
    ("prefix: 33\ngateway: 10.0.0.1\naddresses: [10.0.0.10-10.0.0.60]",
     "clusters/_defaults.yaml:17:13: error[pool-prefix]: pool 'p': prefix 33 is out of range "
     "(1..32 for ipv4)"),
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.10-10.0.0.60, 10.0.1.5]",
     "clusters/_defaults.yaml:19:38: error[pool-subnet]: pool 'p': 10.0.1.5 is outside "
     "10.0.0.0/24, the subnet of its lowest address"),
    ("prefix: 24\naddresses: [10.0.0.10-10.0.0.60]",
     "clusters/_defaults.yaml:16:3: error[pool-gateway-required]: IPv4 pool 'p' needs a gateway"),
    ("prefix: 24\ngateway: 10.0.1.1\naddresses: [10.0.0.10-10.0.0.60]",
     "clusters/_defaults.yaml:18:14: error[pool-gateway-subnet]: gateway 10.0.1.1 is outside the "
     "pool's subnet 10.0.0.0/24"),
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.1-10.0.0.60]",
     "clusters/_defaults.yaml:18:14: warning[pool-gateway-in-range]: gateway 10.0.0.1 is inside "
     "the pool's addresses; it is never handed out"),
    ("prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.0/24]",
     "clusters/_defaults.yaml:19:16: warning[pool-reserved-address]: pool 'p' contains the "
     "subnet's network or broadcast address (10.0.0.0, 10.0.0.255)"),
])
def test_pool_rule(tmp_path: Path, pool: str, expected: str) -> None:
    assert expected in pool_fleet(tmp_path, pool)


def test_ipv6_pool_needs_no_gateway(tmp_path: Path) -> None:
    problems = pool_fleet(tmp_path, 'prefix: 64\naddresses: ["fd00:10::/64"]',
                          'network:\n  ipFamily: ipv6\n  nameservers: {controlPlane: ["fd00::2"],'
                          ' worker: ["fd00::2"]}\ncontrolPlane: {endpoint: "fd00:9::1"}\n')
    assert problems == ["clusters/_defaults.yaml:18:16: warning[pool-reserved-address]: pool 'p' "
                        "contains the subnet's network or broadcast address (fd00:10::)"]


def test_pool_capacity_counts_rollout_surge(tmp_path: Path) -> None:
    # 5 allocatable; c0 needs 1 cp + 2 workers + 1 cp surge + 1 md surge = 5 -> no headroom;
    # c1 adds 1 + 1 + 1 + 1 = 4 more -> short by 4
    pool = "prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.10-10.0.0.14]"
    one = "workers: [{name: md-0, replicas: 2}]\n"
    assert pool_fleet(tmp_path, pool, one) == [
        "clusters/_defaults.yaml:16:3: warning[pool-headroom]: pool 'p' has 0 spare of 5 "
        "allocatable (5 needed: c0 5)"]
    assert pool_fleet(tmp_path, pool, one, "workers: [{name: md-0, replicas: 1}]\n") == [
        "clusters/_defaults.yaml:16:3: error[pool-capacity]: pool 'p' is short by 4: 5 "
        "allocatable, 9 needed (c0 5, c1 4, rollout surge included)"]


def test_max_surge_changes_the_need(tmp_path: Path) -> None:
    pool = "prefix: 24\ngateway: 10.0.0.1\naddresses: [10.0.0.10-10.0.0.14]"
    assert "short by 2" in pool_fleet(
        tmp_path, pool, "workers: [{name: md-0, replicas: 2, maxSurge: 3}]\n")[0]


def test_in_cluster_pool_serves_one_namespace(tmp_path: Path) -> None:
    assert pool_fleet(tmp_path, GOOD, "", "namespace: other\n") == [
        "clusters/_defaults.yaml:16:3: error[pool-namespace]: InClusterIPPool 'p' serves only its "
        "own namespace, but clusters in dev, other use it"]


def test_overlapping_pools_on_one_management_cluster(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS,
        "clusters/dev/a.yaml": dedent("""\
            controlPlane: {endpoint: 10.9.0.1}
            network: {nodes: {ipPool: pa}}
            ipPools:
              pa: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40]}
            """),
        "clusters/dev/b.yaml": dedent("""\
            controlPlane: {endpoint: 10.9.0.2}
            network: {nodes: {ipPool: pb}}
            ipPools:
              pb: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.30-10.0.0.60]}
            """),
    })
    assert fleet_problems(tmp_path) == [
        "clusters/dev/b.yaml:4:3: error[pool-overlap]: pool 'pb' overlaps pool 'pa' "
        "(clusters/dev/a.yaml:4:3) in 10.0.0.30-10.0.0.40"]


def test_pools_overlapping_only_in_excluded_addresses_are_fine(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS,
        "clusters/dev/a.yaml": dedent("""\
            controlPlane: {endpoint: 10.9.0.1}
            network: {nodes: {ipPool: pa}}
            ipPools:
              pa: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40],
                   excludedAddresses: [10.0.0.30-10.0.0.40]}
              pb: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.30-10.0.0.60]}
            """),
        "clusters/dev/b.yaml": "controlPlane: {endpoint: 10.9.0.2}\nnetwork: {nodes: {ipPool: pb}}\n"
                               "ipPools:\n  pb: {gateway: 10.0.0.1, prefix: 24, "
                               "addresses: [10.0.0.30-10.0.0.60]}\n",
    })
    assert fleet_problems(tmp_path) == []


def test_pools_of_different_management_clusters_overlap_only_on_a_shared_network(
        tmp_path: Path) -> None:
    def fleet(network: str) -> list[str]:
        pool = "{gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40]%s}" % network
        write_tree(tmp_path, {
            "clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + "nodeNetworks: {vlan20: {}}\n",
            "clusters/dev/a.yaml": f"controlPlane: {{endpoint: 10.9.0.1}}\nnetwork: {{nodes: "
                                   f"{{ipPool: pa}}}}\nipPools:\n  pa: {pool}\n",
            "clusters/dev/b.yaml": f"managementCluster: mgmt-b\ncontrolPlane: {{endpoint: "
                                   f"10.9.0.2}}\nnetwork: {{nodes: {{ipPool: pb}}}}\nipPools:\n"
                                   f"  pb: {pool}\n",
        })
        return fleet_problems(tmp_path)

    assert fleet("") == []
    assert fleet(", nodeNetwork: vlan20") == [
        "clusters/dev/b.yaml:5:3: error[pool-overlap]: pool 'pb' overlaps pool 'pa' "
        "(clusters/dev/a.yaml:4:3) in 10.0.0.10-10.0.0.40"]


def test_endpoint_inside_a_node_pool(tmp_path: Path) -> None:
    assert pool_fleet(tmp_path, GOOD, "controlPlane: {endpoint: 10.0.0.20}\n") == [
        "clusters/dev/c0.yaml:2:13: error[endpoint-in-pool]: the endpoint of cluster 'c0' overlaps "
        "pool 'p' (clusters/_defaults.yaml:16:3) in 10.0.0.20"]


def test_excluded_endpoint_is_fine(tmp_path: Path) -> None:
    pool = GOOD + "excludedAddresses: [10.0.0.20]\n"
    assert pool_fleet(tmp_path, pool, "controlPlane: {endpoint: 10.0.0.20}\n") == []


def test_pod_and_service_cidrs_must_not_cover_node_pools(tmp_path: Path) -> None:
    assert pool_fleet(tmp_path, GOOD, "network:\n  services: [10.0.0.0/16]\n") == [
        "clusters/dev/c0.yaml:7:5: error[cidr-overlap]: services CIDR 10.0.0.0/16 of cluster 'c0' "
        "overlaps pool 'p' (clusters/_defaults.yaml:16:3) in 10.0.0.10-10.0.0.60"]


def test_pod_cidr_must_not_cover_an_endpoint(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS, "clusters/dev/a.yaml":
                          "controlPlane: {endpoint: 100.96.0.10}\n"})
    assert fleet_problems(tmp_path) == [
        "clusters/dev/a.yaml:1:1: error[cidr-overlap]: pods CIDR 100.96.0.0/11 of cluster 'a' "
        "overlaps the endpoint of cluster 'a' (clusters/dev/a.yaml:1:26) in 100.96.0.10"]


def test_dhcp_range_on_the_pool_network(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + dedent("""\
            nodeNetworks:
              vlan20: {dhcpRanges: [10.0.0.50-10.0.0.99]}
            ipPools:
              p: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.60],
                  nodeNetwork: vlan20}
            """),
        "clusters/dev/a.yaml": "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: p}}\n",
    })
    assert fleet_problems(tmp_path) == [
        "clusters/_defaults.yaml:18:3: error[dhcp-overlap]: pool 'p' overlaps the DHCP ranges of "
        "node network 'vlan20' (clusters/_defaults.yaml:16:24) in 10.0.0.50-10.0.0.60"]


def test_checked_pools_carry_their_parsed_addresses_and_are_frozen(tmp_path: Path) -> None:
    pool_fleet(tmp_path, GOOD, "", "")
    fleet = check_fleet(load_inventory(tmp_path))
    (pool,) = fleet.pools
    assert [u.spec.name for u in pool.users] == ["c0", "c1"] and isinstance(pool.users, tuple)
    assert pool.addresses is not None and str(pool.addresses.allocatable) == "10.0.0.10-10.0.0.60"
    with pytest.raises(dataclasses.FrozenInstanceError):
        pool.addresses = None  # type: ignore[misc]
