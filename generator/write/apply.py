"""Carry out a write plan (``apply``): write only what changed, safely.

Crashes: before the first write, the hashes about to be written are recorded in the pending
journal (``PENDING``); the manifest is written last and the journal removed after it. A run
killed at any point therefore leaves every file complete (old or new bytes), and the next run
recognises the new bytes as its own (never as a hand edit), removes the temporary files the
crash left, and converges to what a clean run writes. Only files whose bytes change are
written, so an up-to-date tree keeps every mtime.

Hand edits made while a render runs: the plan is made again under the lock, and each file's
bytes are verified against what the plan saw just before the file is replaced or deleted (once
for all after the new files are staged, then again one by one). An edit found before the first
rename leaves rendered/ unchanged; one found later is kept, its file skipped and its old hash kept
in the manifest, so the next render still reports it. Either way: ``hand-edited``, exit 2.
"""

from __future__ import annotations

import errno
import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from generator.paths import LOCK, MANIFEST, PENDING, RENDERED_DIR
from generator.problems import FleetError, Location, Problem
from generator.write.files import atomic_write, locked, stage_all, sync_folders
from generator.write.plan import (WritePlan, current_digest, digest, manifest_bytes,
                                  plan_writes)

_DURING = ("this generated file was edited by hand while fleetgen was rendering; the edit is kept",
           "move your edit into the inventory or an overlay, or render again with --force to "
           "overwrite it")


class _Step:
    """What apply() is doing, for the message when it fails."""

    def __init__(self) -> None:
        self.path, self.verb, self.changed = LOCK, "lock", False

    def __call__(self, path: str, verb: str) -> None:
        self.path, self.verb = path, verb


def apply(plan: WritePlan) -> WritePlan:
    """Carry out a conflict-free plan, in two phases under the lock; returns the plan carried
    out, which is made again under the lock (what changed since ``plan`` was made counts).

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
            plan = plan_writes(base, plan.wanted, scope=plan.scope, force=plan.force)
            if plan.conflicts:
                raise FleetError(plan.conflicts)
            if plan.stale:
                _apply(plan, step)
            return plan
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
    names: list[str] = []  # every temporary file, named before it exists
    try:
        stage_all(base, plan.writes, staged, created, step, names)
        edited = [path for path in sorted([*plan.writes, *plan.deletes])
                  if not _unchanged(plan, path)]
        if edited:
            raise FleetError([_edited(path) for path in edited])
    except BaseException:
        for tmp in names:
            Path(tmp).unlink(missing_ok=True)
        for folder in sorted(set(created), key=lambda f: len(f.parts), reverse=True):
            with _ignored():
                folder.rmdir()
        with _ignored():
            (base / PENDING).unlink(missing_ok=True)
        raise
    with _interrupts_deferred():
        _move_into_place(plan, step, staged, folders)


def _move_into_place(plan: WritePlan, step: _Step, staged: dict[str, str],
                     folders: set[Path]) -> None:
    """The second phase: replace, delete, write the manifest (Ctrl-C waits until it ends)."""
    base = plan.base
    late: list[str] = []  # edited after the check above: skipped, the edit kept
    try:
        for path in sorted(staged):
            step(path, "write")
            if _replace(plan, path, staged[path]):
                step.changed = True
                folders.add((base / path).parent)
            else:
                late.append(path)
                Path(staged[path]).unlink(missing_ok=True)
            del staged[path]
    finally:
        for tmp in staged.values():
            Path(tmp).unlink(missing_ok=True)
    for path in [*plan.deletes, *plan.leftovers]:
        step(path, "delete")
        if path in plan.seen and not _unchanged(plan, path):
            late.append(path)
            continue
        (base / path).unlink(missing_ok=True)
        step.changed = True
        folders.add(_prune_empty(base, (base / path).parent))
    manifest = plan.manifest_text
    if late:  # the edited files keep the hashes fleetgen last wrote: still hand edits next time
        entries = {p: h for p, h in plan.manifest.items() if p not in late}
        entries.update({p: plan.previous[p] for p in late if p in plan.previous})
        manifest = manifest_bytes(entries)
    if plan.manifest_changed or late:
        step(MANIFEST, "write")
        atomic_write(base / MANIFEST, manifest)
        step.changed = True
    step(PENDING, "delete")
    (base / PENDING).unlink(missing_ok=True)
    sync_folders(folders)
    if late:
        raise FleetError([_edited(path) for path in sorted(late)], partial=step.changed)


def _unchanged(plan: WritePlan, path: str) -> bool:
    """Whether rendered/``path`` still has the bytes the plan saw."""
    return current_digest(plan.base, path) == plan.seen.get(path)


def _replace(plan: WritePlan, path: str, staged: str) -> bool:
    """Move the staged file into place unless its target was edited since the plan (False)."""
    if not _unchanged(plan, path):
        return False
    os.replace(staged, plan.base / path)
    return True


def _edited(path: str) -> Problem:
    return Problem(Location(f"{RENDERED_DIR}/{path}"), "hand-edited", *_DURING)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while rendered/ is being changed, so an interrupt leaves it as
    it was (during staging) or completely updated (here), never half of each; the signal is
    delivered when the block ends. Where signals cannot be held (not the main thread, no
    pthread_sigmask), a crash here is still recovered by the next run (see the journal)."""
    try:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


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
