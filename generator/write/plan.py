"""What a render would change in ``rendered/`` (``plan_writes``), and what fleetgen owns there.

fleetgen owns exactly the files listed in ``rendered/.fleetgen-manifest.json`` with the SHA-256 it
last wrote. That is how it knows that a file was edited by hand (its bytes no longer match), that a
file it never wrote stands in the way, or that a cluster was removed and its files may go. A run
that was killed left its journal (``PENDING``): the hashes it was about to write, which the next
plan recognises as its own (never as a hand edit). What render produced must be safe to write
(``check_wanted``, ``unsafe_path``) before anything is planned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from generator.paths import LOCK, MANIFEST, PENDING, RENDERED_DIR, walk
from generator.problems import FleetError, Location, Problem, printable
from generator.secrets import SECRET_IN_TEXT
from generator.write.files import leftovers
from generator.write.owned import fleetgen_could_write

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
    # Manifest entries for paths fleetgen never writes (see owned.py): kept, and no longer listed.
    disowned: list[str] = field(default_factory=list)
    # The SHA-256 of each file to be replaced or deleted as planned (None: absent), which apply()
    # verifies again just before changing it; and the manifest as it was.
    seen: dict[str, str | None] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)
    # What was planned, so that apply() can plan again under the lock.
    wanted: dict[str, bytes] = field(default_factory=dict)
    scope: set[str] | None = None
    force: bool = False

    @property
    def stale(self) -> bool:
        return bool(self.writes or self.deletes or self.manifest_changed or self.leftovers
                    or self.interrupted or self.disowned)

    def summary(self) -> list[str]:
        lines = [f"{'create' if p in self.creates else 'update'} {RENDERED_DIR}/{p}"
                 for p in sorted(self.writes)]
        lines += [f"delete {RENDERED_DIR}/{p}" for p in self.deletes]
        lines += [f"remove {RENDERED_DIR}/{p} (left by an interrupted render)"
                  for p in self.leftovers]
        lines += [f"keep {RENDERED_DIR}/{p} (not a file fleetgen writes: no longer listed as its "
                  "own)" for p in self.disowned]
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


def current_digest(base: Path, rel: str) -> str | None:
    """The SHA-256 of rendered/``rel`` as it is now; None when it does not exist."""
    now = _read(f"{base}/{rel}")
    return None if now is None else digest(now)


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
    plan = WritePlan(base, interrupted=(base / PENDING).exists() or (base / LOCK).exists(),
                     previous=old, wanted=wanted, scope=scope, force=force)
    # Only paths fleetgen's layout could have written are its own, whatever the manifest says.
    plan.disowned = sorted(p for p in old if p not in wanted and not fleetgen_could_write(p))
    old = {p: h for p, h in old.items() if p in wanted or fleetgen_could_write(p)}
    pending = {p: h for p, h in pending.items() if p in wanted or fleetgen_could_write(p)}
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
            plan.seen[current] = None if now is None else digest(now)
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
            plan.seen[current] = digest(now)
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


def rendered_listing(base: Path) -> list[tuple[str, str]]:
    """The files of a rendered/ folder on disk, (path below it, full path), fleetgen's own
    bookkeeping left out."""
    return [(rel, path) for rel, path in walk(base)[0]
            if not rel.rpartition("/")[2].startswith(".fleetgen")]


def read_rendered(base: Path) -> dict[str, bytes]:
    """The files of a rendered/ folder on disk (fleetgen's own bookkeeping left out). A file
    that a render running at the same time deletes after the listing is left out too: it is
    gone (``fleetgen diff`` takes no lock)."""
    out = {}
    for rel, path in rendered_listing(base):
        try:
            out[rel] = Path(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
    return out
