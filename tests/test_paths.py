"""The one walker over a fleet's folders (generator.paths.walk)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.paths import NotPlain, walk


def _tree(root: Path) -> None:
    for rel in ("b.txt", "a/z.txt", "a/y/x.txt", ".hidden", "c/d.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)


def test_files_come_folder_by_folder_from_the_top_in_name_order(tmp_path: Path) -> None:
    _tree(tmp_path)
    files, folders = walk(tmp_path)
    assert [rel for rel, _ in files] == [".hidden", "b.txt", "a/z.txt", "a/y/x.txt", "c/d.txt"]
    assert all(Path(full).read_text() == rel for rel, full in files)
    assert [Path(f).relative_to(tmp_path).as_posix() for f, _ in folders] == [".", "a", "a/y", "c"]


def test_a_missing_folder_holds_nothing(tmp_path: Path) -> None:
    assert walk(tmp_path / "absent") == ([], [])
    assert walk(tmp_path / "absent", strict=True) == ([], [])


def test_links_are_never_followed_into(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "dir-link").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    files, _ = walk(root)
    assert [rel for rel, _ in files] == ["file-link"]  # a link to a file counts as the file
    with pytest.raises(NotPlain):
        walk(root, strict=True)


def test_strict_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert walk(tmp_path)[0] == []
    with pytest.raises(NotPlain):
        walk(tmp_path, strict=True)


def test_folder_status_is_given_only_when_asked(tmp_path: Path) -> None:
    _tree(tmp_path)
    _, folders = walk(tmp_path, stat=True)
    for path, info in folders:
        assert info is not None and info.st_ino == os.stat(path).st_ino
    assert all(info is None for _, info in walk(tmp_path)[1])
