"""Stage 6: compare the wanted files with ``rendered/`` and write only what changed, safely.

fleetgen owns exactly the files listed in ``rendered/.fleetgen-manifest.json`` with the SHA-256 it
last wrote. That is how it knows that a file was edited by hand (its bytes no longer match), that a
file it never wrote stands in the way, or that a cluster was removed and its files may go. Each
file is replaced atomically (a temporary file in the same folder, then ``os.replace``), under a
lock, and only when its bytes change, so an up-to-date tree keeps every mtime.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from generator.problems import FleetError, Location, Problem

RENDERED_DIR = "rendered"
MANIFEST = ".fleetgen-manifest.json"
LOCK = ".fleetgen.lock"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class WritePlan:
    """What a render would do to ``rendered/``; empty ``writes``/``deletes`` means up to date."""

    base: Path
    writes: dict[str, bytes] = field(default_factory=dict)
    creates: set[str] = field(default_factory=set)
    deletes: list[str] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    manifest: dict[str, str] = field(default_factory=dict)
    manifest_changed: bool = False

    @property
    def stale(self) -> bool:
        return bool(self.writes or self.deletes or self.manifest_changed)

    def summary(self) -> list[str]:
        lines = [f"{'create' if p in self.creates else 'update'} {RENDERED_DIR}/{p}"
                 for p in sorted(self.writes)]
        lines += [f"delete {RENDERED_DIR}/{p}" for p in self.deletes]
        if self.manifest_changed and not lines:
            lines.append(f"update {RENDERED_DIR}/{MANIFEST}")
        return lines


def read_manifest(base: Path) -> dict[str, str]:
    path = base / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(Location(f"{RENDERED_DIR}/{MANIFEST}"), "manifest",
                                  f"the ownership manifest is not valid JSON ({exc})",
                                  "restore it from git (git checkout -- rendered/)")]) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise FleetError([Problem(Location(f"{RENDERED_DIR}/{MANIFEST}"), "manifest",
                                  "the ownership manifest has an unexpected shape",
                                  "restore it from git (git checkout -- rendered/)")])
    return {str(k): v for k, v in files.items()}


def manifest_bytes(manifest: dict[str, str]) -> bytes:
    body = {"generator": "fleetgen", "version": 1, "files": dict(sorted(manifest.items()))}
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")


def _read(path: Path | str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return b""


def plan_writes(base: Path, wanted: dict[str, bytes], *, scope: set[str] | None = None,
                force: bool = False) -> WritePlan:
    """Compare ``wanted`` (path below ``base`` → bytes) with what is on disk.

    ``scope``: with ``--select``, only owned files under these folders may be deleted.
    """
    refuse_symlinks(base, wanted)
    old = read_manifest(base)
    plan = WritePlan(base)
    for path, data in wanted.items():
        current = _read(f"{base}/{path}")
        if current == data:
            continue
        if current is not None and not force:
            conflict = _conflict(path, current, old)
            if conflict is not None:
                plan.conflicts.append(conflict)
                continue
        plan.writes[path] = data
        if current is None:
            plan.creates.add(path)
    for path in sorted(set(old) - set(wanted)):
        if scope is not None and not any(path.startswith(prefix + "/") for prefix in scope):
            continue
        current = _read(f"{base}/{path}")
        if current is None:
            continue
        if digest(current) != old[path] and not force:
            plan.conflicts.append(Problem(
                Location(f"{RENDERED_DIR}/{path}"), "hand-edited",
                "this generated file was edited by hand and its cluster is gone",
                "move your edit into the inventory or an overlay, or pass --force to delete it"))
            continue
        plan.deletes.append(path)
    kept = {p: h for p, h in old.items() if p not in wanted and p not in plan.deletes}
    plan.manifest = {**kept, **{p: digest(d) for p, d in wanted.items()}}
    plan.manifest_changed = manifest_bytes(plan.manifest) != _read(base / MANIFEST)
    return plan


def refuse_symlinks(base: Path, paths: Iterable[str]) -> None:
    """rendered/ and every folder in it must be real: writing through a link could land
    anywhere, outside the repository included."""
    problems: list[Problem] = []
    candidates = [base] if base.is_symlink() else []
    checked: set[str] = set()
    top = str(base)
    for rel in paths:
        parts = rel.split("/")
        for end in range(1, len(parts) + 1):
            sub = "/".join(parts[:end])
            if sub in checked:
                continue
            checked.add(sub)
            if os.path.islink(f"{top}/{sub}"):
                candidates.append(base / sub)
    for link in candidates:
        problems.append(Problem(Location(f"{RENDERED_DIR}/{link.relative_to(base).as_posix()}"
                                         if link != base else RENDERED_DIR), "symlink",
                                "is a symlink; fleetgen writes only real files and folders",
                                "replace the link with a real folder (or remove it)"))
    if problems:
        raise FleetError(sorted(set(problems), key=Problem.sort_key))


def _conflict(path: str, current: bytes, old: dict[str, str]) -> Problem | None:
    where = Location(f"{RENDERED_DIR}/{path}")
    if path not in old:
        return Problem(where, "not-owned", "a file fleetgen did not write is in the way",
                       "move it elsewhere, or pass --force to let fleetgen own it")
    if digest(current) != old[path]:
        return Problem(where, "hand-edited", "this generated file was edited by hand",
                       "move your edit into the inventory or an overlay, or pass --force")
    return None


def _holder(lock: Path) -> tuple[str, int]:
    try:
        host, _, pid = lock.read_text(encoding="utf-8").strip().partition(" ")
        return host, int(pid)
    except (OSError, ValueError):
        return "", 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


@contextmanager
def locked(base: Path) -> Iterator[None]:
    """One writer at a time: a second concurrent render fails fast, naming the holder. A lock
    left by a process of this machine that no longer runs (kill -9) is taken over."""
    base.mkdir(parents=True, exist_ok=True)
    lock = base / LOCK
    me = socket.gethostname()
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            host, pid = _holder(lock)
            if host == me and not _alive(pid):
                lock.unlink(missing_ok=True)
                continue
            raise FleetError([Problem(Location(f"{RENDERED_DIR}/{LOCK}"), "locked",
                                      f"another fleetgen render (pid {pid} on {host or '?'}) is "
                                      "writing rendered/",
                                      f"wait for it; if it is gone, delete {RENDERED_DIR}/{LOCK}")
                              ]) from None
    else:
        raise FleetError([Problem(Location(f"{RENDERED_DIR}/{LOCK}"), "locked",
                                  "could not take the lock")])
    try:
        os.write(fd, f"{me} {os.getpid()}".encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(plan: WritePlan) -> None:
    """Carry out a conflict-free plan; the manifest is written last.

    Each file is replaced atomically, so a crash at any point leaves every file old or new and
    the next run converges; a file system error names the file, and that file keeps its old
    content."""
    assert not plan.conflicts, "apply() needs a plan without conflicts"
    with locked(plan.base):
        current = ""
        try:
            for path, data in sorted(plan.writes.items()):
                current = path
                atomic_write(plan.base / path, data)
            for path in plan.deletes:
                current = path
                (plan.base / path).unlink(missing_ok=True)
                _prune_empty(plan.base, (plan.base / path).parent)
            if plan.manifest_changed:
                current = MANIFEST
                atomic_write(plan.base / MANIFEST, manifest_bytes(plan.manifest))
        except OSError as exc:
            raise FleetError([Problem(Location(f"{RENDERED_DIR}/{current}"), "write-failed",
                                      f"cannot write: {exc.strerror or exc}",
                                      "free space or fix permissions, then render again: files "
                                      "already written are complete")]) from None


def _prune_empty(base: Path, folder: Path) -> None:
    while folder != base and base in folder.parents:
        try:
            folder.rmdir()
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return
            raise
        folder = folder.parent
