"""Issue 16, R1, in real git repositories: risks from the objects whatever produced them (an
overlay, a fleet's own cluster.yaml.j2), the old rendered/ read once per review, and no noise
from a cluster deleted with its own pool; a reused endpoint is flagged."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

import generator.review.risks as risks_module
from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, write_tree
from support.gitrepo import commit_all, git, init

REPO = Path(__file__).resolve().parents[2]
POOL = dedent("""\
    ipPools:
      nodes: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.40]}
    network:
      nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
    """)
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: nodes}}\n"
API = "controlPlane: {endpoint: 10.9.0.2}\n"


def own_pool(n: int) -> str:
    return dedent(f"""\
        controlPlane: {{endpoint: 10.9.1.{n}}}
        network: {{nodes: {{ipPool: own{n}}}}}
        ipPools:
          own{n}: {{gateway: 10.1.{n}.1, prefix: 24, addresses: [10.1.{n}.10-10.1.{n}.40]}}
        """)


def make_repo(root: Path, extra: dict[str, str] | None = None) -> Path:
    init(root)
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + POOL,
                      "clusters/dev/web.yaml": WEB, "clusters/dev/api.yaml": API, **(extra or {})})
    assert fleetgen(root, "render").exit_code == 0
    commit_all(root, "fleet")
    git(root, "checkout", "-q", "-b", "pr")
    return root


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new))


def risks_of(repo: Path, *args: str) -> list[tuple[str, str]]:
    result = fleetgen(repo, "diff", "--format", "json", *args)
    report: dict[str, Any] = json.loads(result.stdout)
    return [(r["class"], r["location"]) for r in report["risks"]]


def messages(repo: Path) -> list[str]:
    report = json.loads(fleetgen(repo, "diff", "--format", "json").stdout)
    return [f'{r["class"]}: {r["message"]}' for r in report["risks"]]


SSH_OVERLAY = dedent("""\
    patches:
    - target: {kind: Cluster}
      patch: |
        apiVersion: cluster.x-k8s.io/v1beta1
        kind: Cluster
        metadata: {name: any}
        spec:
          topology:
            variables:
            - name: user
              value: {sshAuthorizedKeys: [ssh-ed25519 AAAA ops]}
    """)


def test_an_overlay_adding_ssh_keys_is_a_rollout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/ssh/overlay.yaml": SSH_OVERLAY})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [ssh]\n")
    found = messages(repo)
    assert found == ["rollout: Cluster dev/api: a change to the node users (ssh keys) replaces "
                     "machines"]


AUDIT_OVERLAY = SSH_OVERLAY.replace("name: user", "name: auditLogging").replace(
    "{sshAuthorizedKeys: [ssh-ed25519 AAAA ops]}", "{enabled: true}")


def test_an_overlay_enabling_audit_logging_is_a_rollout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/audit/overlay.yaml": AUDIT_OVERLAY})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [audit]\n")
    assert [m.split(":")[0] for m in messages(repo)] == ["rollout"]
    assert "API server audit logging" in messages(repo)[0]


def _own_cluster_template(note: str) -> str:
    """The built-in cluster.yaml.j2 as a fleet's own copy, with a label of its own."""
    text = (REPO / "templates" / "cluster.yaml.j2").read_text()
    marker = "  labels: {{ c.labels | yaml }}\n"
    assert marker in text
    return text.replace(marker, f"  labels: {{{{ dict(c.labels, team='{note}') | yaml }}}}\n")


@pytest.mark.parametrize(("path", "old", "new", "expected"), [
    ("clusters/_defaults.yaml", "v1.27.5+vmware.1-tkg.1", "v1.28.7+vmware.1-tkg.1",
     ("rollout", "clusters/_defaults.yaml:4:23")),
    ("clusters/dev/api.yaml", "10.9.0.2", "10.9.0.12",
     ("endpoint-change", "clusters/dev/api.yaml:1:26")),
    ("clusters/dev/api.yaml", API, API + "network: {pods: [100.100.0.0/16]}\n",
     ("immutable-field", "clusters/dev/api.yaml:2:17")),
    ("clusters/dev/api.yaml", API, API + "network: {nodes: {ipPool: nodes}}\n",
     ("dhcp-to-ipam", "clusters/dev/api.yaml:2:27")),
    ("clusters/_defaults.yaml", "/dc0/datastore/ds1", "/dc0/datastore/ds2",
     ("rollout", "clusters/_defaults.yaml:8:14")),
])
def test_a_fleet_with_its_own_cluster_template_still_gets_every_risk(
        tmp_path: Path, path: str, old: str, new: str, expected: tuple[str, str]) -> None:
    repo = make_repo(tmp_path, {"templates/cluster.yaml.j2": _own_cluster_template("ops")})
    assert "team: ops" in (repo / "rendered/mgmt-a/dev/api/cluster.yaml").read_text()
    edit(repo, path, old, new)
    assert expected in risks_of(repo)


def _remove_api(repo: Path) -> None:
    (repo / "clusters/dev/api.yaml").unlink()


def _reuse_api_endpoint(repo: Path) -> None:
    _remove_api(repo)
    write_tree(repo, {"clusters/dev/api2.yaml": "controlPlane: {endpoint: 10.9.0.2}\n"
                                                "kubernetes: {version: v1.28.7+vmware.1-tkg.1}\n"})


def _shrink_pool(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.12-10.0.0.40")


def _tiny_overlapping_pool(repo: Path) -> None:
    edit(repo, "clusters/_defaults.yaml", "network:\n  nameservers",
         "  db: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.40-10.0.0.41]}\n"
         "network:\n  nameservers")
    edit(repo, "clusters/dev/api.yaml", API, API + "network: {nodes: {ipPool: db}}\n")


@pytest.mark.parametrize(("change", "expected"), [
    (_remove_api, "cluster-removed"),
    (_reuse_api_endpoint, "endpoint-reused"),
    (_shrink_pool, "ip-removed-in-use"),
    (_tiny_overlapping_pool, "ip-overlap"),
    (_tiny_overlapping_pool, "pool-capacity"),
])
def test_a_fleet_with_its_own_cluster_template_gets_the_other_classes_too(
        tmp_path: Path, change: Any, expected: str) -> None:
    """With the cases above, every risk class fires for a fleet whose own cluster.yaml.j2
    wrote the Clusters: removals, reused endpoints and pool risks read the objects too."""
    repo = make_repo(tmp_path, {"templates/cluster.yaml.j2": _own_cluster_template("ops")})
    change(repo)
    assert expected in {cls for cls, _ in risks_of(repo)}


def test_the_old_rendered_tree_is_read_once_per_review(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path, {f"clusters/dev/own{n}.yaml": own_pool(n) for n in range(1, 6)})
    for n in range(1, 6):
        edit(repo, f"clusters/dev/own{n}.yaml", f"10.1.{n}.10-", f"10.1.{n}.12-")
    calls: list[int] = []
    real = risks_module.items_of

    def counting(files: dict[str, bytes]) -> Any:
        calls.append(len(files))
        return real(files)

    monkeypatch.setattr(risks_module, "items_of", counting)
    found = risks_of(repo)
    assert [c for c, _ in found] == ["ip-removed-in-use"] * 5
    # One read, of the old Clusters that name a changed pool only (not web, api or the pools).
    assert calls == [5]


def test_deleting_a_cluster_with_its_own_pool_is_no_address_risk(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"clusters/dev/own1.yaml": own_pool(1)})
    (repo / "clusters/dev/own1.yaml").unlink()
    assert risks_of(repo) == [("cluster-removed", "clusters/dev/own1.yaml (deleted)")]


def test_a_deleted_user_of_a_shrunk_pool_no_longer_holds_addresses(tmp_path: Path) -> None:
    pool = "ipPools:\n  shared: {gateway: 10.2.0.1, prefix: 24, addresses: [10.2.0.10-10.2.0.40]}\n"
    repo = make_repo(tmp_path, {
        "clusters/dev/s/_defaults.yaml": pool,
        "clusters/dev/s/a.yaml": "controlPlane: {endpoint: 10.9.2.1}\nnetwork: {nodes: "
                                 "{ipPool: shared}}\n",
        "clusters/dev/s/b.yaml": "controlPlane: {endpoint: 10.9.2.2}\nnetwork: {nodes: "
                                 "{ipPool: shared}}\n"})
    (repo / "clusters/dev/s/b.yaml").unlink()
    edit(repo, "clusters/dev/s/_defaults.yaml", "10.2.0.10-", "10.2.0.14-")
    # a keeps 2 machines (10.2.0.10-11); b's 2 addresses went with b.
    assert "ip-removed-in-use: InClusterIPPool dev/shared: 10.2.0.10-10.2.0.11 leave the pool " \
        "while in use (per the allocation prediction)" in messages(repo)


def test_a_new_cluster_taking_a_removed_clusters_endpoint_is_flagged(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/api2.yaml": API})
    found = risks_of(repo)
    assert ("endpoint-reused", "clusters/dev/api2.yaml:1:26") in found
    # git pairs the deleted file with the new one (not yet added): the cause is the new file
    assert ("cluster-removed", "clusters/dev/api2.yaml:1:1") in found


def test_a_new_endpoint_for_a_new_cluster_is_no_reuse(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/api2.yaml": API.replace("10.9.0.2", "10.9.0.22")})
    assert [c for c, _ in risks_of(repo)] == ["cluster-removed"]


PROTECTED = ("not deleted: its last render carries Flux's and Argo CD's prune protections, so the "
             "applier leaves it running, orphaned; to delete it, set deletionPolicy: delete for "
             "one release first (docs/gitops.md)")


def test_a_rename_says_it_is_likely_one_cluster(tmp_path: Path) -> None:
    # A rename is a removal plus an addition; the removal's risk names the added Cluster that
    # takes the same endpoint (or node pool) on the same management cluster.
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/api2.yaml": API})
    assert [m for m in messages(repo) if m.startswith("cluster-removed")] == [
        "cluster-removed: Cluster dev/api: " + PROTECTED + "; clusters/dev/api.yaml was renamed "
        "to clusters/dev/api2.yaml (not yet added to git; 100% similar), which renders Cluster "
        "dev/api2; perhaps renamed to Cluster dev/api2 (same endpoint 10.9.0.2)"]


def test_an_unrelated_new_cluster_gives_no_rename_hint(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/api2.yaml": "# the new payments API, not the old one\n"
                                                "controlPlane: {endpoint: 10.9.0.22}\n"
                                                "workers:\n- {name: md-0, replicas: 4}\n"})
    assert [m for m in messages(repo) if m.startswith("cluster-removed")] == [
        "cluster-removed: Cluster dev/api: " + PROTECTED
        + "; its inventory clusters/dev/api.yaml was deleted"]


def test_a_removed_cluster_whose_last_render_was_unprotected_is_deleted(tmp_path: Path) -> None:
    """Issue 18: deletionPolicy: delete, rendered and committed, then the file removed: the
    appliers prune it, and the risk says so."""
    repo = make_repo(tmp_path, {"clusters/dev/api.yaml": API + "deletionPolicy: delete\n"})
    (repo / "clusters/dev/api.yaml").unlink()
    assert [m for m in messages(repo) if m.startswith("cluster-removed")] == [
        "cluster-removed: Cluster dev/api: deleted with all its machines: its last render has no "
        "prune protection (deletionPolicy: delete), so Flux and Argo CD prune it; its inventory "
        "clusters/dev/api.yaml was deleted"]
