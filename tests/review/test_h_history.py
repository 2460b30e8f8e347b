"""Issue 16 (H): a removed cluster is located at its cause, found from the inventories and from
git's history of the inventory files (renamed, deleted, or renamed without ``git add``), in real
git repositories; git is read without touching the index or the working tree."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from generator.check.fleet import Fleet
from generator.pipeline import load_fleet, review
from generator.review.git import export_fleet
from generator.review.history import Removal, removal_causes
from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, snapshot, write_tree
from support.gitrepo import commit_all, git, init
from test_r1_review import API, POOL, WEB, edit, make_repo

TEAM = {"clusters/team/_defaults.yaml": "# the team's clusters\nnamespace: team\n",
        "clusters/team/db.yaml": "controlPlane: {endpoint: 10.9.0.3}\n"}


def causes(root: Path, **kwargs: object) -> dict[str, Removal]:
    """The working tree's review (or base/head's, with ``base``/``head``), its removals' causes."""
    base, head, against = (kwargs.pop(k, None) for k in ("base", "head", "against"))
    found = review(root, base=base, head=head, against=against)  # type: ignore[arg-type]
    return removal_causes(found.changes, found.fleet, root, **kwargs)  # type: ignore[arg-type]


def fleet_at(root: Path, rev: str, into: Path) -> Fleet:
    top = Path(git(root, "rev-parse", "--show-toplevel").strip())
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    export_fleet(top, git(root, "rev-parse", rev).strip(), "" if prefix == "." else prefix, into)
    return load_fleet(into, relaxed=frozenset({"pool-capacity", "pool-overlap"}))


# --- case 3: git's history of the inventory file -----------------------------------------------

def test_a_git_mv_committed_is_a_rename_in_base_head_mode(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "mv", "clusters/dev/api.yaml", "clusters/dev/api2.yaml")
    commit_all(repo, "rename api")
    assert causes(repo, base="main", head="pr", old_rev="main", new_rev="pr") == {
        "Cluster dev/api": Removal(
            "clusters/dev/api2.yaml:1:1", "clusters/dev/api.yaml was renamed to "
            "clusters/dev/api2.yaml (git), which renders Cluster dev/api2")}


def test_a_git_mv_not_yet_committed_is_a_rename_in_the_working_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "mv", "clusters/dev/api.yaml", "clusters/dev/api2.yaml")
    assert causes(repo, old_rev="HEAD")["Cluster dev/api"] == Removal(
        "clusters/dev/api2.yaml:1:1", "clusters/dev/api.yaml was renamed to "
        "clusters/dev/api2.yaml (git), which renders Cluster dev/api2")


def test_a_plain_mv_pairs_the_deleted_file_with_the_untracked_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").rename(repo / "clusters/dev/api2.yaml")
    assert causes(repo, old_rev="HEAD")["Cluster dev/api"] == Removal(
        "clusters/dev/api2.yaml:1:1", "clusters/dev/api.yaml was renamed to "
        "clusters/dev/api2.yaml (not yet added to git; 100% similar), which renders "
        "Cluster dev/api2")


def test_an_untracked_file_too_different_is_no_rename(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/other.yaml": "controlPlane: {endpoint: 10.9.0.7}\n"
                                                 "workers:\n- {name: md-0, replicas: 5}\n"
                                                 "network: {nodes: {ipPool: nodes}}\n"})
    assert causes(repo, old_rev="HEAD")["Cluster dev/api"] == Removal(
        "clusters/dev/api.yaml (deleted)", "its inventory clusters/dev/api.yaml was deleted")


def test_a_deleted_inventory_file_is_the_cause(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    expected = {"Cluster dev/api": Removal("clusters/dev/api.yaml (deleted)",
                                           "its inventory clusters/dev/api.yaml was deleted")}
    assert causes(repo, old_rev="HEAD") == expected
    commit_all(repo, "delete api")
    assert causes(repo, base="main", head="pr", old_rev="main", new_rev="pr") == expected
    assert causes(repo, against="main", old_rev="main") == expected


def test_a_file_named_otherwise_is_matched_by_its_old_name_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"clusters/dev/legacy-file.yaml":
                                "name: legacy\ncontrolPlane: {endpoint: 10.9.0.5}\n"})
    (repo / "clusters/dev/legacy-file.yaml").unlink()
    assert causes(repo, old_rev="HEAD") == {"Cluster dev/legacy": Removal(
        "clusters/dev/legacy-file.yaml (deleted)",
        "its inventory clusters/dev/legacy-file.yaml was deleted")}


def test_reading_git_leaves_the_index_and_the_working_tree_as_they_were(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    os.utime(repo / "clusters/dev/web.yaml", (2_000_000_000, 2_000_000_000))  # stat-dirty
    (repo / "clusters/dev/api.yaml").rename(repo / "clusters/dev/api2.yaml")
    found = review(repo)
    before = snapshot(repo)
    assert removal_causes(found.changes, found.fleet, repo, old_rev="HEAD")
    assert snapshot(repo) == before  # .git/index included, byte for byte and mtime


# --- cases 1 and 2: the inventories say where it went -----------------------------------------

def test_a_namespace_change_in_a_defaults_file_is_a_move(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, TEAM)
    edit(repo, "clusters/team/_defaults.yaml", "namespace: team", "namespace: ops")
    expected = {"Cluster team/db": Removal(
        "clusters/team/_defaults.yaml:2:1",
        "moves to mgmt-a/ops/db: deleted here, created anew there")}
    assert causes(repo, old_rev="HEAD") == expected
    commit_all(repo, "move the team")
    assert causes(repo, base="main", head="pr", old_rev="main", new_rev="pr") == expected


def test_a_namespace_set_in_the_cluster_file_is_located_there(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/dev/api.yaml", API, API + "namespace: ops\n")
    assert causes(repo) == {"Cluster dev/api": Removal(
        "clusters/dev/api.yaml:2:1", "moves to mgmt-a/ops/api: deleted here, created anew there")}


def test_a_name_change_in_place_points_at_the_name_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/dev/api.yaml", API, API + "name: api2\n")
    expected = {"Cluster dev/api": Removal(
        "clusters/dev/api.yaml:2:1", "renamed to mgmt-a/dev/api2 (name: in clusters/dev/api.yaml)")}
    assert causes(repo, old_rev="HEAD") == expected  # from git: the file changed in place
    commit_all(repo, "rename api")
    with tempfile.TemporaryDirectory() as old:
        old_fleet = fleet_at(repo, "main", Path(old))
        assert causes(repo, base="main", head="pr", old_fleet=old_fleet) == expected  # no git
        assert causes(repo, base="main", head="pr", old_fleet=old_fleet, old_rev="main",
                      new_rev="pr") == expected


# --- where the fleet is, and where git is not --------------------------------------------------

def test_a_fleet_below_the_top_of_its_repository_with_spaces_and_unicode(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    top = init(tmp_path / "repo")
    root = top / "fleets" / "site ä ✓"
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + POOL,
                      "clusters/dev/web.yaml": WEB, "clusters/équipe dev/api.yaml": API,
                      "clusters/équipe dev/db.yaml": "controlPlane: {endpoint: 10.9.0.3}\n"})
    assert fleetgen(root, "render").exit_code == 0
    commit_all(top, "fleet")
    (root / "clusters/équipe dev/api.yaml").rename(root / "clusters/équipe dev/api 2.yaml")
    edit(root, "clusters/équipe dev/api 2.yaml", API, API + "name: api2\n")
    (root / "clusters/équipe dev/db.yaml").unlink()
    assert causes(root, old_rev="HEAD") == {
        "Cluster dev/api": Removal(
            "clusters/équipe dev/api 2.yaml:1:1", "clusters/équipe dev/api.yaml was renamed to "
            "clusters/équipe dev/api 2.yaml (not yet added to git; 86% similar), which renders "
            "Cluster dev/api2"),
        "Cluster dev/db": Removal("clusters/équipe dev/db.yaml (deleted)",
                                  "its inventory clusters/équipe dev/db.yaml was deleted")}
    git(top, "add", "-A")
    assert causes(root, old_rev="HEAD")["Cluster dev/api"].note.endswith(
        "api 2.yaml (git), which renders Cluster dev/api2")


def test_without_git_only_the_inventories_speak(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + POOL,
                                 "clusters/dev/web.yaml": WEB, "clusters/dev/api.yaml": API})
    assert fleetgen(root, "render").exit_code == 0
    (root / "clusters/dev/api.yaml").unlink()
    edit(root, "clusters/dev/web.yaml", WEB, WEB + "namespace: ops\n")
    assert causes(root, old_rev="HEAD") == {"Cluster dev/web": Removal(
        "clusters/dev/web.yaml:3:1", "moves to mgmt-a/ops/web: deleted here, created anew there")}


def test_a_revision_git_does_not_know_is_skipped_quietly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    assert causes(repo, old_rev="no-such-rev") == {}
    assert causes(repo) == {}  # no revision: git is not asked


def test_git_not_installed_is_skipped_quietly(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    found = review(repo)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert shutil.which("git") is None
    assert removal_causes(found.changes, found.fleet, repo, old_rev="HEAD") == {}
