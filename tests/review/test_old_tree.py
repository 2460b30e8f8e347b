"""The review reads the old rendered/ only where it changed (issue 20): git's blob ids tell the
unchanged files, committed (`--against`) or in the working tree, and the changes found are
exactly those found by reading every file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.fleets import small_fleet
from support.gitrepo import commit_all, git, init

from generator import pipeline
from generator.review.diff import compare
from generator.review.git import tree_at, worktree_files
from generator.review.tree import blob_id
from generator.write.plan import read_rendered, rendered_listing

CLUSTER = """\
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: c{i}
  namespace: dev
spec:
  topology:
    version: v1.27.5
    controlPlane: {{replicas: 1}}
"""


def _rendered(repo: Path, count: int = 12) -> Path:
    base = repo / "rendered"
    for i in range(count):
        folder = base / "mgmt" / "dev" / f"c{i}"
        folder.mkdir(parents=True)
        (folder / "cluster.yaml").write_text(CLUSTER.format(i=i))
    return base


def test_blob_ids_are_gits() -> None:
    for data in (b"", b"a\n", "ü\n".encode()):
        done = subprocess.run(["git", "hash-object", "--stdin"], input=data,
                              capture_output=True, check=True)
        assert blob_id(data) == done.stdout.decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    init(tmp_path)
    _rendered(tmp_path)
    commit_all(tmp_path, "rendered")
    return tmp_path


def _new(base: Path) -> dict[str, bytes]:
    """What a render would write: the committed files, one of them changed."""
    new = read_rendered(base)
    new["mgmt/dev/c3/cluster.yaml"] = CLUSTER.format(i=3).replace("replicas: 1",
                                                                   "replicas: 3").encode()
    return new


def test_against_a_commit_reads_only_the_files_that_changed(repo: Path) -> None:
    new = _new(repo / "rendered")
    old = tree_at(repo, git(repo, "rev-parse", "HEAD").strip(), "rendered")
    changes = compare(old, new)
    assert [c.file for c in changes] == ["mgmt/dev/c3/cluster.yaml"]
    assert old.loaded == 1  # of twelve files
    assert changes == compare(read_rendered(repo / "rendered"), new)


def test_in_the_working_tree_only_files_git_sees_changed_are_read(repo: Path) -> None:
    base = repo / "rendered"
    new = _new(base)  # the render: the committed files, c3 changed
    (base / "mgmt/dev/c5/cluster.yaml").write_text(CLUSTER.format(i=5).replace("1}", "2}"))
    (base / "mgmt/dev/c9").mkdir(parents=True, exist_ok=True)
    (base / "mgmt/dev/c9/extra.yaml").write_text("kind: ConfigMap\n")  # untracked
    (base / "mgmt/dev/c7/cluster.yaml").unlink()
    old = worktree_files(base, rendered_listing(base))
    assert old is not None
    everything = read_rendered(base)
    assert set(old) == set(everything)
    changes = compare(old, new)
    assert changes == compare(everything, new)
    assert {c.file for c in changes} == {"mgmt/dev/c3/cluster.yaml", "mgmt/dev/c5/cluster.yaml",
                                         "mgmt/dev/c7/cluster.yaml", "mgmt/dev/c9/extra.yaml"}
    assert old.loaded == 1  # c3: in the index, unchanged on disk, changed by the render


def test_a_file_git_is_told_not_to_look_at_is_read_from_disk(repo: Path) -> None:
    base = repo / "rendered"
    git(repo, "update-index", "--assume-unchanged", "rendered/mgmt/dev/c4/cluster.yaml")
    (base / "mgmt/dev/c4/cluster.yaml").write_text(CLUSTER.format(i=4).replace("1}", "5}"))
    new = read_rendered(base)
    new["mgmt/dev/c4/cluster.yaml"] = CLUSTER.format(i=4).encode()
    old = worktree_files(base, rendered_listing(base))
    assert old is not None
    assert [c.file for c in compare(old, new)] == ["mgmt/dev/c4/cluster.yaml"]


def test_outside_git_there_is_no_shortcut(tmp_path: Path) -> None:
    base = _rendered(tmp_path)
    assert worktree_files(base, rendered_listing(base)) is None


def test_reading_leaves_the_index_alone(repo: Path) -> None:
    base = repo / "rendered"
    (base / "mgmt/dev/c1/cluster.yaml").write_text(CLUSTER.format(i=1))  # same bytes, new mtime
    index = repo / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    old = worktree_files(base, rendered_listing(base))
    assert old is not None and compare(old, read_rendered(base)) == []
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


def test_diff_reads_worktree_bytes_not_index_blobs_when_git_converts_line_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by attacking issue 20's review: with `rendered/** text eol=crlf`, a clone holds CRLF files whose index blobs are LF:
    git diff calls them clean, so worktree_files took the LF blob id for their bytes and
    `fleetgen diff` said nothing changes, while the same files outside git (and render --check,
    which finds every file 'edited by hand') see CRLF bytes."""
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    base = small_fleet(tmp_path / "base", web="controlPlane: {endpoint: 10.0.0.10}\n")
    pipeline.render(base)
    (base / ".gitattributes").write_text("rendered/** text eol=crlf\n")
    init(base)
    commit_all(base, "base")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(base), str(clone)], check=True)
    assert b"\r\n" in (clone / "rendered/mgmt-a/tanzu-features.sh").read_bytes()
    plain = tmp_path / "plain"  # the same files, in no repository
    plain.mkdir()
    for name in ("clusters", "rendered"):
        shutil.copytree(clone / name, plain / name)
    in_git = pipeline.review(clone)
    on_disk = pipeline.review(plain)
    assert on_disk.changes  # the CRLF script differs from what render writes
    assert in_git.changes == on_disk.changes
