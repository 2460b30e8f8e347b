"""The checks the tanzu CLI makes before it creates a workload cluster (issue 15, item 8), each
at the inventory key to edit. `tanzu-framework-release-0.29 <path>:<line>` is the reference in
../shared/reference/ (TKG 2.2 era); the TKG 2.4 docs are ../shared/seed/ and ../shared/docs/."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from generator.check.run import check_fleet
from generator.load.inventory import load_inventory
from generator.problems import FleetError
from support.fleets import VSPHERE_DEFAULTS, small_fleet, write_tree

AWS = """\
managementCluster: mgmt-aws
infrastructure: aws
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
aws:
  region: eu-west-1
  sshKeyName: k
"""
AZURE = """\
managementCluster: mgmt-az
infrastructure: azure
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
azure:
  location: westeurope
  subscriptionID: s
  sshPublicKey: c3NoLXJzYSBBQUFBQjNOemFDMXljMkVBQUFBREFRQUJBQUFCQVFDIHVzZXJAaG9zdAo=
"""
EP = "controlPlane: {endpoint: 10.0.0.10}\n"


def found(root: Path) -> list[str]:
    """Every problem (errors and warnings) as `location: code: message`."""
    try:
        fleet = check_fleet(load_inventory(root))
    except FleetError as exc:
        problems = exc.problems
    else:
        problems = list(fleet.warnings)
    return [f"{p.location}: {p.code}: {p.message}" for p in problems]


# --- AWS -------------------------------------------------------------------------------------

def test_aws_zone_outside_its_region(tmp_path: Path) -> None:
    # tanzu-framework-release-0.29 tkg/client/validate.go:331-335: AWS_NODE_AZ must start with
    # AWS_REGION ("Node availability zone … is not part of AWS region …")
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": dedent("""\
        aws:
          subnets:
          - az: eu-west-1a
          - az: us-east-1b
        plan: prod
        """)})
    assert found(tmp_path) == [
        "clusters/shop.yaml:4:9: zone-outside-region: availability zone us-east-1b is not in "
        "region eu-west-1"]


def test_aws_zones_of_the_region_pass(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS,
                          "clusters/shop.yaml": "aws: {subnets: [{az: eu-west-1c}]}\n"})
    assert found(tmp_path) == []


def test_aws_prod_in_an_existing_vpc_needs_three_subnets(tmp_path: Path) -> None:
    # validate.go:1028-1039: prod in an existing VPC asks for AWS_PRIVATE_SUBNET_ID_1 and _2
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": dedent("""\
        plan: prod
        aws:
          vpc: {existingID: vpc-1}
          subnets: [{az: eu-west-1a, private: {id: subnet-1}}]
        """)})
    assert found(tmp_path) == [
        "clusters/shop.yaml:4:12: prod-zones: the prod plan in an existing VPC needs 3 subnets, "
        "not 1"]


def test_aws_prod_defaults_must_fit_a_custom_vpc(tmp_path: Path) -> None:
    # the subnets tanzu adds for prod take the default CIDRs (providers/config_default.yaml:271-274),
    # which a custom AWS_VPC_CIDR must hold like any node CIDR (shared/docs/domain.md §4)
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml": dedent("""\
        plan: prod
        aws:
          vpc: {cidr: 10.50.0.0/16}
          subnets: [{az: eu-west-1a, private: {cidr: 10.50.0.0/24}, public: {cidr: 10.50.1.0/24}}]
        """)})
    assert sorted(found(tmp_path)) == [
        f"clusters/shop.yaml:4:12: subnet-outside-vpc: {side} node CIDR {cidr} is not inside the "
        "VPC CIDR 10.50.0.0/16" for side, cidr in (("private", "10.0.2.0/24"),
                                                  ("private", "10.0.4.0/24"),
                                                  ("public", "10.0.3.0/24"),
                                                  ("public", "10.0.5.0/24"))]


def test_aws_identity_kind_without_a_name_is_ignored(tmp_path: Path) -> None:
    # providers/infrastructure-aws/v2.0.2/cconly/base.yaml:654: the identityRef patch is enabled
    # only when identityRef.name is set; tanzu accepts the kind alone and ignores it
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml":
                          "aws: {identityRef: {kind: AWSClusterRoleIdentity}}\n"})
    assert found(tmp_path) == [
        "clusters/shop.yaml:1:7: identity-ignored: identityRef without a name is ignored: the "
        "cluster uses CAPA's default controller identity"]


def test_aws_dev_with_more_subnets_warns_the_flat_config_differs(tmp_path: Path) -> None:
    # providers/yttcc/lib/config_variable_association.star:610: _1 / _2 subnets for prodcc only
    write_tree(tmp_path, {"clusters/_defaults.yaml": AWS, "clusters/shop.yaml":
                          "aws: {subnets: [{az: eu-west-1a}, {az: eu-west-1b}]}\n"})
    assert found(tmp_path) == [
        "clusters/shop.yaml:1:16: flat-inexpressible: tanzu cluster create --file "
        "cluster-config.yaml would build subnet 0 only: the dev plan reads no AWS_NODE_AZ_1 / _2 "
        "(cluster.yaml has 2 subnets)"]


# --- Azure -----------------------------------------------------------------------------------

def test_azure_cluster_name_rule(tmp_path: Path) -> None:
    # validate.go:1676-1678 (CheckClusterNameFormat, Azure): ^[a-z][a-z0-9-.]{0,42}[a-z0-9]$
    long = "c" + "x" * 44  # 45 characters
    write_tree(tmp_path, {"clusters/_defaults.yaml": AZURE, "clusters/9crm.yaml": "",
                          f"clusters/{long}.yaml": "", "clusters/crm.yaml": ""})
    pattern = "[a-z][a-z0-9-.]{0,42}[a-z0-9]"
    assert found(tmp_path) == [
        f"clusters/9crm.yaml:1:1: cluster-name: cluster name '9crm': on Azure a cluster name "
        f"starts with a letter and has at most 44 characters (the tanzu CLI refuses it: it must "
        f"match {pattern})",
        f"clusters/{long}.yaml:1:1: cluster-name: cluster name '{long}': on Azure a cluster name "
        f"starts with a letter and has at most 44 characters (the tanzu CLI refuses it: it must "
        f"match {pattern})"]


def test_azure_ssh_key_must_be_base64(tmp_path: Path) -> None:
    # validate.go:283-294 ValidateAzurePublicSSHKey: base64.StdEncoding.DecodeString must succeed
    write_tree(tmp_path, {"clusters/_defaults.yaml": AZURE, "clusters/crm.yaml":
                          "azure: {sshPublicKey: 'ssh-rsa AAAAB3Nza user@host'}\n"})
    assert found(tmp_path) == [
        "clusters/crm.yaml:1:23: invalid-value: sshPublicKey is not base64: it is "
        "AZURE_SSH_PUBLIC_KEY_B64, the public key base64-encoded"]


# --- vSphere ---------------------------------------------------------------------------------

def test_ako_name_limit_with_nsx_alb(tmp_path: Path) -> None:
    # tkg/client/cluster.go:959-993 (workload) and validate.go:1910-1912: more than 25 characters
    # "will cause AKO package deployment failure"
    name26, name25 = "a" * 26, "b" * 25
    small_fleet(tmp_path, **{name26: "controlPlane: {endpointProvider: nsx-alb}\n",
                             name25: "controlPlane: {endpointProvider: nsx-alb}\n",
                             "c" * 26: EP.replace("10", "11", 1)})
    assert found(tmp_path) == [
        f"clusters/dev/{name26}.yaml:1:1: cluster-name: cluster name '{name26}' has 26 "
        "characters; with NSX ALB (AKO) at most 25 are allowed (AKO fails to deploy otherwise)"]


def test_endpoint_equal_to_vcenter_as_addresses(tmp_path: Path) -> None:
    # validate.go:815-826: equal as text, or as IP addresses (net.IP.Equal)
    defaults = VSPHERE_DEFAULTS.replace("server: vc.example.com", 'server: "fd00:50::5"')
    write_tree(tmp_path, {"clusters/_defaults.yaml": defaults, "clusters/dev/v6.yaml": dedent("""\
        controlPlane: {endpoint: "fd00:50:0::5"}
        network: {ipFamily: ipv6}
        """)})
    assert found(tmp_path) == [
        "clusters/dev/v6.yaml:1:26: endpoint-is-vcenter: the control-plane endpoint must not be "
        "the vCenter server (fd00:50::5)"]


def test_endpoint_equal_to_vcenter_as_names(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane: {endpoint: VC.Example.com.}\n")
    assert found(tmp_path) == [
        "clusters/dev/web.yaml:1:26: endpoint-is-vcenter: the control-plane endpoint must not be "
        "the vCenter server (vc.example.com)"]


def test_storage_policy_instead_of_a_datastore(tmp_path: Path) -> None:
    # validate.go:920-928 verifyDatastoreOrStoragePolicySet: one of the two is enough
    defaults = VSPHERE_DEFAULTS.replace("  datastore: /dc0/datastore/ds1\n", "")
    write_tree(tmp_path, {"clusters/_defaults.yaml": defaults, "clusters/dev/a1.yaml": EP,
                          "clusters/dev/b1.yaml": EP.replace("10", "11", 1)
                          + "vsphere: {storagePolicyID: gold}\n"})
    assert found(tmp_path) == [
        "clusters/_defaults.yaml:5:1: missing-key: vSphere clusters need vsphere.datastore or "
        "vsphere.storagePolicyID (VSPHERE_DATASTORE / VSPHERE_STORAGE_POLICY_ID)"]


# --- the management cluster's IP family --------------------------------------------------------

V6 = dedent("""\
    controlPlane: {endpoint: "fd00:20::10"}
    network: {ipFamily: ipv6}
    """)
DUAL = dedent("""\
    controlPlane: {endpoint: 10.0.0.12}
    network:
      ipFamily: ipv4,ipv6
      pods: [100.96.0.0/11, "fd00:100:96::/48"]
      services: [100.64.0.0/13, "fd00:100:64::/108"]
    """)


def test_ipv6_workload_cluster_needs_an_ipv6_management_cluster(tmp_path: Path) -> None:
    # TKG 2.4: IPv6 workload clusters are deployed from an IPv6 management cluster
    # (../shared/seed/000_5e1b867fe812736d.txt:248); the 2.2 source has no such check
    # (tkg/client/validate.go:1693-1731 looks at the workload cluster only)
    defaults = VSPHERE_DEFAULTS + "managementClusters:\n  mgmt-a: {ipFamily: ipv4}\n"
    write_tree(tmp_path, {"clusters/_defaults.yaml": defaults, "clusters/dev/v6.yaml": V6,
                          "clusters/dev/ds.yaml": DUAL})
    declared = f"clusters/_defaults.yaml:{defaults.count(chr(10))}:22"
    assert found(tmp_path) == [
        "clusters/dev/ds.yaml:3:13: family-mismatch: a dual-stack workload cluster needs a "
        f"dual-stack management cluster; 'mgmt-a' is ipv4 ({declared})",
        "clusters/dev/v6.yaml:2:21: family-mismatch: an IPv6 workload cluster needs an IPv6 "
        f"management cluster; 'mgmt-a' is ipv4 ({declared})"]


def test_family_of_the_management_cluster_matches(tmp_path: Path) -> None:
    defaults = VSPHERE_DEFAULTS + "managementClusters:\n  mgmt-a: {ipFamily: ipv6}\n"
    write_tree(tmp_path, {"clusters/_defaults.yaml": defaults, "clusters/dev/v6.yaml": V6})
    assert found(tmp_path) == []


def test_undeclared_management_cluster_is_not_guessed(tmp_path: Path) -> None:
    small_fleet(tmp_path, v6=V6)
    assert found(tmp_path) == []
