"""The layout of a fleet repository: where fleetgen reads each input and writes each output,
the one walker that lists a folder of it, and the one reader of its input files
(``read_input``, and ``Reader``, which remembers what each read saw for the render cache).

Every stage takes these names from here, so a folder is named in one place. Standard library
only: the stamp check (``generator.cache.stamp``) reads it before anything heavy is imported.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

CLUSTERS_DIR = "clusters"  # one inventory file per cluster, below it
DEFAULTS_FILE = "_defaults.yaml"  # values for every cluster in its folder and below
CLUSTER_OVERLAY_SUFFIX = ".overlay.yaml"  # clusters/<...>/<cluster>.overlay.yaml: its own patches
OVERLAYS_DIR = "overlays"  # overlays/<name>/overlay.yaml
OVERLAY_FILE = "overlay.yaml"
TEMPLATES_DIR = "templates"  # a fleet's own templates, over the built-in ones
SETTINGS_FILE = "fleetgen.yaml"  # fleet-wide settings (optional)
RENDERED_DIR = "rendered"  # the output
GITOPS_DIR = "_gitops"  # rendered/_gitops/<mgmt>/: the Flux / Argo CD objects
MANIFEST = ".fleetgen-manifest.json"  # rendered/<MANIFEST>: the files fleetgen owns
PENDING = ".fleetgen-pending.json"  # rendered/<PENDING>: the journal of a run under way
LOCK = ".fleetgen.lock"  # rendered/<LOCK>: held while a run writes
SCHEMA_FILE = ".fleetgen/inventory.schema.json"  # the inventory schema, for editors

SECRETS_DIR = "secrets"  # encrypted credentials files (SealedSecret, SOPS) fleetgen.yaml names

INPUT_FOLDERS = (CLUSTERS_DIR, OVERLAYS_DIR, TEMPLATES_DIR, SECRETS_DIR)  # what a render reads ...
INPUT_FILES = (SETTINGS_FILE,)  # ... with these files


def find_root(start: Path) -> Path:
    """The fleet ``start`` is in, as git finds its repository: ``start`` or the nearest folder
    above it that holds ``clusters/`` or ``fleetgen.yaml``, never leaving the git repository
    ``start`` is in (the folder holding ``.git`` is the last one looked at); ``start`` itself
    when there is none (and the command then says there is no ``clusters/`` folder)."""
    try:
        here = start.resolve()
    except OSError:
        return start
    for folder in (here, *here.parents):
        if (folder / CLUSTERS_DIR).is_dir() or (folder / SETTINGS_FILE).is_file():
            return start if folder == here else folder
        if (folder / ".git").exists():
            break
    return start


def cluster_overlay_file(inventory_file: str) -> str:
    """Where a cluster's own patches live: beside its inventory file."""
    return inventory_file.removesuffix(".yaml") + CLUSTER_OVERLAY_SUFFIX


class NotPlain(Exception):
    """A link, a special file or an unreadable folder below a folder walked ``strict``ly."""


def walk(folder: Path, *, strict: bool = False, stat: bool = False
         ) -> tuple[list[tuple[str, str]], list[tuple[str, os.stat_result | None]]]:
    """The one walker over a fleet's folders (rendered/, templates/, overlays/): every file below
    ``folder`` as (its path relative to ``folder`` in POSIX form, its full path), folder by
    folder from the top, names sorted; and every folder visited, ``folder`` first, with (when
    ``stat``) its status taken before it was listed, so a later change to it shows. A missing
    ``folder`` holds nothing. Links are never followed into: with ``strict`` a link, a special
    file or an unreadable folder raises ``NotPlain``; otherwise a link to a file counts as a
    file, and anything else is passed over."""
    files: list[tuple[str, str]] = []
    folders: list[tuple[str, os.stat_result | None]] = []
    pending = [(str(folder), "")]
    while pending:
        path, prefix = pending.pop()
        try:
            info = os.stat(path) if stat else None
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except FileNotFoundError:
            if not folders:
                return [], []
            if strict:
                raise NotPlain(path) from None
            continue
        except OSError:
            if strict:
                raise NotPlain(path) from None
            continue
        folders.append((path, info))
        below = []
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.is_symlink():
                if strict:
                    raise NotPlain(entry.path)
                if _is_file(entry):
                    files.append((rel, entry.path))
            elif entry.is_dir(follow_symlinks=False):
                below.append((entry.path, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                files.append((rel, entry.path))
            elif strict:
                raise NotPlain(entry.path)
        pending.extend(reversed(below))
    return files, folders


def _is_file(entry: os.DirEntry[str]) -> bool:
    """Whether a link leads to a file (a looping or dangling link does not)."""
    try:
        return entry.is_file()
    except OSError:
        return False


# --- reading an input file ----------------------------------------------------------------------

MAX_INPUT_BYTES = 16 * 1024 * 1024  # no inventory, overlay, patch or template comes near it
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_LINK_HINT = "replace the link with a copy of the file (inside the repository)"


class Unsafe(Exception):
    """An input fleetgen will not read: its path relative to the fleet root, a problem code
    (``symlink``, ``outside-root``, ``unreadable``, ``too-large``), a message and a hint."""

    def __init__(self, path: str, code: str, message: str, hint: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.code, self.message, self.hint = path, code, message, hint


def _refuse(error: OSError, at: int, path: str) -> None:
    """Why opening ``path`` (a name in the folder ``at``) failed: a link or a refusal (raised),
    or nothing there (returns)."""
    try:
        kind = os.lstat(os.path.basename(path), dir_fd=at).st_mode
    except OSError:
        kind = None
    if kind is not None and stat.S_ISLNK(kind):
        raise Unsafe(path, "symlink", "is a symlink; fleetgen reads no input through a symlink",
                     _LINK_HINT) from None
    if kind is None or error.errno in (2, 20):  # ENOENT, ENOTDIR: nothing to read there
        return
    raise Unsafe(path, "unreadable", f"cannot be read ({error.strerror})",
                 "make it readable, or remove it") from None


def read_input(root: Path, rel: str) -> bytes | None:
    """The bytes of the file ``rel`` (a POSIX path relative to ``root``), or None when there is
    no such file (or a folder stands there). Every component below ``root`` is opened without
    following links, so no link anywhere on the way is followed; only a regular file of at most
    ``MAX_INPUT_BYTES`` is read (a FIFO is opened without blocking, then refused). Raises
    ``Unsafe`` otherwise. ``root`` itself (given by the user) may be reached through links."""
    parts = rel.split("/")
    if rel.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise Unsafe(rel, "outside-root", "is not a path inside the fleet folder",
                     "name files inside the repository, without '..'")
    try:
        at = os.open(root, _READ | os.O_DIRECTORY)
    except OSError as error:
        raise Unsafe(".", "unreadable", f"the fleet folder cannot be read ({error.strerror})",
                     "run fleetgen in a fleet repository, or pass --root DIR") from None
    try:
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            flags = _READ | _NOFOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
            try:
                fd = os.open(part, flags, dir_fd=at)
            except OSError as error:
                _refuse(error, at, "/".join(parts[:depth + 1]))
                return None
            os.close(at)
            at = fd
        return _read_open(at, rel)
    finally:
        os.close(at)


def _read_open(fd: int, rel: str) -> bytes | None:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise Unsafe(rel, "unreadable", "is not a regular file (a FIFO, a device or a file of "
                     "/proc)", "fleetgen reads only regular files inside the repository")
    limit = MAX_INPUT_BYTES
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        try:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        except OSError as error:
            raise Unsafe(rel, "unreadable", f"cannot be read ({error.strerror})",
                         "make it readable, or remove it") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit or info.st_size > limit:
        raise Unsafe(rel, "too-large", f"the file has {max(size, info.st_size)} bytes, more than "
                     f"the {limit} an input file may have", "fleetgen's inputs are small text "
                     "files; split it, or check that it is the file you meant")
    return b"".join(chunks)


ABSENT = "absent"  # what a Reader saw where there was no file
OUTSIDE = "outside"  # ... and where a folder led out of the fleet folder


class Reader:
    """Reads input files below ``root`` (``read_input``) and remembers what each read saw, in
    ``seen``: ``file:<rel>`` → the SHA-256 of its bytes (or ``ABSENT``), ``folder:<rel>`` →
    where that folder leads, links followed (for the one place links are resolved: an overlay's
    folder inside overlays/). A render-cache entry stores what its build's readers saw, and is
    used only while ``still`` says every observation is the same today."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: dict[str, str] = {}

    def read(self, rel: str) -> bytes | None:
        """``read_input(root, rel)``, remembered; raises ``Unsafe``."""
        data = read_input(self.root, rel)
        self.seen[f"file:{rel}"] = ABSENT if data is None else hashlib.sha256(data).hexdigest()
        return data

    def exists(self, rel: str) -> bool:
        """Whether there is a file ``rel`` to read (a refused one counts: reading it says why)."""
        try:
            return self.read(rel) is not None
        except Unsafe:
            return True

    def folder(self, path: Path) -> Path:
        """Where the folder ``path`` leads (``Path.resolve``), remembered."""
        real = path.resolve()
        self.seen[f"folder:{os.path.relpath(path, self.root)}"] = (
            real.relative_to(self.root).as_posix() if real.is_relative_to(self.root)
            else OUTSIDE)
        return real

    def observe(self, observation: str) -> str | None:
        """What ``observation`` (a key of ``seen``) sees today (None: the file cannot be read),
        remembered: one run reads each file once, however many entries name it."""
        if observation not in self.seen:
            kind, _, rel = observation.partition(":")
            try:
                if kind == "file":
                    self.read(rel)
                elif kind == "folder":
                    self.folder(self.root / rel)
                else:
                    return None
            except (Unsafe, OSError, ValueError):
                return None
        return self.seen.get(observation)

    def still(self, seen: dict[str, str]) -> bool:
        """Whether every observation in ``seen`` sees the same today."""
        return all(self.observe(observation) == value for observation, value in seen.items())
