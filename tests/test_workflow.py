"""A platform engineer's day one, in a real git repository: init, edit, render, commit, edit, diff."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import fleetgen, scaffolded
from support.gitrepo import commit_all, git


def test_init_edit_render_commit_edit_diff(tmp_path: Path) -> None:
    repo = scaffolded(tmp_path / "fleet")
    assert fleetgen(repo, "render", "--check").exit_code == 0
    commit_all(repo, "first cluster")

    new = fleetgen(repo, "new", "cluster", str(repo / "clusters/example/dev/second.yaml"))
    assert new.exit_code == 0, new.output
    second = repo / "clusters/example/dev/second.yaml"
    second.write_text(second.read_text().replace("  endpoint:\n", "  endpoint: 10.50.0.11\n"))
    assert fleetgen(repo, "render", "--check").exit_code == 1

    result = fleetgen(repo, "diff", "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    added = sorted(c["title"] for c in report["changes"] if c["kind"] == "added")
    assert "Cluster dev/second" in added
    assert report["risks"] == []
    assert git(repo, "status", "--porcelain").splitlines() == ["?? clusters/example/dev/second.yaml"]
