"""`fleetgen import tkg` of the worker topology, node sizes and the class: the inventory means
what `tanzu cluster create` builds from the same flat config (issue 15, items 1-3).

Expected values are traced by hand through ../shared/reference/tanzu-framework-release-0.29
(cited beside each value as `# <path>:<line>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.problems import FleetError
from generator.tkg.importer import Imported, import_tkg
from generator.yaml.fast import load_fast
from support.fleets import write_tree

IMPORTED = "clusters/imported"
DEFAULTS = """\
managementCluster: mgmt-lab
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
"""
VSPHERE = """\
CLUSTER_NAME: web
INFRASTRUCTURE_PROVIDER: vsphere
VSPHERE_SERVER: vc.example.com
VSPHERE_DATACENTER: /dc0
VSPHERE_DATASTORE: /dc0/datastore/ds1
VSPHERE_FOLDER: /dc0/vm/tkg
VSPHERE_RESOURCE_POOL: /dc0/host/c1/Resources/tkg
VSPHERE_NETWORK: /dc0/network/nodes
VSPHERE_CONTROL_PLANE_ENDPOINT: 10.0.0.10
"""
AWS = """\
CLUSTER_NAME: shop
INFRASTRUCTURE_PROVIDER: aws
AWS_REGION: eu-west-1
AWS_SSH_KEY_NAME: tkg
AWS_NODE_AZ: eu-west-1a
AWS_PRIVATE_NODE_CIDR: 10.0.0.0/24
AWS_PUBLIC_NODE_CIDR: 10.0.1.0/24
"""
AZURE = """\
CLUSTER_NAME: crm
INFRASTRUCTURE_PROVIDER: azure
AZURE_LOCATION: westeurope
AZURE_SUBSCRIPTION_ID: 00000000-0000-0000-0000-000000000000
AZURE_SSH_PUBLIC_KEY_B64: c3NoLXJzYSBBQUFB
"""


def run_import(tmp_path: Path, flat: str) -> Imported:
    root = write_tree(tmp_path / "fleet", {"clusters/_defaults.yaml": DEFAULTS,
                                           f"{IMPORTED}/.keep": ""})
    path = tmp_path / "cluster-config.yaml"
    path.write_text(flat, encoding="utf-8")
    return import_tkg(root, path, None, root / IMPORTED)


def inventory(result: Imported) -> dict[str, Any]:
    data = load_fast(result.text)
    return data if isinstance(data, dict) else {}


def workers(result: Imported) -> list[tuple[Any, ...]]:
    return [(w["name"], w["replicas"], w.get("failureDomain"))
            for w in inventory(result).get("workers", [])]


def reported(result: Imported) -> dict[str, str]:
    """Variable → the reason it was not imported."""
    return {p.message.split()[0]: p.message.split(" not imported: ", 1)[-1]
            for p in result.reported if p.code == "not-imported"}


# --- item 1: worker topology by plan -----------------------------------------------------------

def test_prod_spreads_worker_machine_count_over_three_deployments(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_PLAN: prod\nWORKER_MACHINE_COUNT: 5\n")
    # tkg/client/validate.go:1460-1474 (5 = 2 + 2 + 1); md-0 … md-2:
    # providers/infrastructure-vsphere/v1.5.3/yttcc/overlay.yaml:54-92
    assert workers(result) == [("md-0", 2, None), ("md-1", 2, None), ("md-2", 1, None)]


def test_prod_takes_predefined_counts_and_zones(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_PLAN: prod\n"
                        "WORKER_MACHINE_COUNT_0: 1\nWORKER_MACHINE_COUNT_1: 4\n"
                        "WORKER_MACHINE_COUNT_2: 2\n"
                        "VSPHERE_AZ_0: rack-1\nVSPHERE_AZ_1: rack-2\nVSPHERE_AZ_2: rack-3\n")
    # validate.go:1475-1484 (predefinedDistribution, validate.go:1458);
    # vsphere overlay.yaml:66-68, 79-81, 90-92 (failureDomain from VSPHERE_AZ_<i>)
    assert workers(result) == [("md-0", 1, "rack-1"), ("md-1", 4, "rack-2"),
                               ("md-2", 2, "rack-3")]


def test_prod_ignores_a_partial_distribution(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_PLAN: prod\nWORKER_MACHINE_COUNT: 6\n"
                        "WORKER_MACHINE_COUNT_0: 4\n")
    # validate.go:1458: all three _0/_1/_2 or none; WORKER_MACHINE_COUNT is spread
    assert workers(result) == [("md-0", 2, None), ("md-1", 2, None), ("md-2", 2, None)]
    assert "all three" in reported(result)["WORKER_MACHINE_COUNT_0"]


def test_prod_without_a_count_gets_three_workers(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_PLAN: prod\nVSPHERE_AZ_1: rack-2\n")
    # WORKER_MACHINE_COUNT default prod 3 (../shared/docs/domain.md:141), validate.go:1460-1474
    assert workers(result) == [("md-0", 1, None), ("md-1", 1, "rack-2"), ("md-2", 1, None)]


def test_dev_plan_uses_only_index_0_on_vsphere(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_PLAN: dev\nWORKER_MACHINE_COUNT: 2\n"
                        "WORKER_MACHINE_COUNT_0: 5\nWORKER_MACHINE_COUNT_1: 1\n"
                        "WORKER_MACHINE_COUNT_2: 1\n"
                        "VSPHERE_AZ_0: rack-1\nVSPHERE_AZ_1: rack-2\nVSPHERE_AZ_2: rack-3\n")
    # vsphere overlay.yaml:57-61 (dev: replicas WORKER_MACHINE_COUNT), 70 (md-1/md-2 prodcc only)
    assert workers(result) == [("md-0", 2, "rack-1")]
    reasons = reported(result)
    for key in ("WORKER_MACHINE_COUNT_1", "WORKER_MACHINE_COUNT_2", "VSPHERE_AZ_1", "VSPHERE_AZ_2"):
        assert reasons[key].startswith("tanzu uses only ") and " on a dev plan" in reasons[key]
    assert reasons["WORKER_MACHINE_COUNT_0"].startswith("tanzu uses only WORKER_MACHINE_COUNT on")


def test_aws_dev_takes_worker_machine_count_0(tmp_path: Path) -> None:
    result = run_import(tmp_path, AWS + "CLUSTER_PLAN: dev\nWORKER_MACHINE_COUNT_0: 3\n"
                        "NODE_MACHINE_TYPE_1: m5.xlarge\n")
    # validate.go:1485-1489, aws v2.0.2/yttcc/overlay.yaml:63 (replicas WORKER_MACHINE_COUNT_0);
    # failureDomain AWS_NODE_AZ (overlay.yaml:65) is what render gives md-0: not repeated
    assert workers(result) == [("md-0", 3, None)]
    assert " on a dev plan" in reported(result)["NODE_MACHINE_TYPE_1"]


def test_aws_prod_fills_zones_from_the_region(tmp_path: Path) -> None:
    result = run_import(tmp_path, AWS + "CLUSTER_PLAN: prod\nWORKER_MACHINE_COUNT: 4\n"
                        "NODE_MACHINE_TYPE_2: m5.2xlarge\n")
    # validate.go:1460-1474 (4 = 2 + 1 + 1); aws overlay.yaml:98-106 (md-2's type). The zones,
    # region + "b" / "c" (aws overlay.yaml:11-13, helpers.star:129-135), are render's defaults
    # (tests/render/test_parity_workers.py), so they are not written.
    assert workers(result) == [("md-0", 2, None), ("md-1", 1, None), ("md-2", 1, None)]
    assert inventory(result)["workers"][2]["machine"] == {"instanceType": "m5.2xlarge"}


def test_azure_node_azs_become_failure_domains(tmp_path: Path) -> None:
    result = run_import(tmp_path, AZURE + "CLUSTER_PLAN: prod\nWORKER_MACHINE_COUNT: 3\n"
                        "AZURE_NODE_AZ: \"2\"\nAZURE_NODE_AZ_1: \"3\"\nAZURE_NODE_AZ_2: \"1\"\n")
    # azure v1.6.3/yttcc/overlay.yaml:98, 108, 124 (failureDomain AZURE_NODE_AZ, _1, _2)
    assert workers(result) == [("md-0", 1, "2"), ("md-1", 1, "3"), ("md-2", 1, "1")]


def test_azure_dev_reports_the_other_zones(tmp_path: Path) -> None:
    result = run_import(tmp_path, AZURE + "CLUSTER_PLAN: dev\nWORKER_MACHINE_COUNT: 2\n"
                        "AZURE_NODE_AZ: \"3\"\nAZURE_NODE_AZ_1: \"1\"\n")
    # azure overlay.yaml:96-98 (md-0 only on dev), 103 (md-1/md-2 prodcc only)
    assert workers(result) == [("md-0", 2, "3")]
    assert reported(result)["AZURE_NODE_AZ_1"].startswith("tanzu uses only AZURE_NODE_AZ on a dev")


# --- item 2: node sizes ------------------------------------------------------------------------

def test_vsphere_size_expands_for_both_roles(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "SIZE: large\nWORKER_SIZE: extra-large\n"
                        "VSPHERE_CONTROL_PLANE_NUM_CPUS: 16\n")
    data = inventory(result)
    # NodeTypes (tanzu-framework pkg/v1/tkg/tkgconfigproviders/vsphere.go:31-34): large 4/16384/40,
    # extra-large 8/32768/80; validate.go:1283-1324: SIZE, then CONTROLPLANE_SIZE / WORKER_SIZE,
    # overwrite the role variables
    assert data["controlPlane"]["machine"] == {"numCPUs": 4, "memoryMiB": 16384}  # diskGiB 40 = default
    assert data["workers"][0]["machine"] == {"numCPUs": 8, "memoryMiB": 32768, "diskGiB": 80}
    assert reported(result)["VSPHERE_CONTROL_PLANE_NUM_CPUS"].startswith("SIZE sets it")


def test_vsphere_base_machine_fills_unset_roles(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "VSPHERE_NUM_CPUS: 6\nVSPHERE_MEM_MIB: 12288\n"
                        "VSPHERE_WORKER_NUM_CPUS: 3\n")
    data = inventory(result)
    # SetVsphereNodeSize, validate.go:1129-1158: base values where the role's are unset
    assert data["controlPlane"]["machine"] == {"numCPUs": 6, "memoryMiB": 12288}
    assert data["workers"][0]["machine"] == {"numCPUs": 3, "memoryMiB": 12288}


def test_unknown_vsphere_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FleetError) as info:
        run_import(tmp_path, VSPHERE + "SIZE: huge\n")
    # validate.go:1285-1288
    [problem] = [p for p in info.value.problems if p.severity == "error"]
    assert (problem.code, problem.location.line) == ("invalid-value", 10)
    assert "'huge' is not a vSphere node size" in problem.message


def test_aws_and_azure_sizes_are_machine_types(tmp_path: Path) -> None:
    aws = inventory(run_import(tmp_path / "aws", AWS + "SIZE: m5.xlarge\n"
                               "CONTROLPLANE_SIZE: t3.xlarge\n"))
    # OverrideAWSNodeSizeWithOptions, validate.go:1209-1218
    assert aws["controlPlane"]["machine"] == {"instanceType": "t3.xlarge"}
    assert aws["workers"][0]["machine"] == {"instanceType": "m5.xlarge"}
    azure = inventory(run_import(tmp_path / "azure", AZURE + "WORKER_SIZE: Standard_D4s_v3\n"))
    # OverrideAzureNodeSizeWithOptions, validate.go:1199-1203
    assert azure["workers"][0]["machine"] == {"vmSize": "Standard_D4s_v3"}


# --- item 3: the class -------------------------------------------------------------------------

def test_cluster_class_is_kept(tmp_path: Path) -> None:
    result = run_import(tmp_path, VSPHERE + "CLUSTER_CLASS: tkg-vsphere-default-v1.0.0\n")
    # vsphere overlay.yaml:42 (topology.class: CLUSTER_CLASS)
    assert inventory(result)["kubernetes"]["class"] == "tkg-vsphere-default-v1.0.0"
