"""`fleetgen diff` in real git repositories: every format, every risk class, --against and
--base/--head, and the exit codes of product.md."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from generator.review.diff import compare
from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, snapshot, write_tree
from support.gitrepo import commit_all, git, init

POOL = dedent("""\
    ipPools:
      nodes: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40]}
    network:
      nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
    """)
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: nodes}}\n"
API = "controlPlane: {endpoint: 10.9.0.2}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fleet repo whose main branch holds inventories and their rendered/."""
    init(tmp_path)
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + POOL,
                          "clusters/dev/web.yaml": WEB, "clusters/dev/api.yaml": API})
    assert fleetgen(tmp_path, "render").exit_code == 0
    commit_all(tmp_path, "fleet")
    git(tmp_path, "checkout", "-q", "-b", "pr")
    return tmp_path


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new))


def review(repo: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = fleetgen(repo, "diff", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def risk_classes(report: dict[str, object]) -> list[tuple[str, str]]:
    return [(r["class"], r["location"]) for r in report["risks"]]  # type: ignore[index,union-attr]


def test_no_change_exits_0(repo: Path) -> None:
    code, report = review(repo)
    assert code == 0 and report["changes"] == [] and report["risks"] == []


def test_version_change_is_a_rollout_naming_the_inventory_line(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "v1.27.5+vmware.1-tkg.1", "v1.28.7+vmware.1-tkg.1")
    code, report = review(repo)
    assert code == 1
    assert ("rollout", "clusters/_defaults.yaml:4:23") in risk_classes(report)
    change = next(c for c in report["changes"] if c["title"] == "Cluster dev/web")  # type: ignore
    assert {"path": "spec.topology.version", "old": "v1.27.5+vmware.1-tkg.1",
            "new": "v1.28.7+vmware.1-tkg.1"} in change["fields"]


def test_scaling_workers_is_a_change_but_not_a_rollout(repo: Path) -> None:
    edit(repo, "clusters/dev/api.yaml", API, API + "workers: [{name: md-0, replicas: 4}]\n")
    code, report = review(repo)
    assert code == 1 and report["risks"] == []


def test_removing_in_use_addresses_fails_on_request(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.12-10.0.0.40")
    code, report = review(repo, "--fail-on", "ip-removed-in-use")
    assert code == 4
    assert risk_classes(report) == [("ip-removed-in-use", "clusters/_defaults.yaml:14:3")]
    pool = next(c for c in report["changes"] if c["title"] == "InClusterIPPool dev/nodes")  # type: ignore
    assert pool["addresses"] == {"added": [], "removed": ["10.0.0.10-10.0.0.11"], "net": -2}


def test_removing_free_addresses_is_no_risk(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.10-10.0.0.30")
    code, report = review(repo, "--fail-on", "ip-removed-in-use")
    assert code == 1 and report["risks"] == []


def test_live_export_decides_what_is_in_use(repo: Path, tmp_path_factory: pytest.TempPathFactory
                                             ) -> None:
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.10-10.0.0.30")
    live = tmp_path_factory.mktemp("live") / "export.yaml"
    live.write_text(json.dumps({"kind": "List", "items": [{
        "apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "IPAddress",
        "metadata": {"name": "a", "namespace": "dev"},
        "spec": {"address": "10.0.0.35", "claimRef": {"name": "a"},
                 "poolRef": {"kind": "InClusterIPPool", "name": "nodes"}}}]}))
    code, report = review(repo, "--live", str(live))
    assert risk_classes(report) == [("ip-removed-in-use", "clusters/_defaults.yaml:14:3")]
    assert "per the live export" in report["risks"][0]["message"]  # type: ignore[index]


def test_overlap_and_capacity_are_risks_not_errors(repo: Path) -> None:
    write_tree(repo, {"clusters/dev/db.yaml": dedent("""\
        controlPlane: {endpoint: 10.9.0.3}
        network: {nodes: {ipPool: db}}
        ipPools:
          db: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.40-10.0.0.41]}
        """)})
    code, report = review(repo, "--fail-on", "ip-overlap,pool-capacity")
    assert code == 4
    assert risk_classes(report) == [("ip-overlap", "clusters/dev/db.yaml:4:3"),
                                    ("pool-capacity", "clusters/dev/db.yaml:4:3")]


def test_cidr_change_is_immutable(repo: Path) -> None:
    write_tree(repo, {"clusters/dev/api.yaml": API + "network: {pods: [100.100.0.0/16]}\n"})
    _code, report = review(repo)
    assert risk_classes(report) == [("immutable-field", "clusters/dev/api.yaml:2:17")]


def test_pool_kind_change_is_immutable(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "nodes: {gateway", "nodes: {kind: GlobalInClusterIPPool, gateway")
    _code, report = review(repo)
    assert ("immutable-field", "clusters/_defaults.yaml:14:3") in risk_classes(report)


def test_dhcp_cluster_switched_to_ipam(repo: Path) -> None:
    write_tree(repo, {"clusters/dev/api.yaml": API + "network: {nodes: {ipPool: nodes}}\n"})
    _code, report = review(repo)
    assert ("dhcp-to-ipam", "clusters/dev/api.yaml:2:27") in risk_classes(report)


def test_endpoint_change(repo: Path) -> None:
    edit(repo, "clusters/dev/api.yaml", "10.9.0.2", "10.9.0.12")
    _code, report = review(repo)
    assert risk_classes(report) == [("endpoint-change", "clusters/dev/api.yaml:1:26")]


def test_cluster_removed(repo: Path) -> None:
    (repo / "clusters/dev/api.yaml").unlink()
    code, report = review(repo, "--fail-on", "cluster-removed")
    assert code == 4
    # named at its cause: the inventory file git shows deleted (issue 16)
    assert risk_classes(report) == [("cluster-removed", "clusters/dev/api.yaml (deleted)")]


def test_against_a_ref_leaves_index_and_worktree_byte_identical(repo: Path) -> None:
    edit(repo, "clusters/dev/api.yaml", "10.9.0.2", "10.9.0.12")
    fleetgen(repo, "render")
    commit_all(repo, "move the endpoint")
    write_tree(repo, {"clusters/dev/api.yaml": API.replace("10.9.0.2", "10.9.0.22")})
    before = snapshot(repo)
    code, report = review(repo, "--against", "main")
    assert snapshot(repo) == before  # .git/index included
    assert code == 1 and report["compared"] == "rendered/ at main"
    change = next(c for c in report["changes"] if c["title"] == "Cluster dev/api")  # type: ignore
    assert {"path": "spec.topology.variables[name=apiServerEndpoint].value", "old": "10.9.0.2",
            "new": "10.9.0.22"} in change["fields"]


def test_base_head_compares_two_commits(repo: Path) -> None:
    edit(repo, "clusters/dev/api.yaml", "10.9.0.2", "10.9.0.12")
    commit_all(repo, "endpoint")  # rendered/ deliberately not refreshed: inventories decide
    code, report = review(repo, "--base", "main", "--head", "pr")
    assert code == 1
    assert risk_classes(report) == [("endpoint-change", "clusters/dev/api.yaml:1:26")]
    assert report["compared"] == "main..pr"


def test_unknown_ref_and_unknown_risk_class_exit_2(repo: Path) -> None:
    result = fleetgen(repo, "diff", "--against", "nope")
    assert result.exit_code == 2 and "error[git-ref]: 'nope' names no commit" in result.stderr
    result = fleetgen(repo, "diff", "--fail-on", "bogus")
    assert result.exit_code == 2 and "unknown risk class bogus" in result.stderr


def test_text_and_markdown_formats(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.12-10.0.0.40")
    text = fleetgen(repo, "diff").stdout
    assert "  ~ InClusterIPPool dev/nodes (mgmt-a/dev/nodes" not in text
    assert "    addresses: -10.0.0.10-10.0.0.11 (net -2)" in text
    assert "risk ip-removed-in-use  clusters/_defaults.yaml:14:3" in text
    assert "\x1b[" not in text, "no colour when not a terminal"
    markdown = fleetgen(repo, "diff", "--format", "markdown").stdout
    assert markdown.startswith("### fleetgen diff: rendered/ in the working tree\n")
    assert "| `ip-removed-in-use` | clusters/_defaults.yaml:14:3 |" in markdown
    assert "<details><summary>mgmt-a/dev/web: " in markdown


def test_reordering_and_equivalent_address_forms_are_no_change() -> None:
    cluster = ("apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata: {name: c}\n"
               "spec: {topology: {variables: [%s]}}\n")
    pool = ("apiVersion: ipam.cluster.x-k8s.io/v1alpha2\nkind: InClusterIPPool\n"
            "metadata: {name: p}\nspec: {prefix: 24, addresses: [%s]}\n")
    old = {"m/n/c/cluster.yaml": (cluster % "{name: a, value: 1}, {name: b, value: 2}").encode(),
           "m/n/c/ippool.yaml": (pool % "10.0.0.0/30").encode()}
    new = {"m/n/c/cluster.yaml": (cluster % "{name: b, value: 2}, {name: a, value: 1}").encode(),
           "m/n/c/ippool.yaml": (pool % "10.0.0.0-10.0.0.3").encode()}
    assert compare(old, new) == []


def test_secrets_are_masked() -> None:
    old = {"m/n/c/cluster-config.yaml": b"VSPHERE_PASSWORD: hunter2\nA: <encoded:abc>\n"}
    new = {"m/n/c/cluster-config.yaml": b"VSPHERE_PASSWORD: hunter3\nA: <encoded:abd>\n"}
    text = repr(compare(old, new))
    assert "hunter" not in text and "encoded" not in text and "***" in text


def test_markdown_for_300_clusters_stays_within_budget(tmp_path: Path) -> None:
    clusters = {f"clusters/dev/c{i:03}.yaml": f"controlPlane: {{endpoint: 10.9.{i // 250}.{i % 250 + 1}}}\n"
                for i in range(300)}
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS, **clusters})
    fleetgen(tmp_path, "render")
    edit(tmp_path, "clusters/_defaults.yaml", "v1.27.5+vmware.1-tkg.1", "v1.28.7+vmware.1-tkg.1")
    result = fleetgen(tmp_path, "diff", "--format", "markdown", "--max-bytes", "20000")
    assert result.exit_code == 1
    markdown = result.stdout
    assert len(markdown.encode()) <= 20000
    # per cluster: its Cluster, cluster-config.yaml and its ClusterBootstrap's TKr annotation
    assert "| 300 | 0 | 900 | 0 | +0 / -0 | rollout 1 cause (300 clusters) | - |" in markdown
    assert "| `rollout` | clusters/_defaults.yaml:4:23 | 300 clusters: " in markdown
    assert "sections are not shown._" in markdown


def test_objects_are_scoped_by_management_cluster(tmp_path: Path) -> None:
    """The same namespace/name on two management clusters is two objects, and a Cluster moved
    to another management cluster is removed there and added here, never 'no change'."""
    from generator.review.diff import compare
    cluster = ("apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\n"
               "metadata: {name: web, namespace: dev}\nspec: {}\n")
    old = {"mgmt-a/dev/web/cluster.yaml": cluster.encode()}
    moved = {"mgmt-b/dev/web/cluster.yaml": cluster.encode()}
    assert sorted((c.kind, c.file) for c in compare(old, moved)) == [
        ("added", "mgmt-b/dev/web/cluster.yaml"), ("removed", "mgmt-a/dev/web/cluster.yaml")]
    both = {**old, **moved}
    changed = {**old, "mgmt-b/dev/web/cluster.yaml": cluster.replace("spec: {}", "spec: {x: 1}")
               .encode()}
    assert [(c.kind, c.file) for c in compare(both, changed)] == [
        ("changed", "mgmt-b/dev/web/cluster.yaml")]
