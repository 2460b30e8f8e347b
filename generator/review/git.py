"""Reading a fleet at a git revision through git itself: never the index, never the work tree.

``git ls-tree`` lists the files under a prefix at a revision and ``git cat-file --batch`` reads
their contents in one process, so comparing with ``origin/main`` leaves the repository exactly as
it was (a test proves it byte for byte).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import Callable

from generator.paths import INPUT_FILES, INPUT_FOLDERS
from generator.problems import FleetError, Location, Problem
from generator.review.tree import OldFiles


def _git(repo: Path, *args: str, stdin: bytes | None = None,
         env: dict[str, str] | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                              check=False, env={**os.environ, **env} if env else None)
    except FileNotFoundError:
        raise FleetError([Problem(Location("."), "git", "git is not installed")]) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FleetError([Problem(Location("."), "git", f"git {args[0]}: "
                                  f"{message[-1] if message else 'failed'}")])
    return done.stdout


def repository(root: Path) -> tuple[Path, str]:
    """The repository holding ``root`` and ``root``'s path inside it ('' at the top)."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    inside = root.resolve().relative_to(top).as_posix()
    return top, "" if inside == "." else inside


def edited_files(root: Path) -> frozenset[str]:
    """The files below ``root`` (relative to it) that differ from ``HEAD`` or are new and not
    ignored: what a person changed. Empty where git cannot tell (no repository, no commit).
    GIT_OPTIONAL_LOCKS=0 keeps git from writing its index's refreshed stat data."""
    quiet = {"GIT_OPTIONAL_LOCKS": "0"}
    try:
        changed = _git(root, "diff", "--name-only", "-z", "--relative", "--no-ext-diff", "HEAD",
                       "--", env=quiet)
        new = _git(root, "ls-files", "-z", "--others", "--exclude-standard", env=quiet)
    except FleetError:
        return frozenset()
    return frozenset(p.decode("utf-8", "surrogateescape")
                     for p in (changed + b"\0" + new).split(b"\0") if p)


def verify(repo: Path, ref: str) -> str:
    """The commit a revision names; a located error when it names none."""
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except FleetError:
        raise FleetError([Problem(Location("."), "git-ref", f"'{ref}' names no commit",
                                  "fetch it first (git fetch origin main) or check the name")]) \
            from None


def _blobs_at(repo: Path, commit: str, prefix: str) -> dict[str, str]:
    """The blob id of every file under ``prefix`` at ``commit``, by path relative to it."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix or ".")
    blobs: dict[str, str] = {}
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # symlinks are not fleet files
            name = raw_path.decode("utf-8", "surrogateescape")
            blobs[str(PurePosixPath(name).relative_to(prefix)) if prefix else name] = sha.decode()
    return blobs


def _cat(repo: Path, shas: list[str]) -> dict[str, bytes]:
    """The bytes of each blob, read in one ``git cat-file --batch``."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    batch = _git(repo, "cat-file", "--batch", stdin="".join(f"{sha}\n" for sha in wanted)
                 .encode())
    out: dict[str, bytes] = {}
    offset = 0
    for sha in wanted:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        start = header_end + 1
        out[sha] = batch[start:start + size]
        offset = start + size + 1
    return out


def files_at(repo: Path, commit: str, prefix: str) -> dict[str, bytes]:
    """Every file under ``prefix`` at ``commit``, by path relative to ``prefix``."""
    blobs = _blobs_at(repo, commit, prefix)
    data = _cat(repo, list(blobs.values()))
    return {path: data[sha] for path, sha in blobs.items()}


def tree_at(repo: Path, commit: str, prefix: str,
            keep: Callable[[str], bool] = lambda path: True) -> OldFiles:
    """The files under ``prefix`` at ``commit`` (those ``keep`` keeps), read only when asked."""
    blobs = {p: sha for p, sha in _blobs_at(repo, commit, prefix).items() if keep(p)}
    return OldFiles(blobs, {}, lambda shas: _cat(repo, shas))


def worktree_files(folder: Path, listed: list[tuple[str, str]]) -> OldFiles | None:
    """The files ``listed`` (path relative to ``folder``, full path) as they are on disk, where
    each file git has in its index unchanged is known by its blob id and read only when asked;
    None when ``folder`` is in no git repository. git tells unchanged files by its index's stat
    data and its racy-timestamp rule, with optional locks off so that it never writes the index.
    Files marked assume-unchanged or skip-worktree (git does not look at them) are read."""
    quiet = {"GIT_OPTIONAL_LOCKS": "0"}
    try:
        staged = _git(folder, "ls-files", "-s", "-z", "--", ".", env=quiet)
        tagged = _git(folder, "ls-files", "-v", "-z", "--", ".", env=quiet)
        changed = _git(folder, "diff", "--name-only", "-z", "--relative", "--no-ext-diff", "--",
                       ".", env=quiet)
    except FleetError:
        return None
    blobs: dict[str, str] = {}
    for record in staged.split(b"\0"):
        meta, _, raw = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] in (b"100644", b"100755") and parts[2] == b"0":
            blobs[raw.decode("utf-8", "surrogateescape")] = parts[1].decode()
    for record in tagged.split(b"\0"):
        tag, _, raw = record.partition(b" ")
        if tag and (tag.islower() or tag == b"S"):  # assume-unchanged / skip-worktree
            blobs.pop(raw.decode("utf-8", "surrogateescape"), None)
    for raw in changed.split(b"\0"):
        blobs.pop(raw.decode("utf-8", "surrogateescape"), None)
    # A blob id is that of the bytes git's clean side gives (line ends normalised, filters run):
    # where git may convert, a file it calls unchanged can hold other bytes, so it is read.
    try:
        autocrlf = _git(folder, "config", "--get", "core.autocrlf", env=quiet).strip().lower()
    except FleetError:
        autocrlf = b""
    if autocrlf in (b"true", b"input"):
        blobs = {}
    elif blobs:
        names = list(blobs)
        out = _git(folder, "check-attr", "-z", "--stdin", "text", "eol", "crlf", "filter", "ident",
                   "working-tree-encoding", env=quiet,
                   stdin=b"".join(n.encode("utf-8", "surrogateescape") + b"\0" for n in names))
        fields = out.split(b"\0")
        for at in range(0, len(fields) - 2, 3):
            if fields[at + 2] not in (b"unspecified", b"unset"):
                blobs.pop(fields[at].decode("utf-8", "surrogateescape"), None)
    known = {rel: blobs[rel] for rel, _path in listed if rel in blobs}
    read: dict[str, bytes] = {}
    for rel, path in listed:
        if rel not in known:
            try:
                read[rel] = Path(path).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
    return OldFiles(known, read, lambda shas: _cat(folder, shas))


def export_fleet(repo: Path, commit: str, prefix: str, dest: Path) -> None:
    """Write every input of a render at ``commit`` (paths.INPUT_FOLDERS and INPUT_FILES, so
    fleetgen.yaml too) into ``dest`` (a fresh temporary folder)."""
    for name in INPUT_FILES:
        found = files_at(repo, commit, f"{prefix}/{name}" if prefix else name)
        if "." in found:  # the file itself (a folder of that name holds no setting)
            (dest / name).write_bytes(found["."])
    for folder in INPUT_FOLDERS:
        sub = f"{prefix}/{folder}" if prefix else folder
        for rel, data in files_at(repo, commit, sub).items():
            target = (dest / folder / rel).resolve()
            if dest.resolve() not in target.parents:
                raise FleetError([Problem(Location(f"{folder}/{rel}"), "path",
                                          "a path at that revision leaves the fleet folder")])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def changed_files(repo: Path, old: str, new: str | None, folder: str
                  ) -> list[tuple[str, str, str]]:
    """(status letter, old path, new path) of each file below ``folder`` deleted, modified or
    renamed (git's own rename detection, -M) from ``old`` to ``new``; ``new`` None is the
    working tree, compared through a copy of the index so that git's refresh of its stat data
    never writes the real one. Paths are relative to the top of ``repo``."""
    spec = f":(literal){folder}/"
    args = ["diff", "-M", "--name-status", "-z", "--diff-filter=DMR", "--no-ext-diff", old,
            *([new] if new is not None else []), "--", spec]
    if new is not None:
        out = _git(repo, *args)
    else:
        index = Path(_decode(_git(repo, "rev-parse", "--git-path", "index")).strip())
        with tempfile.TemporaryDirectory(prefix="fleetgen-") as tmp:
            copy = Path(tmp) / "index"
            real = index if index.is_absolute() else repo / index
            if real.is_file():
                copy.write_bytes(real.read_bytes())
            out = _git(repo, *args, env={"GIT_INDEX_FILE": str(copy)})
    fields = [_decode(f) for f in out.split(b"\0")]
    found: list[tuple[str, str, str]] = []
    at = 0
    while at < len(fields) and fields[at]:
        status = fields[at][:1]
        if status in "RC":
            found.append((status, fields[at + 1], fields[at + 2]))
            at += 3
        else:
            found.append((status, fields[at + 1], fields[at + 1]))
            at += 2
    return found


def untracked_files(repo: Path, folder: str) -> list[str]:
    """Files below ``folder`` that git does not track and does not ignore (not yet added), by
    path relative to the top of ``repo``."""
    out = _git(repo, "ls-files", "-o", "--exclude-standard", "-z", "--", f":(literal){folder}/")
    return sorted(_decode(p) for p in out.split(b"\0") if p)


def blobs_at(repo: Path, commit: str, paths: list[str]) -> dict[str, bytes]:
    """The contents of ``paths`` (relative to the top of ``repo``) at ``commit``, in one
    ``git cat-file --batch``; a path that is no file there is left out."""
    asked = [p for p in dict.fromkeys(paths) if "\n" not in p]
    if not asked:
        return {}
    batch = _git(repo, "cat-file", "--batch", stdin="".join(f"{commit}:{p}\n" for p in asked)
                 .encode("utf-8", "surrogateescape"))
    out: dict[str, bytes] = {}
    offset = 0
    for path in asked:
        header_end = batch.index(b"\n", offset)
        header = batch[offset:header_end].split()
        if header[-1] == b"missing" or len(header) != 3:
            offset = header_end + 1
            continue
        start = header_end + 1
        size = int(header[2])
        if header[1] == b"blob":
            out[path] = batch[start:start + size]
        offset = start + size + 1
    return out
