"""The tanzu checks on node sizes and workers (generator/check/tkg_rules.py, issue 15 items 1, 2
and 8): located problems, traced to ../shared/reference/tanzu-framework-release-0.29."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import load_fleet
from generator.problems import FleetError
from support.fleets import small_fleet, write_tree

EP = "controlPlane: {endpoint: 10.0.0.10}\n"
SETTINGS = {"fleetgen.yaml": "credentials:\n  vsphere:\n    identityRef: "
                             "{kind: VSphereClusterIdentity, name: tkg-vcenter}\n"}


def found(root: Path, *codes: str) -> list[str]:
    """The first line of each problem with one of ``codes`` (errors raise, warnings do not)."""
    try:
        fleet = load_fleet(root)
        problems = list(fleet.problems) if hasattr(fleet, "problems") else []
    except FleetError as error:
        problems = error.problems
    return [p.text().splitlines()[0] for p in problems if p.code in codes]


def cluster(tmp_path: Path, text: str) -> Path:
    write_tree(tmp_path, SETTINGS)
    return small_fleet(tmp_path, web=EP + text)


def test_cluster_wide_machine_below_minimum_is_located_once(tmp_path: Path) -> None:
    root = cluster(tmp_path, "machine: {numCPUs: 1}\n")
    # ValidateVsphereNodeSize: every role's VSPHERE_*_NUM_CPUS >= 2 (tkg/client/validate.go:1100-1111)
    assert found(root, "node-too-small") == [
        "clusters/dev/web.yaml:2:20: error[node-too-small]: numCPUs 1 is below tanzu's vSphere "
        "minimum of 2 CPUs (the 'small' node type)"]


def test_control_plane_disk_below_minimum(tmp_path: Path) -> None:
    write_tree(tmp_path, SETTINGS)
    root = small_fleet(tmp_path, web="machine: {size: medium}\n"
                       "controlPlane: {endpoint: 10.0.0.10, machine: {diskGiB: 10}}\n")
    # validate.go:1119-1123 (disk >= 20 GiB, NodeTypes["small"] validate.go:1101)
    assert found(root, "node-too-small") == [
        "clusters/dev/web.yaml:2:56: error[node-too-small]: diskGiB 10 is below tanzu's vSphere "
        "minimum of 20 GiB (the 'small' node type)"]


def test_aws_has_no_vsphere_minimum(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": """\
        managementCluster: mgmt
        infrastructure: aws
        kubernetes: {version: v1.27.5+vmware.1-tkg.1}
        aws:
          region: eu-west-1
          sshKeyName: tkg
          identityRef: {kind: AWSClusterRoleIdentity, name: tkg}
          subnets: [{az: eu-west-1a}]
        """, "clusters/shop.yaml": "machine: {size: t3.micro}\n"})
    assert found(tmp_path, "node-too-small", "unknown-size") == []


def test_unknown_size_on_a_worker_pool(tmp_path: Path) -> None:
    root = cluster(tmp_path, "workers: [{name: md-0, replicas: 1, machine: {size: tiny}}]\n")
    # OverrideVsphereNodeSizeWithOptions refuses sizes outside NodeTypes (validate.go:1315-1318)
    assert found(root, "unknown-size") == [
        "clusters/dev/web.yaml:2:53: error[unknown-size]: 'tiny' is not a vSphere node size"]


def test_instance_type_is_no_cluster_wide_vsphere_setting(tmp_path: Path) -> None:
    root = cluster(tmp_path, "machine: {instanceType: m5.large}\n")
    assert found(root, "wrong-infrastructure") == [
        "clusters/dev/web.yaml:2:11: error[wrong-infrastructure]: 'instanceType' is not a machine "
        "setting on this infrastructure (vsphere)"]


@pytest.mark.parametrize(("workers", "said"), [
    ("workers: [{name: md-0, replicas: 2, labels: {tier: web}}]\n",
     "md-0: tanzu sets no machine deployment labels"),
    ("workers: [{name: md-0, replicas: 2, maxSurge: 1}]\n",
     "md-0: tanzu sets no rollout strategy (maxSurge)"),
    ("workers: [{name: md-0, replicas: 2, class: tkg-worker-gpu}]\n",
     "md-0: tanzu uses class tkg-worker, not tkg-worker-gpu"),
])
def test_flat_inexpressible_is_a_warning_at_workers(tmp_path: Path, workers: str,
                                                    said: str) -> None:
    from generator.check.tkg_rules import flat_inexpressible
    root = cluster(tmp_path, workers)
    [c] = load_fleet(root).clusters
    [problem] = list(flat_inexpressible(c))
    # the yttcc overlays write only class, name, replicas, failureDomain and the OS annotation
    # (providers/infrastructure-vsphere/v1.5.3/yttcc/overlay.yaml:54-69)
    assert problem.text().startswith("clusters/dev/web.yaml:2:1: warning[flat-inexpressible]: ")
    assert said in problem.message


def test_default_workers_are_expressible(tmp_path: Path) -> None:
    from generator.check.tkg_rules import flat_inexpressible
    for plan in ("dev", "prod"):
        root = cluster(tmp_path / plan, f"plan: {plan}\n")
        [c] = load_fleet(root).clusters
        assert list(flat_inexpressible(c)) == []
