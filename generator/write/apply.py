"""Carry out a write plan (``apply``): write only what changed, safely.

Crashes: before the first write, the hashes about to be written are recorded in the pending
journal (``PENDING``); the manifest is written last and the journal removed after it. A run
killed at any point therefore leaves every file complete (old or new bytes), and the next run
recognises the new bytes as its own (never as a hand edit), removes the temporary files the
crash left, and converges to what a clean run writes. Only files whose bytes change are
written, so an up-to-date tree keeps every mtime.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from generator.paths import LOCK, MANIFEST, PENDING, RENDERED_DIR
from generator.problems import FleetError, Location, Problem
from generator.write.files import atomic_write, locked, stage_all, sync_folders
from generator.write.plan import WritePlan, digest, manifest_bytes


class _Step:
    """What apply() is doing, for the message when it fails."""

    def __init__(self) -> None:
        self.path, self.verb, self.changed = LOCK, "lock", False

    def __call__(self, path: str, verb: str) -> None:
        self.path, self.verb = path, verb


def apply(plan: WritePlan) -> None:
    """Carry out a conflict-free plan, in two phases under the lock.

    First every new file is written to a temporary file beside its target and flushed to disk;
    if that fails (no space left, permission denied, Ctrl-C) the temporary files are removed and
    rendered/ is exactly as it was. Then each target is replaced by its temporary file (a rename:
    atomic, and it needs no space), the removed clusters' files are deleted, and the manifest is
    written last. A crash during the second phase leaves every file old or new, and the next
    run converges (see the module docstring). A file system error names the file."""
    assert not plan.conflicts, "apply() needs a plan without conflicts"
    base = plan.base
    step = _Step()
    try:
        with locked(base):
            _apply(plan, step)
    except OSError as exc:
        hint = ("free space or fix permissions, then render again: "
                + ("files already replaced are complete" if step.changed
                   else "rendered/ was not changed"))
        raise FleetError([Problem(Location(f"{RENDERED_DIR}/{step.path}"), "write-failed",
                                  f"cannot {step.verb}: {exc.strerror or exc}", hint)],
                         partial=bool(step.changed)) from None


def _apply(plan: WritePlan, step: _Step) -> None:
    base = plan.base
    folders = {base}
    if plan.writes or plan.deletes:
        step(PENDING, "write")
        atomic_write(base / PENDING, manifest_bytes({p: digest(d) for p, d in plan.writes.items()}))
    staged: dict[str, str] = {}
    created: list[Path] = []
    try:
        stage_all(base, plan.writes, staged, created, step)
    except BaseException:
        for tmp in staged.values():
            Path(tmp).unlink(missing_ok=True)
        for folder in sorted(set(created), key=lambda f: len(f.parts), reverse=True):
            with _ignored():
                folder.rmdir()
        with _ignored():
            (base / PENDING).unlink(missing_ok=True)
        raise
    try:
        for path in sorted(staged):
            step(path, "write")
            os.replace(staged[path], base / path)
            step.changed = True
            del staged[path]
            folders.add((base / path).parent)
    finally:
        for tmp in staged.values():
            Path(tmp).unlink(missing_ok=True)
    for path in [*plan.deletes, *plan.leftovers]:
        step(path, "delete")
        (base / path).unlink(missing_ok=True)
        step.changed = True
        folders.add(_prune_empty(base, (base / path).parent))
    if plan.manifest_changed:
        step(MANIFEST, "write")
        atomic_write(base / MANIFEST, plan.manifest_text)
        step.changed = True
    step(PENDING, "delete")
    (base / PENDING).unlink(missing_ok=True)
    sync_folders(folders)


@contextmanager
def _ignored() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass


def _prune_empty(base: Path, folder: Path) -> Path:
    """Remove ``folder`` and its parents while they are empty; the first folder kept."""
    while folder != base and base in folder.parents:
        try:
            folder.rmdir()
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return folder
            raise
        folder = folder.parent
    return folder
