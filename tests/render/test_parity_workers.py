"""Render parity for workers, node sizes, the class and the OS selectors (issue 15, items 1-4):
cluster.yaml holds the machine deployments `tanzu cluster create` builds, and cluster-config.yaml
says exactly what makes tanzu build them, or says (comment, `flat-inexpressible` warning) what
tanzu would build differently.

Expected values are traced through ../shared/reference/tanzu-framework-release-0.29 (cited
beside each value as `# <path>:<line>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.check.fleet import Cluster
from generator.check.tkg_rules import TKG_RULES
from generator.pipeline import load_fleet, wanted_files
from generator.problems import FleetError, Problem
from generator.render.sandbox import environment
from generator.render.views import view_of
from generator.yaml.fast import load_fast
from support.fleets import write_tree

FLEET_SETTINGS = """\
credentials:
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}
"""
VSPHERE = """\
managementCluster: mgmt
namespace: dev
infrastructure: vsphere
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
controlPlane: {endpoint: 10.0.0.10}
vsphere:
  server: vc.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/ds1
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/c1/Resources/tkg
  network: /dc0/network/nodes
"""
AWS = """\
managementCluster: mgmt
namespace: dev
infrastructure: aws
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
aws:
  region: eu-west-1
  sshKeyName: tkg
  identityRef: {kind: AWSClusterRoleIdentity, name: tkg}
  vpc: {cidr: 10.0.0.0/16}
  subnets:
  - {az: eu-west-1a, private: {cidr: 10.0.0.0/24}, public: {cidr: 10.0.1.0/24}}
"""
AZURE = """\
managementCluster: mgmt
namespace: dev
infrastructure: azure
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
azure:
  location: westeurope
  subscriptionID: 00000000-0000-0000-0000-000000000000
  sshPublicKey: c3NoLXJzYSBBQUFB
"""


def fleet(tmp_path: Path, base: str, cluster: str) -> Path:
    return write_tree(tmp_path, {"fleetgen.yaml": FLEET_SETTINGS,
                                 "clusters/_defaults.yaml": base,
                                 "clusters/dev/web.yaml": cluster})


def rendered(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """cluster.yaml and cluster-config.yaml of the one cluster."""
    files = wanted_files(root, load_fleet(root))
    cluster = next(v for k, v in files.items() if k.endswith("/web/cluster.yaml"))
    config = next(v for k, v in files.items() if k.endswith("/web/cluster-config.yaml"))
    return load_fast(cluster.decode()), load_fast(config.decode())


def deployments(cluster: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(md["name"], md["replicas"], md.get("failureDomain"))
            for md in cluster["spec"]["topology"]["workers"]["machineDeployments"]]


def variable(cluster: dict[str, Any], name: str) -> Any:
    return next(v["value"] for v in cluster["spec"]["topology"]["variables"] if v["name"] == name)


def rule_problems(root: Path) -> list[Problem]:
    fleet_ = load_fleet(root)
    clusters: list[Cluster] = list(fleet_.clusters)
    return [p for c in clusters for rule in TKG_RULES for p in rule(c)]


# --- item 1: the default workers are tanzu's ---------------------------------------------------

def test_prod_default_is_three_deployments_on_vsphere(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, VSPHERE, "plan: prod\n"))
    # domain.md:141 (prod 3 workers), tkg/client/validate.go:1460-1474 (1/1/1),
    # providers/infrastructure-vsphere/v1.5.3/yttcc/overlay.yaml:54-92 (md-0 … md-2)
    assert deployments(cluster) == [("md-0", 1, None), ("md-1", 1, None), ("md-2", 1, None)]
    assert {k: config[k] for k in config if k.startswith("WORKER_MACHINE_COUNT")} == {
        "WORKER_MACHINE_COUNT": 3, "WORKER_MACHINE_COUNT_0": 1, "WORKER_MACHINE_COUNT_1": 1,
        "WORKER_MACHINE_COUNT_2": 1}


def test_prod_default_on_aws_takes_region_zones(tmp_path: Path) -> None:
    cluster, _ = rendered(fleet(tmp_path, AWS, "plan: prod\n"))
    # aws v2.0.2/yttcc/overlay.yaml:11-13, 60-107; helpers.star:129-135 (region + "b"/"c")
    assert deployments(cluster) == [("md-0", 1, "eu-west-1a"), ("md-1", 1, "eu-west-1b"),
                                    ("md-2", 1, "eu-west-1c")]


def test_azure_deployments_get_tanzus_zones(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, AZURE, "plan: prod\n"))
    # azure v1.6.3/yttcc/overlay.yaml:98, 108, 124 ("1", "2", "3" without AZURE_NODE_AZ*)
    assert deployments(cluster) == [("md-0", 1, "1"), ("md-1", 1, "2"), ("md-2", 1, "3")]
    assert [config.get(k) for k in ("AZURE_NODE_AZ", "AZURE_NODE_AZ_1", "AZURE_NODE_AZ_2")] == [
        "1", "2", "3"]


def test_dev_flat_config_uses_index_0(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, VSPHERE, "workers: [{name: md-0, replicas: 4, "
                                                        "failureDomain: rack-1}]\n"))
    # vsphere overlay.yaml:57-61 (dev: WORKER_MACHINE_COUNT), 66-68 (VSPHERE_AZ_0)
    assert deployments(cluster) == [("md-0", 4, "rack-1")]
    assert config["WORKER_MACHINE_COUNT"] == 4 and config["VSPHERE_AZ_0"] == "rack-1"
    assert "WORKER_MACHINE_COUNT_0" not in config and "VSPHERE_AZ_1" not in config


def test_worker_variable_has_no_count(tmp_path: Path) -> None:
    # get_vsphere_vars sets worker.count from WORKER_MACHINE_COUNT (TKG 2.2,
    # providers/yttcc/lib/config_variable_association.star:959-961), but the v1.0.0 class has no
    # `count` (cconly/base.yaml:461-496) and the 2.4 docs' Cluster has none (domain.md:113): 2.4 wins.
    cluster, _ = rendered(fleet(tmp_path, VSPHERE, "plan: prod\n"))
    assert "count" not in variable(cluster, "worker")


@pytest.mark.parametrize(("workers", "said"), [
    ("plan: dev\nworkers: [{name: md-0, replicas: 1}, {name: md-1, replicas: 2}]\n",
     "tanzu builds the machine deployments md-0 (3), not md-0 (1), md-1 (2)"),
    ("plan: prod\nworkers: [{name: md-0, replicas: 5}]\n",
     "tanzu builds the machine deployments md-0 (2), md-1 (2), md-2 (1), not md-0 (5)"),
    ("workers: [{name: gpu, replicas: 2}]\n",
     "tanzu builds the machine deployments md-0 (2), not gpu (2)"),
    ("plan: prod\nworkers: [{name: md-0, replicas: 1}, {name: md-1, replicas: 1}, "
     "{name: md-2, replicas: 1, machine: {numCPUs: 8}}]\n",
     "md-2: tanzu gives it the machine numCPUs 2, not numCPUs 8"),
])
def test_inexpressible_workers_are_said(tmp_path: Path, workers: str, said: str) -> None:
    root = fleet(tmp_path, VSPHERE, workers)
    [problem] = rule_problems(root)
    assert (problem.code, problem.severity) == ("flat-inexpressible", "warning")
    assert (problem.location.path, problem.location.line) == ("clusters/dev/web.yaml",
                                                              2 if "plan" in workers else 1)
    assert said in problem.message
    # the comment at the top of cluster-config.yaml (the template's own text)
    [c] = load_fleet(root).clusters
    text = environment(root).get_template("cluster-config.yaml.j2").render(view_of(c))
    assert text.startswith("# tanzu cluster create --file with this file builds other machine")
    assert f"#   {said}" in text


def test_expressible_prod_says_nothing(tmp_path: Path) -> None:
    root = fleet(tmp_path, VSPHERE, "plan: prod\nworkers: [{name: md-0, replicas: 2, "
                 "failureDomain: a}, {name: md-1, replicas: 2, failureDomain: b}, "
                 "{name: md-2, replicas: 1, failureDomain: c}]\n")
    assert rule_problems(root) == []
    _, config = rendered(root)
    assert [config[f"VSPHERE_AZ_{i}"] for i in range(3)] == ["a", "b", "c"]
    assert [config[f"WORKER_MACHINE_COUNT_{i}"] for i in range(3)] == [2, 2, 1]


# --- item 2: sizes -----------------------------------------------------------------------------

def test_sizes_render_explicit_values(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, VSPHERE, "machine: {size: medium}\n"
                                     "controlPlane: {machine: {size: large, diskGiB: 100}}\n"))
    # NodeTypes medium 2/8192/40, large 4/16384/40 (tanzu-framework
    # pkg/v1/tkg/tkgconfigproviders/vsphere.go:31-34); role-specific wins (validate.go:1283-1324)
    assert variable(cluster, "controlPlane")["machine"] == {"numCPUs": 4, "memoryMiB": 16384,
                                                           "diskGiB": 100}
    assert variable(cluster, "worker")["machine"] == {"numCPUs": 2, "memoryMiB": 8192,
                                                     "diskGiB": 40}
    assert (config["VSPHERE_CONTROL_PLANE_NUM_CPUS"], config["VSPHERE_CONTROL_PLANE_DISK_GIB"],
            config["VSPHERE_WORKER_MEM_MIB"]) == (4, 100, 8192)


def test_aws_size_is_the_instance_type(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, AWS, "machine: {size: m5.xlarge}\n"))
    # validate.go:1210-1213: SIZE sets CONTROL_PLANE_MACHINE_TYPE and NODE_MACHINE_TYPE
    assert variable(cluster, "controlPlane")["instanceType"] == "m5.xlarge"
    assert config["NODE_MACHINE_TYPE"] == "m5.xlarge"


def test_vsphere_node_below_minimum_is_an_error(tmp_path: Path) -> None:
    root = fleet(tmp_path, VSPHERE, "workers: [{name: md-0, replicas: 1, "
                 "machine: {memoryMiB: 2048}}]\n")
    with pytest.raises(FleetError) as info:
        load_fleet(root)
    # ValidateVsphereNodeSize, validate.go:1100-1125 (minimum: the "small" node type, 4096 MiB)
    [problem] = [p for p in info.value.problems if p.code == "node-too-small"]
    assert problem.text().startswith("clusters/dev/web.yaml:1:58: error[node-too-small]: "
                                     "memoryMiB 2048 is below tanzu's vSphere minimum of 4096 MiB")


def test_unknown_vsphere_size_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FleetError) as info:
        load_fleet(fleet(tmp_path, VSPHERE, "machine: {size: huge}\n"))
    # validate.go:1285-1288
    assert [p.text().splitlines()[0] for p in info.value.problems if p.code == "unknown-size"] == [
        "clusters/dev/web.yaml:1:17: error[unknown-size]: 'huge' is not a vSphere node size"]


# --- item 3: the class --------------------------------------------------------------------------

def test_class_is_written_to_the_flat_config(tmp_path: Path) -> None:
    cluster, config = rendered(fleet(tmp_path, VSPHERE, "kubernetes: {version: v1.27.5+vmware.1-"
                                     "tkg.1, class: tkg-vsphere-default-v1.0.0}\n"))
    # vsphere overlay.yaml:42 (class: CLUSTER_CLASS)
    assert cluster["spec"]["topology"]["class"] == config["CLUSTER_CLASS"] == (
        "tkg-vsphere-default-v1.0.0")


# --- item 4: OS image selectors ---------------------------------------------------------------

@pytest.mark.parametrize(("base", "os", "selector"), [
    # vsphere v1.5.3/yttcc/overlay.yaml:49, 65
    (VSPHERE, "{name: photon, version: '5', arch: amd64}", "image-type=ova,os-name=photon"),
    # aws v2.0.2/yttcc/overlay.yaml:57, 69
    (AWS, "{name: ubuntu, version: '22.04', arch: arm64}",
     "ami-region=eu-west-1,os-name=ubuntu,os-arch=arm64"),
    # azure v1.6.3/yttcc/overlay.yaml:47-49, 90, 102
    (AZURE, "{name: ubuntu, version: '18.04', arch: amd64}", "os-name=ubuntu,os-version=1804"),
    (AZURE, "{name: ubuntu, version: '20.04', arch: amd64}", "os-name=ubuntu,os-version=2004"),
])
def test_os_image_selector_on_every_node(tmp_path: Path, base: str, os: str, selector: str) -> None:
    cluster, _ = rendered(fleet(tmp_path, base, f"plan: prod\nos: {os}\n"))
    topology = cluster["spec"]["topology"]
    key = "run.tanzu.vmware.com/resolve-os-image"
    assert topology["controlPlane"]["metadata"]["annotations"][key] == selector
    assert [md["metadata"]["annotations"][key] for md in topology["workers"]["machineDeployments"]
            ] == [selector] * 3
