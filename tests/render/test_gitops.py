"""Opt-in GitOps bootstrap objects from fleetgen.yaml: a Flux Kustomization or an Argo CD
ApplicationSet per management cluster, pointing at its folder of rendered/ (issue 18, helper G:
tests/render/test_g_*.py)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from ruamel.yaml import YAML

from support.cli import fleetgen
from support.fleets import small_fleet, write_tree

WEB = "controlPlane: {endpoint: 10.0.0.10}\n"


def test_no_settings_no_gitops_objects(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    assert fleetgen(tmp_path, "render").exit_code == 0
    assert not (tmp_path / "rendered/_gitops").exists()


def test_flux_and_argocd_objects_point_at_the_folder(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB,
                api="controlPlane: {endpoint: 10.0.0.11}\nmanagementCluster: mgmt-b\n")
    write_tree(tmp_path, {"fleetgen.yaml": dedent("""\
        gitops:
          repository: https://git.example.com/fleet.git
          path: fleets/prod
          flux: {source: fleet-repo, managementClusters: [mgmt-a]}
          argocd: {managementClusters: [mgmt-b]}
        """)})
    assert fleetgen(tmp_path, "render").exit_code == 0
    folder = tmp_path / "rendered/_gitops/mgmt-a"
    flux = YAML(typ="safe").load((folder / "flux-kustomization.yaml").read_text())
    assert flux["spec"]["path"] == "./fleets/prod/rendered/mgmt-a"
    assert flux["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "fleet-repo"}
    argo = YAML(typ="safe").load(
        (tmp_path / "rendered/_gitops/mgmt-b/argocd-applicationset.yaml").read_text())
    assert argo["spec"]["generators"][0]["git"]["directories"] == [
        {"path": "fleets/prod/rendered/mgmt-b"}]
    assert argo["spec"]["template"]["spec"]["destination"] == {"name": "mgmt-b"}
    assert (tmp_path / "rendered/_gitops/mgmt-b/kustomization.yaml").read_text().endswith(
        "- argocd-applicationset.yaml\n")


def test_settings_errors_are_located(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    write_tree(tmp_path, {"fleetgen.yaml": "gitops:\n  repository: x\n  flux: {intervall: 5m}\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "fleetgen.yaml:3:10: error[unknown-key]: unknown key 'intervall' in gitops.flux",
        "  hint: did you mean 'interval'?"]
