"""Opt-in GitOps bootstrap objects from fleetgen.yaml: a Flux Kustomization and an Argo CD
ApplicationSet per management cluster, pointing at its folder of rendered/."""

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
    small_fleet(tmp_path, web=WEB)
    write_tree(tmp_path, {"fleetgen.yaml": dedent("""\
        gitops:
          repository: https://git.example.com/fleet.git
          path: fleets/prod
          flux: {source: fleet-repo}
          argocd: {}
        """)})
    assert fleetgen(tmp_path, "render").exit_code == 0
    folder = tmp_path / "rendered/_gitops/mgmt-a"
    flux = YAML(typ="safe").load((folder / "flux-kustomization.yaml").read_text())
    assert flux["spec"] == {"interval": "10m", "path": "./fleets/prod/rendered/mgmt-a",
                            "prune": True, "sourceRef": {"kind": "GitRepository",
                                                         "name": "fleet-repo"}}
    argo = YAML(typ="safe").load((folder / "argocd-applicationset.yaml").read_text())
    assert argo["spec"]["generators"][0]["git"]["directories"] == [
        {"path": "fleets/prod/rendered/mgmt-a"}]
    assert argo["spec"]["template"]["spec"]["destination"] == {"name": "mgmt-a"}
    assert "- argocd-applicationset.yaml\n" in (folder / "kustomization.yaml").read_text()


def test_settings_errors_are_located(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    write_tree(tmp_path, {"fleetgen.yaml": "gitops:\n  repository: x\n  flux: {intervall: 5m}\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "fleetgen.yaml:3:10: error[unknown-key]: unknown key 'intervall' in gitops.flux",
        "  hint: did you mean 'interval'?"]
