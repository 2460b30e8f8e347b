"""`fleetgen import tkg` accepts what the tanzu CLI accepts (issue 15, item 9) and an existing AWS
VPC with only private subnet IDs stays private (item 10), through import and render.

`tanzu-framework-release-0.29 <path>:<line>` is the reference in ../shared/reference/ (TKG 2.2
era; the TKG 2.4 docs say nothing else about these variables).
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

from generator.tkg.importer import Imported, import_tkg
from generator.yaml.fast import load_fast
from support.cli import fleetgen
from support.fleets import write_tree

IMPORTED = "clusters/imported"
BASE = """\
CLUSTER_NAME: shop
INFRASTRUCTURE_PROVIDER: aws
KUBERNETES_VERSION: v1.27.5+vmware.1-tkg.1
AWS_REGION: eu-west-1
AWS_SSH_KEY_NAME: tkg
"""
VSPHERE = """\
CLUSTER_NAME: web
INFRASTRUCTURE_PROVIDER: vsphere
KUBERNETES_VERSION: v1.27.5+vmware.1-tkg.1
VSPHERE_SERVER: vc.example.com
VSPHERE_DATACENTER: /dc0
VSPHERE_FOLDER: /dc0/vm/tkg
VSPHERE_RESOURCE_POOL: /dc0/host/c1/Resources/tkg
VSPHERE_CONTROL_PLANE_ENDPOINT: 10.0.0.10
"""


def imported(tmp_path: Path, flat: str) -> tuple[Path, Imported]:
    root = write_tree(tmp_path / "fleet", {
        "fleetgen.yaml": "credentials:\n  vsphere:\n    identityRef: "
                         "{kind: VSphereClusterIdentity, name: tkg-vcenter}\n",
        "clusters/_defaults.yaml": "managementCluster: mgmt\n", f"{IMPORTED}/.keep": ""})
    path = tmp_path / "cluster-config.yaml"
    path.write_text(dedent(flat), encoding="utf-8")
    result = import_tkg(root, path, None, root / IMPORTED)
    result.path.write_text(result.text, encoding="utf-8")
    return root, result


def inventory(result: Imported) -> dict[str, Any]:
    data = load_fast(result.text)
    assert isinstance(data, dict)
    return data


def rendered(root: Path, name: str, file: str) -> Any:
    result = fleetgen(root, "render")
    assert result.exit_code == 0, result.output
    [path] = (root / "rendered").glob(f"*/*/{name}/{file}")
    return load_fast(path.read_text(encoding="utf-8"))


def variable(cluster: dict[str, Any], name: str) -> Any:
    return next(v["value"] for v in cluster["spec"]["topology"]["variables"] if v["name"] == name)


def reported(result: Imported) -> list[str]:
    return [p.message for p in result.reported if p.code == "not-imported"]


# --- item 9: what tanzu accepts ------------------------------------------------------------------

def test_identity_name_without_a_kind(tmp_path: Path) -> None:
    # providers/yttcc/lib/config_variable_association.star:540-547 writes identityRef with the name
    # only; the class defaults the kind to AWSClusterRoleIdentity
    # (providers/infrastructure-aws/v2.0.2/cconly/base.yaml:124-126, and its patch at :666)
    root, result = imported(tmp_path, BASE + "AWS_NODE_AZ: eu-west-1a\n"
                            "AWS_IDENTITY_REF_NAME: tkg-workloads\n")
    assert inventory(result)["aws"]["identityRef"] == {"name": "tkg-workloads"}
    cluster = rendered(root, "shop", "cluster.yaml")
    assert variable(cluster, "identityRef") == {"name": "tkg-workloads"}
    config = rendered(root, "shop", "cluster-config.yaml")
    assert config["AWS_IDENTITY_REF_NAME"] == "tkg-workloads"
    assert "AWS_IDENTITY_REF_KIND" not in config


def test_no_identity_is_an_empty_identity_ref(tmp_path: Path) -> None:
    # config_variable_association.star:540-547: `identityRef: {}` (the class then sets none,
    # base.yaml:654, and CAPA uses its default controller identity)
    root, _ = imported(tmp_path, BASE)
    assert variable(rendered(root, "shop", "cluster.yaml"), "identityRef") == {}


def test_aws_without_node_az(tmp_path: Path) -> None:
    # AWS_NODE_AZ defaults to "" (providers/config_default.yaml:252), copied as is into subnet 0
    # (config_variable_association.star:603-605); md-0 gets AWS_REGION + "a"
    # (providers/infrastructure-aws/v2.0.2/yttcc/overlay.yaml:11, 65; helpers.star:129-135)
    root, result = imported(tmp_path, BASE)
    assert result.reported == []
    assert "subnets" not in inventory(result)["aws"]
    cluster = rendered(root, "shop", "cluster.yaml")
    assert variable(cluster, "network")["subnets"] == [
        {"private": {"cidr": "10.0.0.0/24"}, "public": {"cidr": "10.0.1.0/24"}, "az": ""}]
    [md] = cluster["spec"]["topology"]["workers"]["machineDeployments"]
    assert md["failureDomain"] == "eu-west-1a"
    assert "AWS_NODE_AZ" not in rendered(root, "shop", "cluster-config.yaml")


def test_aws_prod_with_one_zone_gets_three_subnets(tmp_path: Path) -> None:
    # prodcc builds subnets 1 and 2 from the default CIDRs (config_variable_association.star:
    # 610-670, providers/config_default.yaml:271-274), without az when AWS_NODE_AZ_1/_2 are unset
    # (:633, :663); the class then uses <region>b / c (cconly/base.yaml:581)
    root, result = imported(tmp_path, BASE + "CLUSTER_PLAN: prod\nAWS_NODE_AZ: eu-west-1a\n")
    assert [p for p in result.reported if p.severity == "error"] == []
    assert inventory(result)["aws"]["subnets"] == [{"az": "eu-west-1a"}]
    cluster = rendered(root, "shop", "cluster.yaml")
    assert variable(cluster, "network")["subnets"] == [
        {"private": {"cidr": "10.0.0.0/24"}, "public": {"cidr": "10.0.1.0/24"}, "az": "eu-west-1a"},
        {"private": {"cidr": "10.0.2.0/24"}, "public": {"cidr": "10.0.3.0/24"}},
        {"private": {"cidr": "10.0.4.0/24"}, "public": {"cidr": "10.0.5.0/24"}}]
    zones = [md["failureDomain"] for md in cluster["spec"]["topology"]["workers"]["machineDeployments"]]
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]  # overlay.yaml:11-13, 65, 75, 93


def test_dev_plan_reads_subnet_zero_only(tmp_path: Path) -> None:
    # config_variable_association.star:610: the _1 / _2 subnet variables are read for prodcc only
    _, result = imported(tmp_path, BASE + "AWS_NODE_AZ: eu-west-1a\nAWS_NODE_AZ_1: eu-west-1b\n")
    assert inventory(result)["aws"]["subnets"] == [{"az": "eu-west-1a"}]
    assert reported(result) == ["AWS_NODE_AZ_1 not imported: the dev plan builds subnet 0 only "
                                "(tanzu reads the _1 / _2 subnet variables for the prod plan alone)"]


def test_storage_policy_without_a_datastore(tmp_path: Path) -> None:
    # tkg/client/validate.go:920-928 verifyDatastoreOrStoragePolicySet: one of the two is enough
    _, result = imported(tmp_path, VSPHERE + "VSPHERE_STORAGE_POLICY_ID: gold-policy\n")
    vsphere = inventory(result)["vsphere"]
    assert vsphere["storagePolicyID"] == "gold-policy" and "datastore" not in vsphere


def test_neither_datastore_nor_storage_policy(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "fleet", {"clusters/_defaults.yaml": "managementCluster: mgmt\n",
                                           f"{IMPORTED}/.keep": ""})
    path = tmp_path / "cluster-config.yaml"
    path.write_text(VSPHERE, encoding="utf-8")
    result = fleetgen(root, "import", "tkg", str(path), "--to", IMPORTED)
    assert result.exit_code == 2
    assert (f"{path}:1:1: error[missing-key]: VSPHERE_DATASTORE (or VSPHERE_STORAGE_POLICY_ID) is "
            "required for vSphere clusters") in result.stderr


# --- item 10: an existing VPC with only private subnets -------------------------------------------

EXISTING = BASE + """\
AWS_NODE_AZ: eu-west-1a
AWS_VPC_ID: vpc-0a1b2c3d4e5f60001
AWS_PRIVATE_SUBNET_ID: subnet-0a1b2c3d4e5f60011
"""


def test_existing_vpc_with_only_private_subnets(tmp_path: Path) -> None:
    # tkg/client/validate.go:1002-1009 blanks AWS_VPC_CIDR and the node CIDRs for an existing VPC;
    # with AWS_PUBLIC_SUBNET_ID unset public0 stays empty and is left out
    # (config_variable_association.star:586-601)
    root, result = imported(tmp_path, EXISTING)
    assert inventory(result)["aws"]["subnets"] == [
        {"az": "eu-west-1a", "private": {"id": "subnet-0a1b2c3d4e5f60011"}}]
    cluster = rendered(root, "shop", "cluster.yaml")
    assert variable(cluster, "network") == {
        "vpc": {"existingID": "vpc-0a1b2c3d4e5f60001"},
        "subnets": [{"private": {"id": "subnet-0a1b2c3d4e5f60011"}, "az": "eu-west-1a"}]}
    config = rendered(root, "shop", "cluster-config.yaml")
    aws_lines = {k: v for k, v in config.items()
                 if k.startswith("AWS_") and any(w in k for w in ("SUBNET", "CIDR", "NODE_AZ"))}
    assert aws_lines == {"AWS_NODE_AZ": "eu-west-1a",
                         "AWS_PRIVATE_SUBNET_ID": "subnet-0a1b2c3d4e5f60011"}
    assert config["AWS_VPC_ID"] == "vpc-0a1b2c3d4e5f60001"


def test_existing_vpc_ignores_node_cidrs(tmp_path: Path) -> None:
    # validate.go:1002-1009: with AWS_VPC_ID set the node CIDRs are blanked
    root, result = imported(tmp_path, EXISTING + "AWS_PUBLIC_NODE_CIDR: 10.0.1.0/24\n")
    assert reported(result) == [
        "AWS_PUBLIC_NODE_CIDR not imported: with AWS_VPC_ID tanzu blanks the node CIDRs and uses "
        "the existing subnets (AWS_*_SUBNET_ID)"]
    assert "public" not in variable(rendered(root, "shop", "cluster.yaml"), "network")["subnets"][0]
