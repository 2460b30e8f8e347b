"""Issue 18, helper G: the Flux and Argo CD bootstrap objects, one applier per management
cluster, each management cluster's bootstrap on its own, every object valid against the
appliers' real CRDs (../shared/crds) and every ``_gitops`` folder built by real kustomize."""

from __future__ import annotations

import subprocess
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.cli import fleetgen
from support.crds import validate_object
from support.fleets import small_fleet, write_tree
from support.kubectl import kubectl

REPO = Path(__file__).resolve().parents[2]
A = "controlPlane: {endpoint: 10.0.0.10}\n"
B = "controlPlane: {endpoint: 10.0.0.11}\nmanagementCluster: mgmt-b\n"
BOTH = """\
    gitops:
      repository: https://git.example.com/fleet.git
      flux: {managementClusters: [mgmt-a], secretRef: fleet-auth}
      argocd: {managementClusters: [mgmt-b]}
    """
_yaml = YAML(typ="safe")


def _render(tmp_path: Path, settings: str) -> Path:
    small_fleet(tmp_path, web=A, api=B)
    write_tree(tmp_path, {"fleetgen.yaml": dedent(settings)})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "rendered/_gitops"


def _load(path: Path) -> Any:
    return _yaml.load(path.read_text())


def _files(gitops: Path) -> list[str]:
    return sorted(p.relative_to(gitops).as_posix() for p in gitops.rglob("*") if p.is_file())


# --- Argo CD ---------------------------------------------------------------------------------


def test_argocd_diffs_and_applies_server_side_and_keeps_what_it_drops(tmp_path: Path) -> None:
    appset = _load(_render(tmp_path, BOTH) / "mgmt-b/argocd-applicationset.yaml")["spec"]
    assert appset["syncPolicy"] == {"applicationsSync": "create-update",
                                    "preserveResourcesOnDeletion": True}
    template = appset["template"]
    assert template["metadata"]["annotations"] == {
        "argocd.argoproj.io/compare-options": "ServerSideDiff=true"}
    sync = template["spec"]["syncPolicy"]
    assert sync["syncOptions"] == ["ServerSideApply=true", "RespectIgnoreDifferences=true"]
    assert sync["automated"] == {"prune": True, "selfHeal": True}


def test_argocd_ignores_only_tkr_data(tmp_path: Path) -> None:
    appset = _load(_render(tmp_path, BOTH) / "mgmt-b/argocd-applicationset.yaml")
    rules = appset["spec"]["template"]["spec"]["ignoreDifferences"]
    assert [(r["group"], r["kind"]) for r in rules] == [("cluster.x-k8s.io", "Cluster")]
    assert set(rules[0]) == {"group", "kind", "jqPathExpressions"}
    assert all('select(.name == "TKR_DATA")' in e for e in rules[0]["jqPathExpressions"])


def test_no_sync_waves_anywhere() -> None:
    texts = [p.read_text() for p in (REPO / "rendered").rglob("*.yaml")]
    texts += [p.read_text() for p in (REPO / "tests/cases").rglob("*.yaml")]
    assert texts and not any("argocd.argoproj.io/sync-wave" in t for t in texts)


def test_argocd_needs_the_repository(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=A)
    write_tree(tmp_path, {"fleetgen.yaml": "gitops:\n  argocd: {}\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.startswith("fleetgen.yaml:")
    assert "argocd needs gitops.repository" in result.stderr


# --- Flux ------------------------------------------------------------------------------------


def test_flux_reads_the_git_repository_it_is_given(tmp_path: Path) -> None:
    folder = _render(tmp_path, BOTH) / "mgmt-a"
    source = _load(folder / "flux-gitrepository.yaml")
    kustomization = _load(folder / "flux-kustomization.yaml")
    assert source["spec"] == {"interval": "10m", "url": "https://git.example.com/fleet.git",
                              "ref": {"branch": "main"}, "secretRef": {"name": "fleet-auth"}}
    assert kustomization["spec"]["sourceRef"] == {"kind": "GitRepository",
                                                  "name": source["metadata"]["name"]}
    assert source["metadata"]["namespace"] == kustomization["metadata"]["namespace"]


def test_flux_prunes_orphans_on_deletion_and_waits_for_ready(tmp_path: Path) -> None:
    spec = _load(_render(tmp_path, BOTH) / "mgmt-a/flux-kustomization.yaml")["spec"]
    assert (spec["prune"], spec["deletionPolicy"], spec["wait"]) == (True, "Orphan", True)
    [health] = spec["healthCheckExprs"]
    assert (health["apiVersion"], health["kind"]) == ("cluster.x-k8s.io/v1beta1", "Cluster")
    # current only on Ready=True (not merely "status written"), failed only on severity Error,
    # and no inProgress expression: Flux calls what matches nothing in progress.
    assert "c.type == 'Ready' && c.status == 'True'" in health["current"]
    assert "c.severity == 'Error'" in health["failed"]
    assert "inProgress" not in health


def test_flux_alone_needs_no_repository(tmp_path: Path) -> None:
    gitops = _render(tmp_path, "gitops:\n  flux: {}\n")
    assert _files(gitops) == ["mgmt-a/flux-kustomization.yaml", "mgmt-a/kustomization.yaml",
                              "mgmt-b/flux-kustomization.yaml", "mgmt-b/kustomization.yaml"]
    spec = _load(gitops / "mgmt-a/flux-kustomization.yaml")["spec"]
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}


# --- one applier per management cluster; no bootstrap for all of them -------------------------


@pytest.mark.parametrize("settings, message", [
    ("  flux: {}\n  argocd: {}\n", "flux and argocd both serve every management cluster"),
    ("  flux: {managementClusters: [mgmt-a]}\n  argocd: {}\n", "give each a list"),
    ("  flux: {managementClusters: [mgmt-a, mgmt-b]}\n  argocd: {managementClusters: [mgmt-b]}\n",
     "management cluster mgmt-b is in both"),
])
def test_two_appliers_for_one_management_cluster_are_refused(
        tmp_path: Path, settings: str, message: str) -> None:
    small_fleet(tmp_path, web=A, api=B)
    write_tree(tmp_path, {"fleetgen.yaml": "gitops:\n  repository: https://g.example/f.git\n"
                          + settings})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.startswith("fleetgen.yaml:4:11: error[invalid-value]: gitops.argocd: ")
    assert message in result.stderr
    assert not (tmp_path / "rendered").exists()


def test_each_management_cluster_gets_its_own_applier_and_no_common_bootstrap(
        tmp_path: Path) -> None:
    gitops = _render(tmp_path, BOTH)
    assert _files(gitops) == ["mgmt-a/flux-gitrepository.yaml", "mgmt-a/flux-kustomization.yaml",
                              "mgmt-a/kustomization.yaml", "mgmt-b/argocd-applicationset.yaml",
                              "mgmt-b/kustomization.yaml"]
    assert not (gitops / "kustomization.yaml").exists()
    assert not (REPO / "rendered/_gitops/kustomization.yaml").exists()


def test_the_example_fleet_uses_both_appliers_on_different_management_clusters() -> None:
    gitops = REPO / "rendered/_gitops"
    appliers = {folder.name: sorted(p.name for p in folder.glob("*.yaml")
                                    if p.name != "kustomization.yaml")
                for folder in gitops.iterdir()}
    assert {tuple(v) for v in appliers.values()} == {
        ("argocd-applicationset.yaml",), ("flux-gitrepository.yaml", "flux-kustomization.yaml")}


# --- the real CRDs and real kustomize ---------------------------------------------------------


def _gitops_objects(gitops: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(p.relative_to(gitops).as_posix(), doc) for p in sorted(gitops.rglob("*.yaml"))
            if p.name != "kustomization.yaml" for doc in _yaml.load_all(p.read_text()) if doc]


def test_every_gitops_object_validates_against_the_appliers_crds(tmp_path: Path) -> None:
    objects = (_gitops_objects(_render(tmp_path, BOTH))
               + _gitops_objects(REPO / "rendered/_gitops"))
    kinds = {(d["apiVersion"], d["kind"]) for _, d in objects}
    assert kinds == {("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
                     ("source.toolkit.fluxcd.io/v1", "GitRepository"),
                     ("argoproj.io/v1alpha1", "ApplicationSet")}
    errors = [f"{path}: {e}" for path, doc in objects for e in validate_object(doc)]
    assert errors == []


def test_a_misspelt_field_fails_against_the_real_crd() -> None:
    doc = _load(REPO / "rendered/_gitops/mgmt-site-a/flux-kustomization.yaml")
    doc["spec"]["healthCheckExprs"][0]["inprogress"] = "true"
    doc["spec"]["deletionPolicy"] = "Keep"
    assert validate_object(doc) == [
        ("spec.deletionPolicy: 'Keep' is not one of ['MirrorPrune', 'Delete', "
         "'WaitForTermination', 'Orphan']"),
        "spec.healthCheckExprs[0]: 'inprogress' is not allowed"]


def test_every_gitops_folder_builds_with_kustomize(tmp_path: Path) -> None:
    folders = [*(_render(tmp_path, BOTH)).iterdir(), *(REPO / "rendered/_gitops").iterdir()]
    for folder in folders:
        build = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True,
                               text=True, timeout=60, check=False)
        assert build.returncode == 0, build.stderr
        built = sorted(d["metadata"]["name"] for d in _yaml.load_all(build.stdout) if d)
        assert built and all(name.endswith(folder.name) for name in built), built
