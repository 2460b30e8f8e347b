"""Issue 18, helper G: removing a cluster from git never deletes it by accident.

Every Cluster and node pool carries Flux's and Argo CD's prune/delete protections unless its
inventory says ``deletionPolicy: delete``; ``deletion_guard`` reads them back (the review's
``cluster-removed`` risk)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from support.cli import fleetgen
from support.fleets import small_fleet, write_tree

from generator.render.gitops import deletion_guard, removal_outcome

WEB = "controlPlane: {endpoint: 10.0.0.10}\n"
NS = "  nameservers: {controlPlane: [10.0.0.53], worker: [10.0.0.53]}\n"
POOL = ("network:\n  nodes:\n    ipPool: {gateway: 10.0.0.1, prefix: 24, "
        "addresses: [10.0.0.20-10.0.0.30]}\n" + NS)
PROTECTED = {"kustomize.toolkit.fluxcd.io/prune": "disabled",
             "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
_yaml = YAML(typ="safe")


def _annotations(path: Path) -> dict[str, str]:
    doc = _yaml.load(path.read_text())
    return doc["metadata"].get("annotations") or {}  # type: ignore[no-any-return]


def _render(tmp_path: Path, **clusters: str) -> Path:
    small_fleet(tmp_path, **clusters)
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "rendered/mgmt-a/dev"


def test_clusters_and_their_pools_are_protected_by_default(tmp_path: Path) -> None:
    folder = _render(tmp_path, web=WEB + POOL)
    cluster = _annotations(folder / "web/cluster.yaml")
    assert {k: cluster[k] for k in PROTECTED} == PROTECTED
    assert _annotations(folder / "web/ippool.yaml") == PROTECTED


def test_deletion_policy_delete_drops_the_protections(tmp_path: Path) -> None:
    folder = _render(tmp_path, web=WEB + POOL + "deletionPolicy: delete\n")
    assert not set(_annotations(folder / "web/cluster.yaml")) & set(PROTECTED)
    assert _annotations(folder / "web/ippool.yaml") == {}


def test_a_pool_shared_with_a_kept_cluster_stays_protected(tmp_path: Path) -> None:
    shared = "network:\n  nodes: {ipPool: shared}\n" + NS
    small_fleet(tmp_path, web=WEB + shared + "deletionPolicy: delete\n",
                api="controlPlane: {endpoint: 10.0.0.11}\n" + shared)
    write_tree(tmp_path, {"clusters/dev/_defaults.yaml": "ipPools:\n  shared: {addresses: "
                          "[10.0.0.20-10.0.0.60], prefix: 24, gateway: 10.0.0.1}\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0, result.stderr
    pool_files = [p for p in (tmp_path / "rendered/mgmt-a").rglob("ippool*.yaml")]
    assert pool_files and all(_annotations(p) == PROTECTED for p in pool_files)


def test_an_inventory_sync_option_is_kept_and_completed(tmp_path: Path) -> None:
    folder = _render(tmp_path, web=WEB + "annotations:\n  argocd.argoproj.io/sync-options: "
                     "Prune=confirm,ServerSideApply=true\n")
    assert _annotations(folder / "web/cluster.yaml")["argocd.argoproj.io/sync-options"] == (
        "Prune=confirm,ServerSideApply=true,Delete=false")


def test_deletion_policy_is_checked(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "deletionPolicy: remove\n")
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.startswith("clusters/dev/web.yaml:2:")
    assert "deletionPolicy" in result.stderr


def test_deletion_guard_reads_the_last_synced_object() -> None:
    kept = {"metadata": {"annotations": dict(PROTECTED)}}
    assert deletion_guard(kept) == {"flux": False, "argocd": False}
    assert deletion_guard({"metadata": {}}) == {"flux": True, "argocd": True}
    confirm = {"metadata": {"annotations": {"argocd.argoproj.io/sync-options": "Prune=confirm"}}}
    assert deletion_guard(confirm) == {"flux": True, "argocd": False}


def test_removal_outcome_says_whether_the_cluster_is_really_deleted() -> None:
    assert removal_outcome({"metadata": {"annotations": dict(PROTECTED)}}).startswith(
        "not deleted:")
    assert removal_outcome({"metadata": {"annotations": {}}}).startswith("deleted with all")
    flux_only = {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}}
    assert removal_outcome(flux_only).startswith("deleted with all its machines if Argo CD")
