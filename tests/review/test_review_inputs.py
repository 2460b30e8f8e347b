"""``diff --base/--head`` renders each commit from every input a render reads (issue 14, item 6):
a commit that only changes fleetgen.yaml (Argo CD repointed to another repository) is a change."""

from __future__ import annotations

from pathlib import Path

from support.cli import fleetgen
from support.fleets import small_fleet, write_tree
from support.gitrepo import commit_all, git, init

SETTINGS = """gitops:
  repository: https://git.example.com/platform/fleet.git
  argocd: {{namespace: argocd, project: platform}}
""".replace("{{", "{").replace("}}", "}")


def test_a_commit_that_only_changes_fleetgen_yaml_is_a_change(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    repo = init(tmp_path / "repo")
    small_fleet(repo, web="controlPlane:\n  endpoint: 10.0.0.10\n")
    write_tree(repo, {"fleetgen.yaml": SETTINGS})
    assert fleetgen(repo, "render").exit_code == 0
    commit_all(repo, "fleet")
    git(repo, "checkout", "-q", "-b", "pr")
    write_tree(repo, {"fleetgen.yaml": SETTINGS.replace("git.example.com/platform",
                                                         "attacker.example.net/x")})
    commit_all(repo, "repoint Argo CD")
    result = fleetgen(repo, "diff", "--base", "main", "--head", "pr", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "attacker.example.net/x" in result.stdout
    assert "argocd-applicationset.yaml" in result.stdout
