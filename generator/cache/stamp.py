"""Stamps: a record that a fleet's inputs render to exactly the rendered/ on disk, so that a
``render`` or ``render --check`` of an unchanged fleet costs reading its files, not a render.

A stamp is stored in the render cache (``cache.RenderCache``), addressed by the digest of
everything a render reads: fleetgen's version and code (``cache.code_digest``), every file under
``clusters/``, ``overlays/`` and ``templates/``, and ``fleetgen.yaml``. It holds the digest of the
whole rendered/ folder (every file, names and bytes, fleetgen's own bookkeeping included) that
a successful full render of those inputs left, and the warnings that render printed.

Rendering is a function of those inputs, so when a stamp exists for today's inputs and rendered/
has exactly the recorded bytes, a render would change nothing and find no conflict: the command
prints what it printed then and stops. Anything else (a file edited, added or removed anywhere in
rendered/, a lock or journal left by another run, a symlink or an unreadable file among the
inputs) simply means no stamp applies, and the full render runs. Like the rest of the cache,
stamps are safe to delete at any time.

This module is imported before anything heavy: it uses the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.cache.store import RenderCache
from generator.paths import INPUT_FILES, INPUT_FOLDERS, RENDERED_DIR, NotPlain, walk

_READ = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
         | getattr(os, "O_CLOEXEC", 0))


class _Unstampable(Exception):
    """A symlink, an unreadable file or a special file: leave it to the full render."""


Stat = tuple[str, int, int, int]  # path, size (-1 for a folder), mtime_ns, inode


def _walk(folder: Path, prefix: str, out: list[tuple[str, str]], stats: list[Stat]) -> None:
    try:
        files, folders = walk(folder, strict=True, stat=True)
    except NotPlain:
        raise _Unstampable from None
    out.extend((prefix + rel, path) for rel, path in files)
    stats.extend((path, -1, info.st_mtime_ns, info.st_ino)  # entries added or removed
                 for path, info in folders if info is not None)


def _digest(files: list[tuple[str, bytes]], h: Any) -> str:
    for rel, data in sorted(files):
        h.update(b"%d:%s\0%d\0" % (len(rel), rel.encode("utf-8", "surrogateescape"), len(data)))
        h.update(data)
    return str(h.hexdigest())


def _read_all(files: list[tuple[str, str]], stats: list[Stat] | None = None
              ) -> list[tuple[str, bytes]]:
    out = []
    for rel, path in files:
        try:  # never through a link, never blocking on a FIFO: those are the full render's
            fd = os.open(path, _READ)
        except OSError:
            raise _Unstampable from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Unstampable
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read()
            if stats is not None:
                stats.append((path, info.st_size, info.st_mtime_ns, info.st_ino))
        except OSError:
            raise _Unstampable from None
        finally:
            os.close(fd)
        out.append((rel, data))
    return out


@dataclass(frozen=True)
class Inputs:
    """The digest of everything a render of a fleet reads, and the size, time and inode of each
    file and folder read for it (to notice, cheaply, an edit made while the render ran)."""

    digest: str
    stats: tuple[Stat, ...]

    def unchanged(self) -> bool:
        for path, size, mtime, inode in self.stats:
            try:
                info = os.stat(path)
            except OSError:
                return False
            if (info.st_mtime_ns, info.st_ino) != (mtime, inode) or \
                    (size >= 0 and info.st_size != size):
                return False
        return True


def inputs_of(root: Path) -> Inputs | None:
    """What a render of ``root`` reads, or None when it cannot be digested."""
    files: list[tuple[str, str]] = []
    stats: list[Stat] = []
    try:
        for folder in INPUT_FOLDERS:
            path = root / folder
            if path.is_symlink():
                raise _Unstampable
            _walk(path, folder + "/", files, stats)
        for name in INPUT_FILES:
            path = root / name
            if path.is_symlink():
                raise _Unstampable
            if path.exists():
                files.append((name, str(path)))
        contents = _read_all(files, stats)
    except _Unstampable:
        return None
    return Inputs(_digest(contents, hashlib.sha256(RenderCache.key("stamp-inputs").encode())),
                  tuple(stats))


def tree_digest(files: list[tuple[str, bytes]]) -> str:
    """The digest of a rendered/ folder holding exactly ``files`` (path → bytes)."""
    return _digest(files, hashlib.sha256(b"rendered\0"))


def output_digest(root: Path) -> str | None:
    """The digest of every file below rendered/ on disk (None when it cannot be taken)."""
    files: list[tuple[str, str]] = []
    path = root / RENDERED_DIR
    try:
        if path.is_symlink():
            raise _Unstampable
        _walk(path, "", files, [])
        return tree_digest(_read_all(files))
    except _Unstampable:
        return None


class Stamps:
    def __init__(self, cache: RenderCache | None = None) -> None:
        self.cache = cache or RenderCache()

    @staticmethod
    def _key(inputs: Inputs) -> str:
        return RenderCache.key("stamp", inputs.digest)

    def lookup(self, root: Path, inputs: Inputs | None) -> str | None:
        """The warnings text of the render that left ``root``'s rendered/ as it is now, when
        ``inputs`` (today's) are the inputs of that render; else None."""
        if inputs is None:
            return None
        try:
            entry = json.loads(self.cache.read(self._key(inputs)) or "")
            rendered, warnings = entry["rendered"], entry["warnings"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(rendered, str) or not isinstance(warnings, str):
            return None
        return warnings if output_digest(root) == rendered else None

    def record(self, inputs: Inputs | None, warnings: str, tree: dict[str, bytes]) -> None:
        """After a successful full render (or check) of ``inputs`` that left rendered/ holding
        ``tree`` (every file: what was wanted, and the manifest). If rendered/ holds anything
        else (a file fleetgen does not own), the digests will not match and the stamp is simply
        never used. Nothing is recorded when an input changed while the render ran."""
        if inputs is None or not inputs.unchanged():
            return
        self.cache.write(self._key(inputs), json.dumps(
            {"rendered": tree_digest(list(tree.items())), "warnings": warnings}))
        self.cache.flush()
