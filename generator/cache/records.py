"""The records of stamps (``cache.stamp``): each file's and folder's status and digest, and
reading files and folders again to compare with them; the racy-timestamp rule is explained in
``cache.stamp``.

This module is imported before anything heavy: it uses the standard library only.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.paths import NotPlain, walk

_READ = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
         | getattr(os, "O_CLOEXEC", 0))

TICK_NS = 2_000_000_000
"""The coarsest timestamp granularity assumed (FAT's 2 s): times are compared only to this tick,
and a status younger than two ticks is never trusted alone (see the module's docstring). Tests
set a far larger tick to act out a coarse file system."""

Key = tuple[int, ...]  # what is compared of a status: size, times to the tick, inode, mode


class _Unstampable(Exception):
    """A symlink, an unreadable file, a special file, or a file that changed while it was being
    recorded: leave it to the full render."""


def _key(info: os.stat_result) -> Key:
    """What is compared of a file's or folder's status: size, both times (to the tick), inode and
    mode (so a file turned into a link, a folder or a FIFO never matches)."""
    return (info.st_size, info.st_mtime_ns // TICK_NS, info.st_ctime_ns // TICK_NS,
            info.st_ino, info.st_mode)


def _dir_key(info: os.stat_result) -> Key:
    """A folder's status without its size, which some file systems keep and others do not: its
    times change with every entry added, removed or renamed."""
    return _key(info)[1:]


def _settled(info: os.stat_result, before: int) -> bool:
    """Whether a status taken after the moment ``before`` (ns since the epoch) may vouch for the
    file alone: its times are at least two ticks older than that moment, so any later write
    changes them (the racy-timestamp rule, see the module's docstring)."""
    return max(info.st_mtime_ns, info.st_ctime_ns) // TICK_NS < before // TICK_NS - 1


def _read(path: str) -> tuple[os.stat_result, str]:
    """The status and the SHA-256 of a regular file, status first, so the bytes are at least as
    new as the status. Never through a link, never blocking on a FIFO: those are the full
    render's."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        raise _Unstampable from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Unstampable
        h = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
    except OSError:
        raise _Unstampable from None
    finally:
        os.close(fd)
    return info, h.hexdigest()


def _files(folder: Path, prefix: str) -> tuple[list[tuple[str, str]],
                                               list[tuple[str, os.stat_result | None]]]:
    """Every file and folder below ``folder`` (``paths.walk``, strictly: a link or a special
    file makes the fleet unstampable), files named ``prefix`` + their path below it."""
    if folder.is_symlink():
        raise _Unstampable
    try:
        files, folders = walk(folder, strict=True, stat=True)
    except NotPlain:
        raise _Unstampable from None
    return [(prefix + rel, path) for rel, path in files], folders


class _Records:
    """Files' records as a stamp stores them: path, status key, whether that status may vouch
    for the file alone, and digest; one list each (a stamp of 10,000 clusters holds 60,000).
    The digests are stored apart and read only when a file's status does not vouch for it."""

    def __init__(self, rels: list[str], keys: list[Key], settled: list[bool],
                 digests: list[str] | Callable[[], Any]) -> None:
        self.rels, self.keys, self.settled = rels, keys, settled
        self._digests: list[str] | None = digests if isinstance(digests, list) else None
        self._load: Callable[[], Any] | None = None if isinstance(digests, list) else digests

    @property
    def digests(self) -> list[str]:
        """The digests, read from the stamp at first use; raises ``_Unstampable`` when they
        are missing or do not fit the records."""
        if self._digests is None:
            assert self._load is not None
            try:
                digests = self._load()
            except (ValueError, KeyError, TypeError):
                raise _Unstampable from None
            if not (isinstance(digests, list) and len(digests) == len(self.rels)
                    and set(map(type, digests)) <= {str}):
                raise _Unstampable
            self._digests = digests
        return self._digests

    def to_json(self) -> dict[str, Any]:
        """The records but their digests."""
        return {"rels": self.rels, "keys": [v for key in self.keys for v in key],
                "settled": "".join("1" if s else "0" for s in self.settled)}

    @classmethod
    def from_json(cls, data: Any, width: int, digests: Callable[[], Any]) -> _Records:
        """Records read back (``digests`` reads their digests); raises ValueError, KeyError or
        TypeError when malformed."""
        rels, flat, settled = data["rels"], data["keys"], data["settled"]
        n = len(rels)
        if not (isinstance(rels, list) and isinstance(flat, list) and isinstance(settled, str)
                and len(flat) == n * width and len(settled) == n
                and set(map(type, flat)) <= {int} and set(map(type, rels)) <= {str}):
            raise ValueError("a malformed stamp")
        keys: list[Key] = list(zip(*[iter(flat)] * width))
        return cls(rels, keys, [s == "1" for s in settled], digests)


_FILE_WIDTH, _DIR_WIDTH = 5, 4


class _Rendered:
    """The records of rendered/: every file (``files``, paths relative to rendered/) and every
    folder (``folders``, rendered/ itself named "", digests unused)."""

    def __init__(self, files: _Records, folders: _Records) -> None:
        self.files, self.folders = files, folders

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files.to_json(), "folders": self.folders.to_json()}

    @classmethod
    def from_json(cls, data: Any, digests: Callable[[], Any]) -> _Rendered:
        """Records read back (``digests`` reads their files' digests); raises ValueError,
        KeyError or TypeError when malformed."""
        return cls(_Records.from_json(data["files"], _FILE_WIDTH, digests),
                   _Records.from_json(data["folders"], _DIR_WIDTH, list))

    @classmethod
    def on_disk(cls, base: Path, tree: dict[str, bytes]) -> _Rendered | None:
        """The records of rendered/ (``base``) as it is now, when it holds exactly ``tree``
        (every file, by bytes); else None."""
        before = time.time_ns()
        try:
            files, folders = _files(base, "")
        except _Unstampable:
            return None
        if sorted(rel for rel, _path in files) != sorted(tree) or not folders:
            return None
        records = _Records([], [], [], [])
        for rel, path in files:
            try:
                info, digest = _read(path)
            except _Unstampable:
                return None
            if digest != hashlib.sha256(tree[rel]).hexdigest():
                return None
            records.rels.append(rel)
            records.keys.append(_key(info))
            records.settled.append(_settled(info, before))
            records.digests.append(digest)
        dirs = _Records([], [], [], [])
        top = str(base)
        for path, status in folders:
            if status is None:
                return None
            dirs.rels.append(path[len(top) + 1:] if path != top else "")
            dirs.keys.append(_dir_key(status))
            dirs.settled.append(_settled(status, before))
            dirs.digests.append("")
        return cls(records, dirs)


def _children(rendered: _Rendered) -> dict[str, set[tuple[str, bool]]]:
    """What each recorded folder held: (name, whether it is a folder), by the folder's path."""
    held: dict[str, set[tuple[str, bool]]] = {rel: set() for rel in rendered.folders.rels}
    for rels, is_folder in ((rendered.files.rels, False), (rendered.folders.rels, True)):
        for rel in rels:
            if rel:
                parent, _, name = rel.rpartition("/")
                held.setdefault(parent, set()).add((name, is_folder))
    return held


def _listing(path: str) -> set[tuple[str, bool]] | None:
    """What the folder ``path`` holds now, as ``_children`` names it; None when it holds
    anything but plain files and folders, or cannot be listed."""
    held = set()
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_symlink():
                    return None
                if entry.is_dir(follow_symlinks=False):
                    held.add((entry.name, True))
                elif entry.is_file(follow_symlinks=False):
                    held.add((entry.name, False))
                else:
                    return None
    except OSError:
        return None
    return held


def _same_rendered(base: Path, recorded: _Rendered) -> tuple[bool, bool]:
    """Whether rendered/ (``base``) holds exactly the recorded files: every recorded folder's
    status is the recorded one (or, when that status cannot vouch for it, it still lists the
    recorded entries), and every file's status is (or else its digest is) the recorded one;
    and whether a record was brought up to date on the way (a status that changed, or that can
    vouch for its file now), to store again."""
    before = time.time_ns()
    top = str(base)
    folders, files = recorded.folders, recorded.files
    children: dict[str, set[tuple[str, bool]]] | None = None
    changed = False
    for i, rel in enumerate(folders.rels):
        path = f"{top}/{rel}" if rel else top
        try:
            info = os.lstat(path)
        except OSError:
            return False, False
        key = _dir_key(info)
        if key == folders.keys[i] and folders.settled[i]:
            continue
        if not stat.S_ISDIR(info.st_mode):
            return False, False
        if children is None:
            children = _children(recorded)
        if _listing(path) != children.get(rel):
            return False, False
        settled = _settled(info, before)
        changed = changed or (key, settled) != (folders.keys[i], folders.settled[i])
        folders.keys[i], folders.settled[i] = key, settled
    tick, keys, settled_ = TICK_NS, files.keys, files.settled
    for i, rel in enumerate(files.rels):
        path = f"{top}/{rel}"
        try:
            info = os.lstat(path)
        except OSError:
            return False, False
        if settled_[i] and keys[i] == (info.st_size, info.st_mtime_ns // tick,
                                       info.st_ctime_ns // tick, info.st_ino, info.st_mode):
            continue  # _key(info), inline: this loop runs for every rendered file
        try:
            info, digest = _read(path)
            if digest != files.digests[i]:
                return False, False
        except _Unstampable:
            return False, False
        key, settled = _key(info), _settled(info, before)
        changed = changed or (key, settled) != (files.keys[i], files.settled[i])
        files.keys[i], files.settled[i] = key, settled
    return True, changed


