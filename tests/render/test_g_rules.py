"""Issue 18, helper G: a deliberate deletion is written in the file of the cluster it deletes
(generator/check/gitops_rules.py)."""

from __future__ import annotations

from pathlib import Path

from support.fleets import small_fleet, write_tree

from generator.check.fleet import build_specs
from generator.check.gitops_rules import GITOPS_RULES
from generator.load.inventory import load_inventory

WEB = "controlPlane: {endpoint: 10.0.0.10}\n"


def _problems(root: Path) -> list[str]:
    clusters = build_specs(load_inventory(root))
    return [p.text() for c in clusters for rule in GITOPS_RULES for p in rule(c)]


def test_deletion_policy_from_a_defaults_file_is_refused(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    write_tree(tmp_path, {"clusters/dev/_defaults.yaml": "deletionPolicy: delete\n"})
    [problem] = _problems(tmp_path)
    assert problem.startswith("clusters/dev/_defaults.yaml:1:1: error[deletion-policy-inherited]: "
                              "deletionPolicy: delete for cluster 'web' comes from "
                              "clusters/dev/_defaults.yaml")
    assert "hint: write deletionPolicy: delete in clusters/dev/web.yaml itself" in problem


def test_deletion_policy_in_the_cluster_file_is_accepted(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "deletionPolicy: delete\n")
    write_tree(tmp_path, {"clusters/dev/_defaults.yaml": "deletionPolicy: retain\n"})
    assert _problems(tmp_path) == []
