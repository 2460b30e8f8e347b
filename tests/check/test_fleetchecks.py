"""Cross-field and fleet-wide rules: each has a code, a message and the location to edit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from generator.check.run import check_fleet
from generator.load.inventory import load_inventory
from generator.pipeline import load_fleet
from generator.problems import FleetError
from support.fleets import small_fleet, write_tree

EP = "controlPlane: {endpoint: 10.0.0.10}\n"
AWS = """\
managementCluster: mgmt-aws
infrastructure: aws
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
aws:
  region: eu-west-1
  sshKeyName: k
  vpc: {cidr: 10.0.0.0/16}
"""
AZURE = """\
managementCluster: mgmt-az
infrastructure: azure
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
azure:
  location: westeurope
  subscriptionID: s
  sshPublicKey: a2V5
"""


def problems(root: Path) -> list[str]:
    with pytest.raises(FleetError) as info:
        load_fleet(root)
    return [f"{p.location}: {p.code}: {p.message}" for p in info.value.problems]


def test_vsphere_kube_vip_needs_an_endpoint(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="cni: antrea\n")
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:1:1: endpoint-required: a vSphere cluster with kube-vip needs "
        "controlPlane.endpoint"]


def test_nsx_alb_may_omit_the_endpoint(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane: {endpointProvider: nsx-alb}\n")
    assert [c.spec.name for c in load_fleet(tmp_path).clusters] == ["web"]


def test_endpoint_unique_across_the_fleet(tmp_path: Path) -> None:
    small_fleet(tmp_path, a=EP, b=EP)
    assert problems(tmp_path) == [  # at both places (issue 19): each may be the PR's change
        ("clusters/dev/a.yaml:1:26: duplicate-endpoint: endpoint 10.0.0.10 is also used by "
         "cluster 'b' (clusters/dev/b.yaml:1:26)"),
        ("clusters/dev/b.yaml:1:26: duplicate-endpoint: endpoint 10.0.0.10 is also used by "
         "cluster 'a' (clusters/dev/a.yaml:1:26)")]


def test_same_cluster_twice_in_one_namespace(tmp_path: Path) -> None:
    small_fleet(tmp_path, a=EP, b="name: a\ncontrolPlane: {endpoint: 10.0.0.11}\n")
    assert problems(tmp_path) == [
        "clusters/dev/b.yaml:1:7: duplicate-cluster: cluster 'a' in namespace 'dev' of 'mgmt-a' "
        "is also defined by clusters/dev/a.yaml"]


def test_prod_plan_needs_three_workers(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + "plan: prod\nworkers: [{name: md-0, replicas: 2}]\n")
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:3:10: prod-workers: the prod plan needs at least 3 workers, this "
        "cluster has 2"]


def test_ipv6_cluster_rules(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="""\
        network: {ipFamily: ipv6}
        os: {name: photon}
        controlPlane: {endpoint: 10.0.0.10, endpointProvider: nsx-alb}
        """)
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:1:21: family-unsupported: IPv6 clusters cannot use NSX ALB",
        "clusters/dev/web.yaml:1:21: family-unsupported: IPv6 clusters need Ubuntu nodes, not photon",
        "clusters/dev/web.yaml:3:26: family-mismatch: endpoint 10.0.0.10 is ipv4, the cluster is "
        "ipv6",
    ]


def test_dual_stack_flag_cannot_be_switched_off(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + dedent("""\
        network:
          ipFamily: ipv4,ipv6
          pods: [100.96.0.0/11, "fd00:100:96::/48"]
          services: [100.64.0.0/13, "fd00:100:64::/108"]
        features: {cluster: {dual-stack-ipv4-primary: "false"}}
        """))
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:6:47: flag-conflict: ipFamily ipv4,ipv6 needs "
        "cluster.dual-stack-ipv4-primary \"true\""]


def test_dual_stack_cidrs_primary_family_first(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + dedent("""\
        network:
          ipFamily: ipv6,ipv4
          pods: [100.96.0.0/11, "fd00:100:96::/48"]
        """))
    assert problems(tmp_path)[0] == (
        "clusters/dev/web.yaml:4:9: family-mismatch: ipFamily ipv6,ipv4 needs exactly two pods "
        "CIDRs, ipv6 first, then ipv4")


def test_aws_node_cidrs_inside_the_vpc_and_disjoint(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": """\
        aws:
          subnets:
          - {az: eu-west-1a, private: {cidr: 10.0.0.0/24}, public: {cidr: 10.1.0.0/24}}
          - {az: eu-west-1b, private: {cidr: 10.0.0.128/25}}
        """})
    assert problems(tmp_path) == [
        "clusters/shop.yaml:3:3: flat-inexpressible: tanzu cluster create --file "
        "cluster-config.yaml would build subnet 0 only: the dev plan reads no AWS_NODE_AZ_1 / _2 "
        "(cluster.yaml has 2 subnets)",
        "clusters/shop.yaml:3:67: subnet-outside-vpc: public node CIDR 10.1.0.0/24 is not inside "
        "the VPC CIDR 10.0.0.0/16",
        "clusters/shop.yaml:4:38: subnet-overlap: private node CIDR 10.0.0.128/25 overlaps "
        "10.0.0.0/24 (aws.subnets[0].private)",
    ]


def test_aws_cluster_takes_no_endpoint_and_prod_fills_in_its_zones(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": """\
        plan: prod
        controlPlane: {endpoint: 10.0.0.5}
        aws: {subnets: [{az: eu-west-1a}]}
        """})
    # No prod-workers problem: without `workers` a prod cluster gets tanzu's md-0 … md-2 of 3
    # workers in all (tanzu-framework-release-0.29 providers/infrastructure-aws/v2.0.2/yttcc/
    # overlay.yaml:60-107, tkg/client/validate.go:1460-1474).
    # No prod-zones problem either: in a new VPC tanzu builds subnets 1 and 2 itself, in
    # <region>b / c with the default CIDRs (tanzu-framework-release-0.29
    # providers/yttcc/lib/config_variable_association.star:610-670; issue 15 item 9).
    assert problems(tmp_path) == [
        "clusters/shop.yaml:2:16: endpoint-not-allowed: AWS clusters get their endpoint from a "
        "cloud load balancer",
    ]


def test_azure_subnets_inside_the_vnet(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": AZURE, "clusters/crm.yaml": """\
        azure:
          vnet: {cidrBlocks: [10.60.0.0/16]}
          controlPlaneSubnet: {cidr: 10.61.0.0/24}
          workerSubnet: {}
        """})
    # workerSubnet {} is a new subnet of tanzu's default CIDR 10.0.1.0/24 (AZURE_NODE_SUBNET_CIDR,
    # tanzu-framework-release-0.29 providers/config_default.yaml:401), outside this VNet.
    assert problems(tmp_path) == [
        "clusters/crm.yaml:3:30: subnet-outside-vnet: subnet 10.61.0.0/24 is not inside the VNet "
        "(10.60.0.0/16)",
        "clusters/crm.yaml:4:17: subnet-outside-vnet: subnet 10.0.1.0/24 is not inside the VNet "
        "(10.60.0.0/16) (tanzu's default CIDR for this subnet)",
    ]


def test_node_ipam_is_vsphere_only(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": """\
        aws: {subnets: [{az: eu-west-1a}]}
        network:
          nodes: {ipPool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.9/29]}}
          nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
        """})
    assert problems(tmp_path) == [
        "clusters/shop.yaml:3:19: ipam-unsupported: node IPAM is available on vSphere only"]


def test_same_pool_name_declared_twice_differently(tmp_path: Path) -> None:
    pool = "ipPools: {p: {gateway: 10.0.0.1, prefix: 24, addresses: [%s]}}\n"
    net = "network: {nodes: {ipPool: p}, nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}}\n"
    small_fleet(tmp_path, a=EP + net + pool % "10.0.0.20/29",
                b="controlPlane: {endpoint: 10.0.0.11}\n" + net + pool % "10.0.0.32/29")
    assert problems(tmp_path) == [
        "clusters/dev/b.yaml:3:11: pool-conflict: pool 'p' on 'mgmt-a' is declared differently "
        "at clusters/dev/a.yaml:3:11"]


def test_pool_entry_that_does_not_parse(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + dedent("""\
        network:
          nodes: {ipPool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.9-10.0.0.3]}}
          nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
        """))
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:3:63: pool-address: pool 'web-pool': range '10.0.0.9-10.0.0.3' "
        "ends before it starts"]


def test_overlay_must_exist(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + "overlays: [prod-sizing]\n")
    (tmp_path / "overlays" / "prod-sizes").mkdir(parents=True)
    with pytest.raises(FleetError) as info:
        load_fleet(tmp_path)
    (problem,) = info.value.problems
    assert (str(problem.location), problem.code, problem.message, problem.hint) == (
        "clusters/dev/web.yaml:2:12", "unknown-overlay", "no overlay 'prod-sizing' in overlays/",
        "did you mean 'prod-sizes'?")


def test_overlays_come_from_the_inventory_not_the_disk(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + "overlays: [prod-sizing]\n")
    inventory = load_inventory(tmp_path)
    assert inventory.overlays == ()
    (tmp_path / "overlays" / "prod-sizing").mkdir(parents=True)  # too late: the load is done
    with pytest.raises(FleetError) as info:
        check_fleet(inventory)
    assert [p.code for p in info.value.problems] == ["unknown-overlay"]
    check_fleet(replace(inventory, overlays=("prod-sizing",)))


def test_node_ipam_never_with_windows_workers(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + dedent("""\
        workers: [{name: md-0, replicas: 1, class: tkg-worker-windows}]
        network:
          nodes: {ipPool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.16/29]}}
          nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
        """))
    assert problems(tmp_path) == [
        "clusters/dev/web.yaml:4:19: ipam-unsupported: node IPAM does not support Windows workers"]


def test_clusters_in_one_azure_vnet_do_not_overlap(tmp_path: Path) -> None:
    vnet = "  vnet: {name: shared, resourceGroup: rg-net, cidrBlocks: [10.60.0.0/16]}\n"
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": AZURE,
        "clusters/a.yaml": "azure:\n" + vnet + "  controlPlaneSubnet: {cidr: 10.60.0.0/24}\n"
                           "  workerSubnet: {cidr: 10.60.4.0/22}\n",
        "clusters/b.yaml": "azure:\n" + vnet + "  controlPlaneSubnet: {cidr: 10.60.1.0/24}\n"
                           "  workerSubnet: {cidr: 10.60.6.0/24}\n",
    })
    assert problems(tmp_path) == [
        "clusters/b.yaml:4:24: subnet-overlap: subnet 10.60.6.0/24 overlaps 10.60.4.0/22 of "
        "cluster 'a' (clusters/a.yaml:4:24) in Azure VNet rg-net/shared"]


def test_clusters_in_one_existing_aws_vpc_do_not_overlap(tmp_path: Path) -> None:
    shop = "aws:\n  vpc: {existingID: vpc-0abc}\n  subnets: [{az: eu-west-1a, private: {cidr: %s}," \
           " public: {cidr: %s}}]\n"
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS.replace("  vpc: {cidr: 10.0.0.0/16}\n", ""),
                          "clusters/a.yaml": shop % ("10.0.0.0/24", "10.0.1.0/24"),
                          "clusters/b.yaml": shop % ("10.0.2.0/24", "10.0.1.128/25")})
    assert problems(tmp_path) == [
        "clusters/b.yaml:3:75: subnet-overlap: subnet 10.0.1.128/25 overlaps 10.0.1.0/24 of "
        "cluster 'a' (clusters/a.yaml:3:75) in AWS VPC vpc-0abc"]
