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
from pathlib import Path

from generator.cache import RenderCache

# The inputs of a render (see inventory.CLUSTERS_DIR, overlay.OVERLAYS_DIR, render.TEMPLATES_DIR,
# settings.SETTINGS_FILE; a test keeps them equal) and its output folder (write.RENDERED_DIR).
INPUT_FOLDERS = ("clusters", "overlays", "templates")
INPUT_FILES = ("fleetgen.yaml",)
OUTPUT_FOLDER = "rendered"


class _Unstampable(Exception):
    """A symlink, an unreadable file or a special file: leave it to the full render."""


def _walk(folder: Path, prefix: str, out: list[tuple[str, str]]) -> None:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    except OSError:
        raise _Unstampable from None
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        if entry.is_symlink():
            raise _Unstampable
        if entry.is_dir(follow_symlinks=False):
            _walk(Path(entry.path), rel + "/", out)
        elif entry.is_file(follow_symlinks=False):
            out.append((rel, entry.path))
        else:
            raise _Unstampable


def _digest(files: list[tuple[str, str]], h: hashlib._Hash) -> None:
    for rel, path in sorted(files):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            raise _Unstampable from None
        h.update(b"%d:%s\0%d\0" % (len(rel), rel.encode("utf-8", "surrogateescape"), len(data)))
        h.update(data)


def input_digest(root: Path) -> str | None:
    """The digest of everything a render of ``root`` reads, or None when it cannot be taken."""
    h = hashlib.sha256(RenderCache.key("stamp-inputs").encode())
    files: list[tuple[str, str]] = []
    try:
        for folder in INPUT_FOLDERS:
            path = root / folder
            if path.is_symlink():
                raise _Unstampable
            _walk(path, folder + "/", files)
        for name in INPUT_FILES:
            path = root / name
            if path.is_symlink():
                raise _Unstampable
            if path.exists():
                files.append((name, str(path)))
        _digest(files, h)
    except _Unstampable:
        return None
    return h.hexdigest()


def output_digest(root: Path) -> str | None:
    """The digest of every file below rendered/ (None when it cannot be taken)."""
    h = hashlib.sha256(b"rendered\0")
    files: list[tuple[str, str]] = []
    path = root / OUTPUT_FOLDER
    try:
        if path.is_symlink():
            raise _Unstampable
        _walk(path, "", files)
        _digest(files, h)
    except _Unstampable:
        return None
    return h.hexdigest()


class Stamps:
    def __init__(self, cache: RenderCache | None = None) -> None:
        self.cache = cache or RenderCache()

    @staticmethod
    def _key(inputs: str) -> str:
        return RenderCache.key("stamp", inputs)

    def lookup(self, root: Path, inputs: str | None) -> str | None:
        """The warnings text of the render that left ``root``'s rendered/ as it is now, when
        ``inputs`` (today's ``input_digest``) are the inputs of that render; else None."""
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

    def record(self, root: Path, inputs: str | None, warnings: str) -> None:
        """After a successful full render (or check) that read ``inputs``: remember what
        rendered/ holds now. Nothing is recorded when the inputs changed meanwhile."""
        if inputs is None or input_digest(root) != inputs:
            return
        rendered = output_digest(root)
        if rendered is not None:
            self.cache.write(self._key(inputs),
                             json.dumps({"rendered": rendered, "warnings": warnings}))
            self.cache.flush()
