"""The file primitives of writing rendered/: the lock, temporary files staged beside their
targets, atomic replacement, and flushing to disk.

Each file is replaced atomically (a temporary file in the same folder, then ``os.replace``), under
a lock. The lock is an ``flock`` the kernel releases when its process dies, so a ``kill -9`` never
blocks the next run; the temporary files a killed run leaves carry ``TEMP_MARK`` in their names, so
the next run finds them (``leftovers``) and removes them.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import secrets
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from generator.paths import LOCK, RENDERED_DIR, walk
from generator.problems import FleetError, Location, Problem

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None  # type: ignore[assignment]

TEMP_MARK = ".fleetgen-"  # in every temporary file name: ".<name>.fleetgen-XXXXXXXX.tmp"
_TEMP = re.compile(r"^\..+\.fleetgen-[a-z0-9_]{8}\.tmp$")


def leftovers(base: Path) -> list[str]:
    """Temporary files an interrupted run left below ``base`` (links are not followed)."""
    return [rel for rel, _path in walk(base)[0]
            if (name := rel.rpartition("/")[2]).startswith(".") and _TEMP.match(name)]


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
           sync: bool = True, names: list[str] | None = None) -> str:
    """``data`` in a new temporary file beside ``path``, on disk (fsync, unless the caller
    syncs); returns its name. The folders it had to create are added to ``created``, and the
    temporary file's name to ``names`` before the file exists, so that an interrupt at any
    moment leaves the caller a name to remove."""
    folders = _makedirs(path.parent)
    if created is not None:
        created += folders
    fd, tmp = _temporary(path, [] if names is None else names)
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


def _temporary(path: Path, names: list[str]) -> tuple[int, str]:
    """A new, empty temporary file beside ``path``: ``.<name>.fleetgen-XXXXXXXX.tmp``, its name
    added to ``names`` before it is created. Named from a per-process token and a counter
    (random names cost more than the file); a name that exists already is followed by random
    ones."""
    tmp = f"{path.parent}/.{path.name}{TEMP_MARK}{_TEMP_TOKEN}{next(_temp_numbers) % 16**5:05x}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        names.append(tmp)
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            names.pop()
            tmp = f"{path.parent}/.{path.name}{TEMP_MARK}{secrets.token_hex(4)}.tmp"


SYNC_ONCE_FROM = 16  # files; from this many on, one sync(2) instead of an fsync per file


def stage_all(base: Path, writes: dict[str, bytes], staged: dict[str, str],
              created: list[Path], step: Callable[[str, str], None],
              names: list[str]) -> None:
    """Stage every write (see ``_stage``), recording each temporary file in ``staged``, its name
    in ``names`` before it exists and each new folder in ``created`` as soon as it exists, so
    that the caller can undo them all whenever it is interrupted; the first failure is raised
    after ``step`` names its file.

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
        staged[path] = _stage(base / path, data, created, sync=not sync_once, names=names)
    if sync_once:
        step("", "flush the new files to disk")
        os.sync()  # waits until every file is on disk; only then is anything renamed


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: readers see the old or the new bytes, never a mix."""
    names: list[str] = []
    try:
        os.replace(_stage(path, data, names=names), path)
    except BaseException:
        for tmp in names:
            Path(tmp).unlink(missing_ok=True)
        raise


def sync_folders(folders: Iterable[Path]) -> None:
    """Make the renames durable (a power cut after a render keeps what it reported)."""
    folders = sorted(set(folders))
    if len(folders) >= SYNC_ONCE_FROM and hasattr(os, "sync"):
        os.sync()  # one call instead of an fsync per folder (see stage_all)
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
