"""Stage 6: compare the wanted files with ``rendered/`` and write only what changed, safely.

fleetgen owns exactly the files listed in ``rendered/.fleetgen-manifest.json`` with the SHA-256 it
last wrote. That is how it knows that a file was edited by hand (its bytes no longer match), that a
file it never wrote stands in the way, or that a cluster was removed and its files may go. Each
file is replaced atomically (a temporary file in the same folder, then ``os.replace``), under a
lock, and only when its bytes change, so an up-to-date tree keeps every mtime.

Crashes: before the first write, the hashes about to be written are recorded in
``.fleetgen-pending.json``; the manifest is written last and the journal removed after it. A run
killed at any point therefore leaves every file complete (old or new bytes), and the next run
recognises the new bytes as its own (never as a hand edit), removes the temporary files the
crash left, and converges to what a clean run writes. The lock is an ``flock`` the kernel
releases when its process dies, so a ``kill -9`` never blocks the next run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import itertools
import os
import re
import secrets
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from generator.paths import MANIFEST, RENDERED_DIR
from generator.problems import FleetError, Location, Problem, printable
from generator.secrets import SECRET_IN_TEXT

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None  # type: ignore[assignment]

PENDING = ".fleetgen-pending.json"
LOCK = ".fleetgen.lock"
TEMP_MARK = ".fleetgen-"  # in every temporary file name: ".<name>.fleetgen-XXXXXXXX.tmp"
_TEMP = re.compile(r"^\..+\.fleetgen-[a-z0-9_]{8}\.tmp$")
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


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
    manifest_text: bytes = b""  # the manifest file's bytes (manifest_bytes(manifest))
    manifest_changed: bool = False
    leftovers: list[str] = field(default_factory=list)  # temporary files of a crashed run
    interrupted: bool = False  # a crashed run's journal or lock file is there

    @property
    def stale(self) -> bool:
        return bool(self.writes or self.deletes or self.manifest_changed or self.leftovers
                    or self.interrupted)

    def summary(self) -> list[str]:
        lines = [f"{'create' if p in self.creates else 'update'} {RENDERED_DIR}/{p}"
                 for p in sorted(self.writes)]
        lines += [f"delete {RENDERED_DIR}/{p}" for p in self.deletes]
        lines += [f"remove {RENDERED_DIR}/{p} (left by an interrupted render)"
                  for p in self.leftovers]
        if self.manifest_changed and not lines:
            lines.append(f"update {RENDERED_DIR}/{MANIFEST}")
        if self.interrupted and not lines:
            lines.append("finish an interrupted render")
        return lines


def unsafe_path(rel: str) -> str | None:
    """Why ``rel`` is not a path fleetgen may write or delete below rendered/, or None: it must
    be relative, without ``..``, empty or hidden parts, and of letters, digits, ``-_.`` only.

    >>> [unsafe_path(p) for p in ("mgmt/dev/web/cluster.yaml", "../x", "/etc/passwd")]
    [None, "'..' is not allowed", 'it is absolute']
    >>> unsafe_path("mgmt/web\\n/cluster.yaml")
    'it holds a character other than letters, digits, - _ .'
    """
    if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
        return "it is absolute"
    for part in rel.split("/"):
        if part in ("", "."):
            return "it has an empty part"
        if part == "..":
            return "'..' is not allowed"
        if part.startswith("."):
            return "it has a hidden part"
        if not _SAFE_PART.fullmatch(part):
            return "it holds a character other than letters, digits, - _ ."
        if len(part.encode()) > 255:
            return "a part is longer than 255 bytes"
    return None


def _load_files(base: Path, name: str) -> dict[str, str]:
    """The ``files`` mapping of the manifest (or the pending journal), every path checked."""
    where = Location(f"{RENDERED_DIR}/{name}")
    hint = "restore it from git (git checkout -- rendered/)"
    try:
        with open(f"{base}/{name}", "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(where, "manifest",
                                  f"the ownership manifest is not valid JSON ({exc})", hint)]
                         ) from None
    except OSError as exc:
        raise FleetError([Problem(where, "manifest", f"cannot read: {exc.strerror or exc}",
                                  hint)]) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise FleetError([Problem(where, "manifest",
                                  "the ownership manifest has an unexpected shape", hint)])
    bad = [Problem(where, "manifest", f"the ownership manifest lists '{printable(path)}', which "
                   f"is not a path below {RENDERED_DIR}/ ({why})", hint)
           for path in files if (why := unsafe_path(str(path))) is not None]
    if bad:
        raise FleetError(bad)
    return {str(k): v for k, v in files.items()}


def read_manifest(base: Path) -> dict[str, str]:
    return _load_files(base, MANIFEST)


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


def check_wanted(wanted: dict[str, bytes]) -> None:
    """What render produced must be safe to write: paths below rendered/ that stay distinct on
    case-insensitive file systems, and no secret-looking value (an encoded password, a private
    key) in any file, whichever template or link it came from. The value is never printed."""
    problems = []
    folded: dict[str, str] = {}
    for path, data in wanted.items():
        where = Location(f"{RENDERED_DIR}/{printable(path)}")
        why = unsafe_path(path)
        if why is not None:
            problems.append(Problem(where, "unsafe-path", f"fleetgen will not write this path: "
                                    f"{why}", "cluster, namespace and pool names must be DNS "
                                    "labels"))
            continue
        first = folded.setdefault(path.casefold(), path)
        if first != path:
            problems.append(Problem(where, "path-conflict", f"differs only in case from "
                                    f"{RENDERED_DIR}/{first}; they would be one file on macOS "
                                    "and Windows", "rename one of the clusters or pools"))
        if SECRET_IN_TEXT.search(data):
            problems.append(Problem(where, "secret-in-output", "this file would hold an encoded "
                                    "password or a private key; it is not written",
                                    "check the inventory and the templates (a template that is a "
                                    "link, or that includes a file)"))
    if problems:
        raise FleetError(problems)


def leftovers(base: Path) -> list[str]:
    """Temporary files an interrupted run left below ``base`` (links are not followed)."""
    found = []
    for folder, dirs, files in os.walk(base):
        dirs.sort()
        found += [os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/")
                  for name in sorted(files) if name.startswith(".") and _TEMP.match(name)]
    return found


def plan_writes(base: Path, wanted: dict[str, bytes], *, scope: set[str] | None = None,
                force: bool = False) -> WritePlan:
    """Compare ``wanted`` (path below ``base`` → bytes) with what is on disk.

    ``scope``: with ``--select``, only owned files under these folders may be deleted.
    """
    check_wanted(wanted)
    old = read_manifest(base)
    pending = _load_files(base, PENDING)
    refuse_symlinks(base, [*wanted, *old, *pending])
    # A journal, or a lock file nobody may hold any more: a run was killed; finish its work.
    plan = WritePlan(base, interrupted=(base / PENDING).exists() or (base / LOCK).exists())
    gone: list[str] = []
    current = ""
    exists = base.is_dir()  # a fresh rendered/: nothing to read (a probe per file is not free)
    try:
        for current, data in wanted.items():
            now = _read(f"{base}/{current}") if exists else None
            if now == data:
                continue
            if now is not None and not force:
                conflict = _conflict(current, now, old, pending)
                if conflict is not None:
                    plan.conflicts.append(conflict)
                    continue
            plan.writes[current] = data
            if now is None:
                plan.creates.add(current)
        for current in sorted((set(old) | set(pending)) - set(wanted)):
            if scope is not None and not any(current.startswith(p + "/") for p in scope):
                continue
            now = _read(f"{base}/{current}")
            if now is None:
                gone.append(current)  # deleted already (by hand, or by a run that crashed)
                continue
            if digest(now) not in (old.get(current), pending.get(current)) and not force:
                plan.conflicts.append(Problem(
                    Location(f"{RENDERED_DIR}/{current}"), "hand-edited",
                    "this generated file was edited by hand and its cluster is gone",
                    "move your edit into the inventory or an overlay, or pass --force to delete "
                    "it"))
                continue
            plan.deletes.append(current)
        current = ""
        plan.leftovers = leftovers(base) if base.is_dir() else []
        current = MANIFEST
        plan.manifest = {**_kept(base, old, pending, wanted, [*plan.deletes, *gone]),
                         **{p: digest(d) for p, d in wanted.items()}}
        plan.manifest_text = manifest_bytes(plan.manifest)
        plan.manifest_changed = plan.manifest_text != _read(base / MANIFEST)
    except OSError as exc:
        raise FleetError([Problem(Location(f"{RENDERED_DIR}/{current}".rstrip("/")),
                                  "unreadable", f"cannot read: {exc.strerror or exc}",
                                  "fix its permissions, then render again")]) from None
    return plan


def _kept(base: Path, old: dict[str, str], pending: dict[str, str], wanted: dict[str, bytes],
          deletes: list[str]) -> dict[str, str]:
    """Owned files that stay as they are (outside ``--select``): their manifest entries. A file
    an interrupted run wrote keeps the hash of the bytes it has."""
    kept = {p: h for p, h in old.items() if p not in wanted and p not in deletes}
    for path, new in pending.items():
        if path in wanted or path in deletes:
            continue
        now = _read(f"{base}/{path}")
        if now is not None and digest(now) == new:
            kept[path] = new
    return kept


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
    for name in (MANIFEST, PENDING, LOCK):
        if os.path.islink(f"{top}/{name}"):
            candidates.append(base / name)
    for link in candidates:
        problems.append(Problem(Location(f"{RENDERED_DIR}/{link.relative_to(base).as_posix()}"
                                         if link != base else RENDERED_DIR), "symlink",
                                "is a symlink; fleetgen writes only real files and folders",
                                "replace the link with a real folder (or remove it)"))
    if problems:
        raise FleetError(sorted(set(problems), key=Problem.sort_key))


def _conflict(path: str, current: bytes, old: dict[str, str],
              pending: dict[str, str]) -> Problem | None:
    where = Location(f"{RENDERED_DIR}/{path}")
    if path not in old and path not in pending:
        return Problem(where, "not-owned", "a file fleetgen did not write is in the way",
                       "move it elsewhere, or pass --force to let fleetgen own it")
    if digest(current) not in (old.get(path), pending.get(path)):
        return Problem(where, "hand-edited", "this generated file was edited by hand",
                       "move your edit into the inventory or an overlay, or pass --force")
    return None


# --- the lock ----------------------------------------------------------------------------------

def _holder(lock: Path) -> tuple[str, int]:
    """Who holds the lock, as written in it (the holder writes it just after locking)."""
    for _attempt in range(20):
        try:
            host, _, pid = lock.read_text(encoding="utf-8").strip().partition(" ")
            return host, int(pid)
        except (OSError, ValueError):
            time.sleep(0.005)
    return "", 0


def _lock_error(lock: Path, message: str) -> FleetError:
    return FleetError([Problem(Location(f"{RENDERED_DIR}/{LOCK}"), "locked", message,
                               "wait for it to finish, then render again")])


def _acquire(lock: Path) -> int | None:
    """A descriptor holding the lock, or None while another process holds it. The kernel drops
    an ``flock`` when its process dies, however it dies, so a stale lock file is free."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(10):
        fd = os.open(lock, flags, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = os.fstat(fd)
            try:
                same = info.st_ino == os.stat(lock, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same and info.st_nlink == 1:
                return fd
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the lock file was removed or replaced meanwhile: take the new one
    raise _lock_error(lock, "could not take the lock")


@contextmanager
def locked(base: Path) -> Iterator[None]:
    """One writer at a time: a second concurrent render fails fast, naming the holder."""
    base.mkdir(parents=True, exist_ok=True)
    lock = base / LOCK
    try:
        fd = _acquire(lock)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FleetError([Problem(Location(f"{RENDERED_DIR}/{LOCK}"), "symlink",
                                      "is a symlink; fleetgen writes only real files and folders",
                                      "remove the link")]) from None
        raise
    if fd is None:
        host, pid = _holder(lock)
        raise _lock_error(lock, f"another fleetgen render (pid {pid or '?'} on {host or '?'}) "
                                "is writing rendered/")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}".encode())
        yield
    finally:
        try:
            lock.unlink(missing_ok=True)  # while still holding it: no one can lock the old file
        finally:
            os.close(fd)


# --- writing -----------------------------------------------------------------------------------

def _makedirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the folders created, outermost first."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
    return list(reversed(missing))


def _stage(path: Path, data: bytes, created: list[Path] | None = None, *,
           sync: bool = True) -> str:
    """``data`` in a new temporary file beside ``path``, on disk (fsync, unless the caller
    syncs); returns its name. The folders it had to create are added to ``created``."""
    folders = _makedirs(path.parent)
    if created is not None:
        created += folders
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


_TEMP_TOKEN = secrets.token_hex(2)[:3]  # this process's; a counter makes each name unique
_temp_numbers = itertools.count()


def _temporary(path: Path) -> tuple[int, str]:
    """A new, empty temporary file beside ``path``: ``.<name>.fleetgen-XXXXXXXX.tmp``. Named
    from a per-process token and a counter (tempfile.mkstemp's random names cost more than the
    file); a name that exists already falls back to mkstemp."""
    tmp = f"{path.parent}/.{path.name}{TEMP_MARK}{_TEMP_TOKEN}{next(_temp_numbers) % 16**5:05x}.tmp"
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                       0o600), tmp
    except FileExistsError:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TEMP_MARK}", suffix=".tmp")


SYNC_ONCE_FROM = 16  # files; from this many on, one sync(2) instead of an fsync per file


def _stage_all(base: Path, writes: dict[str, bytes], staged: dict[str, str],
               created: list[Path], step: _Step) -> None:
    """Stage every write (see ``_stage``), recording each temporary file in ``staged`` and each
    new folder in ``created`` as soon as it exists, so that the caller can undo them all; the
    first failure is raised after ``step`` names its file.

    Many files are flushed to disk with one sync(2) at the end instead of an fsync each: every
    fsync commits the file system journal and holds up the creation of the next files, which
    made fsync most of the cost of writing a fresh rendered/ of a thousand clusters. (Threads
    were tried: on a two-core VM their lock hand-offs cost more system time than they saved.)"""
    sync_once = len(writes) >= SYNC_ONCE_FROM and hasattr(os, "sync")
    if sync_once:
        # Folders first, each once, so that each file costs only its own creation.
        for folder in sorted({(base / path).parent for path in writes}):
            step(folder.relative_to(base).as_posix(), "create the folder")
            created += _makedirs(folder)
    for path, data in sorted(writes.items()):
        step(path, "write")
        staged[path] = _stage(base / path, data, created, sync=not sync_once)
    if sync_once:
        step("", "flush the new files to disk")
        os.sync()  # waits until every file is on disk; only then is anything renamed


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: readers see the old or the new bytes, never a mix."""
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        _stage_all(base, plan.writes, staged, created, step)
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
    _sync(folders)


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


def _sync(folders: Iterable[Path]) -> None:
    """Make the renames durable (a power cut after a render keeps what it reported)."""
    folders = sorted(set(folders))
    if len(folders) >= SYNC_ONCE_FROM and hasattr(os, "sync"):
        os.sync()  # one call instead of an fsync per folder (see _stage_all)
        return
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
