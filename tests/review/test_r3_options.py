"""`fleetgen diff` options (issue 16): exclusive revision options, and one live IPAM export per
management cluster, each recognised by its objects."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, write_tree
from support.gitrepo import commit_all, git, init

POOL = dedent("""\
    ipPools:
      nodes: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40]}
    network:
      nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
    """)
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: nodes}}\n"
OPS = "managementCluster: mgmt-b\ncontrolPlane: {endpoint: 10.9.0.2}\n" \
      "network: {nodes: {ipPool: infra}}\nipPools:\n" \
      "  infra: {gateway: 10.1.0.1, prefix: 24, addresses: [10.1.0.10-10.1.0.40]}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two management clusters: mgmt-site-a's dev/web draws from pool nodes, mgmt-b's dev/infra
    from its own pool infra."""
    root = tmp_path / "fleet"
    root.mkdir()
    init(root)
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + POOL,
                      "clusters/dev/web.yaml": WEB, "clusters/ops/infra.yaml": OPS})
    assert fleetgen(root, "render").exit_code == 0, fleetgen(root, "render").stderr
    commit_all(root, "fleet")
    git(root, "checkout", "-q", "-b", "pr")
    return root


def mgmt_of(repo: Path, cluster: str) -> str:
    found = [p.parts[-4] for p in (repo / "rendered").rglob("cluster.yaml")
             if p.parent.name == cluster]
    assert len(found) == 1, found
    return found[0]


def address(pool: str, kind: str, namespace: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "ipam.cluster.x-k8s.io/v1beta1", "kind": "IPAddress",
            "metadata": {"name": f"a-{ip}", "namespace": namespace},
            "spec": {"address": ip, "claimRef": {"name": f"a-{ip}"},
                     "poolRef": {"kind": kind, "name": pool}}}


def cluster(namespace: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
            "metadata": {"name": name, "namespace": namespace}}


def export(*items: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)}, indent=1) + "\n"


def shrink_both(repo: Path) -> None:
    """Both pools lose their top ten addresses (31-40)."""
    for path, old, new in (("clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.10-10.0.0.30"),
                           ("clusters/ops/infra.yaml", "10.1.0.10-10.1.0.40", "10.1.0.10-10.1.0.30")):
        file = repo / path
        file.write_text(file.read_text().replace(old, new))


def review(repo: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = fleetgen(repo, "diff", "--format", "json", *args)
    report = json.loads(result.stdout) if result.exit_code in (0, 1, 4) else {}
    return result.exit_code, report, result.stderr


def errors(repo: Path, *args: str) -> tuple[int, str]:
    result = fleetgen(repo, "diff", *args)
    return result.exit_code, result.stderr


def removed_in_use(report: dict[str, Any]) -> list[str]:
    return sorted(r["message"] for r in report["risks"] if r["class"] == "ip-removed-in-use")


# --- exclusive revision options ---------------------------------------------------------------

@pytest.mark.parametrize("args", [("--against", "main", "--base", "main", "--head", "HEAD"),
                                  ("--against", "main", "--base", "main"),
                                  ("--against", "main", "--head", "HEAD")])
def test_against_with_base_or_head_is_a_usage_error(repo: Path, args: tuple[str, ...]) -> None:
    result = fleetgen(repo, "diff", *args)
    assert result.exit_code == 2
    assert "error[usage]: --against cannot be combined with --base/--head" in result.stderr
    assert "Traceback" not in result.stderr


def test_base_without_head_is_a_usage_error(repo: Path) -> None:
    result = fleetgen(repo, "diff", "--base", "main")
    assert result.exit_code == 2 and "error[usage]: --base and --head go together" in result.stderr


# --- one live export per management cluster ---------------------------------------------------

def test_two_exports_each_decide_their_own_management_clusters_pools(
        repo: Path, tmp_path: Path) -> None:
    shrink_both(repo)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(export(cluster("dev", "web"),
                        address("nodes", "InClusterIPPool", "dev", "10.0.0.35")))
    b.write_text(export(cluster("dev", "infra"),
                        address("infra", "InClusterIPPool", "dev", "10.1.0.36")))
    code, report, err = review(repo, "--live", str(a), "--live", str(b))
    assert code == 1, err
    messages = removed_in_use(report)
    assert len(messages) == 2 and all("per the live export" in m for m in messages), messages
    assert {"10.0.0.35", "10.1.0.36"} == {m.split(": ", 1)[1].split(" ")[0] for m in messages}


def test_one_file_may_hold_several_management_clusters_exports(repo: Path, tmp_path: Path) -> None:
    shrink_both(repo)
    both = tmp_path / "all.yaml"
    both.write_text(export(cluster("dev", "web"),
                           address("nodes", "InClusterIPPool", "dev", "10.0.0.35"))
                    + "---\n" + export(cluster("dev", "infra"),
                                       address("infra", "InClusterIPPool", "dev", "10.1.0.36")))
    code, report, err = review(repo, "--live", str(both))
    assert code == 1, err
    messages = removed_in_use(report)
    assert len(messages) == 2 and all("per the live export" in m for m in messages), messages


def test_export_without_cluster_objects_is_recognised_by_its_pools(
        repo: Path, tmp_path: Path) -> None:
    shrink_both(repo)
    b = tmp_path / "b.yaml"
    b.write_text(export(address("infra", "InClusterIPPool", "dev", "10.1.0.33")))
    code, report, err = review(repo, "--live", str(b))
    assert code == 1, err
    assert any("10.1.0.33 " in m for m in removed_in_use(report))


def test_export_matching_no_management_cluster_is_a_located_error(
        repo: Path, tmp_path: Path) -> None:
    a, stray = tmp_path / "a.yaml", tmp_path / "stray.yaml"
    a.write_text(export(cluster("dev", "web")))
    stray.write_text(export(cluster("elsewhere", "x"),
                            address("other", "InClusterIPPool", "elsewhere", "10.5.0.1")))
    code, err = errors(repo, "--live", str(a), "--live", str(stray))
    assert code == 2
    assert f"{stray}:1:1: error[live-export]: this export matches none of the inventory's " \
           "management clusters" in err
    assert "Traceback" not in err


def test_export_mixing_two_management_clusters_is_a_located_error(
        repo: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text("# two clusters' objects in one List\n"
                     + export(cluster("dev", "web"), cluster("dev", "infra")))
    code, err = errors(repo, "--live", str(mixed))
    assert code == 2
    named = sorted([f"{mgmt_of(repo, 'web')} (Cluster dev/web)",
                    f"{mgmt_of(repo, 'infra')} (Cluster dev/infra)"])
    assert f"{mixed}:2:1: error[live-export]: this export holds objects of several management " \
           f"clusters: {', '.join(named)}" in err


def test_second_document_is_located_at_its_line(repo: Path, tmp_path: Path) -> None:
    both = tmp_path / "all.yaml"
    first = export(cluster("dev", "web"))
    both.write_text(first + "---\n" + export(cluster("nowhere", "x")))
    code, err = errors(repo, "--live", str(both))
    assert code == 2
    line = first.count("\n") + 2
    assert f"{both}:{line}:1: error[live-export]: this export matches none" in err


def test_two_exports_of_one_management_cluster_is_a_located_error(
        repo: Path, tmp_path: Path) -> None:
    a, again = tmp_path / "a.yaml", tmp_path / "again.yaml"
    a.write_text(export(cluster("dev", "web")))
    again.write_text(export(cluster("dev", "web")))
    code, err = errors(repo, "--live", str(a), "--live", str(again))
    assert code == 2
    assert f"{again}:1:1: error[live-export]: a second export of management cluster " \
           f"{mgmt_of(repo, 'web')} (the first is {a}:1:1)" in err


def test_a_pool_on_a_management_cluster_without_export_keeps_the_prediction(
        repo: Path, tmp_path: Path) -> None:
    """mgmt-b's export is missing: its pool falls back to the allocation prediction, which
    says the lowest addresses are in use, so shrinking it from below is still a risk."""
    (repo / "clusters/ops/infra.yaml").write_text(OPS.replace("10.1.0.10-", "10.1.0.12-"))
    a = tmp_path / "a.yaml"
    a.write_text(export(cluster("dev", "web")))
    code, report, err = review(repo, "--live", str(a))
    assert code == 1, err
    messages = removed_in_use(report)
    assert len(messages) == 1 and "per the allocation prediction" in messages[0], messages


# --- ipam plan reads exports the same way -----------------------------------------------------

def test_ipam_plan_recognises_an_export_by_its_cluster_objects(repo: Path, tmp_path: Path) -> None:
    b = tmp_path / "b.yaml"
    b.write_text(export(cluster("dev", "infra"),
                        address("infra", "InClusterIPPool", "dev", "10.1.0.12")))
    result = fleetgen(repo, "ipam", "plan", "--live", str(b), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["liveManagementCluster"] == mgmt_of(repo, "infra")


def test_ipam_plan_takes_one_export(repo: Path, tmp_path: Path) -> None:
    both = tmp_path / "all.yaml"
    first = export(cluster("dev", "web"))
    both.write_text(first + "---\n" + export(cluster("dev", "infra")))
    result = fleetgen(repo, "ipam", "plan", "--live", str(both))
    assert result.exit_code == 2
    assert f"{both}:{first.count(chr(10)) + 2}:1: error[live-export]: this file holds 2 exports; " \
           "ipam plan reads one management cluster's" in result.stderr
