"""Where a removed Cluster went: the cause of a ``cluster-removed`` risk, in the inventory.

In this order:
1. a move: the new fleet has a Cluster of the same name, added by this change, on another
   namespace or management cluster; the cause is the key that moved it (wherever it is set: the
   cluster's file or a ``_defaults.yaml``);
2. a name changed in place: the old Cluster's inventory file now renders a Cluster of another
   name (known from ``old_fleet`` with ``--base/--head``, else from git: the file changed in
   place); the cause is its ``name:`` key;
3. git's history of the inventory files between ``old_rev`` and ``new_rev`` (None: the working
   tree): a file git shows renamed (its own rename detection), a deleted file paired with one not
   yet added to git when their texts are at least 50 % alike (git's default threshold), or a
   deleted file. A file is matched to the removed Cluster by its name (the file's stem), or by a
   ``name:`` in its old text.
Git is read without touching the index or the working tree (``generator.review.git``); when git
is missing, the directory is no repository or a revision is unknown, step 3 says nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ruamel.yaml.error import YAMLError

from generator.check.fleet import Cluster, Fleet
from generator.paths import CLUSTERS_DIR
from generator.problems import FleetError
from generator.review.diff import Change
from generator.review.git import blobs_at, changed_files, repository, untracked_files
from generator.yaml.fast import load_fast

SIMILAR = 0.5  # git's default rename threshold (diff -M50%)


@dataclass(frozen=True)
class Removal:
    where: str  # the cause: an inventory path:line:col, or "<file> (deleted)"
    note: str   # what happened, appended to the risk


def _title(c: Cluster) -> str:
    return f"Cluster {c.spec.namespace}/{c.spec.name}"


def _removed(changes: list[Change]) -> dict[str, tuple[str, str, str]]:
    """title → (management cluster, namespace, name) of every removed Cluster."""
    out = {}
    for c in changes:
        if c.object_kind == "Cluster" and c.kind == "removed" and c.cluster:
            parts = c.cluster.split("/")
            if len(parts) == 3:
                out[c.title] = (parts[0], parts[1], parts[2])
    return out


def _moves(removed: dict[str, tuple[str, str, str]], changes: list[Change], fleet: Fleet
           ) -> dict[str, Removal]:
    added = {c.cluster for c in changes if c.object_kind == "Cluster" and c.kind == "added"}
    out = {}
    for title, (mgmt, namespace, name) in removed.items():
        there = sorted((c for c in fleet.clusters if c.spec.name == name and c.folder in added),
                       key=lambda c: (c.spec.management_cluster != mgmt, c.folder))
        if not there:
            continue
        new = there[0]
        key = "managementCluster" if new.spec.management_cluster != mgmt else "namespace"
        out[title] = Removal(str(new.inventory.locate((key,), key=True)),
                             f"moves to {new.folder}: deleted here, created anew there")
    return out


def _renamed_in_place(title: str, file: str, fleet: Fleet) -> Removal | None:
    now = [c for c in fleet.clusters if c.inventory.file == file]
    if len(now) != 1:
        return None
    return Removal(str(now[0].inventory.locate(("name",), key=True)),
                   f"renamed to {now[0].folder} (name: in {file})")


def _old_name(text: bytes | None) -> str | None:
    try:
        data = load_fast(text.decode("utf-8")) if text is not None else None
    except (UnicodeDecodeError, YAMLError):  # an old file that does not parse names no cluster
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name is not None else None


def removal_causes(changes: list[Change], fleet: Fleet, root: Path, *,
                   old_fleet: Fleet | None = None, old_rev: str | None = None,
                   new_rev: str | None = None) -> dict[str, Removal]:
    """Per removed Cluster change (by its title), the cause found (see the module docstring)."""
    removed = _removed(changes)
    found = _moves(removed, changes, fleet)
    left = {t: k for t, k in removed.items() if t not in found}
    if old_fleet is not None:
        old_files = {c.key: c.inventory.file for c in old_fleet.clusters}
        for title, key in list(left.items()):
            file = old_files.get(key)
            hit = _renamed_in_place(title, file, fleet) if file else None
            if hit is not None:
                found[title] = hit
                del left[title]
    if left and old_rev is not None:
        try:
            found.update(_from_git(left, fleet, root, old_rev, new_rev))
        except (FleetError, OSError, ValueError):
            pass  # no git, no repository, an unknown revision: the inventories said what they can
    return found


def _from_git(left: dict[str, tuple[str, str, str]], fleet: Fleet, root: Path, old_rev: str,
              new_rev: str | None) -> dict[str, Removal]:
    top, prefix = repository(root)
    head = f"{prefix}/" if prefix else ""
    folder = f"{head}{CLUSTERS_DIR}"

    def rel(path: str) -> str:
        return path[len(head):] if head and path.startswith(head) else path

    entries = [(status, rel(old), rel(new)) for status, old, new in
               changed_files(top, old_rev, new_rev, folder) if old.endswith(".yaml")]
    gone = [e for e in entries if e[0] in "DR"]
    in_place = [e for e in entries if e[0] == "M"]
    texts = blobs_at(top, old_rev, [head + e[1] for e in gone + in_place])
    untracked = [rel(p) for p in untracked_files(top, folder)] if new_rev is None else []
    renders = {c.inventory.file: c for c in fleet.clusters}
    out: dict[str, Removal] = {}
    used: set[str] = set()

    def matches(entry: tuple[str, str, str], name: str) -> bool:
        stem = PurePosixPath(entry[1]).stem
        own = _old_name(texts.get(head + entry[1]))
        return own == name if own is not None else stem == name

    for title, (_mgmt, _namespace, name) in left.items():
        entry = next((e for e in gone + in_place if e[1] not in used and matches(e, name)), None)
        if entry is None:
            continue
        used.add(entry[1])
        status, old, new = entry
        if status == "M":
            hit = _renamed_in_place(title, old, fleet)
            if hit is not None:
                out[title] = hit
            continue
        how = "(git)"
        if status == "D":
            paired = _pair(texts.get(head + old), untracked, root, used)
            if paired is None:
                out[title] = Removal(f"{old} (deleted)", f"its inventory {old} was deleted")
                continue
            new, ratio = paired
            used.add(new)
            how = f"(not yet added to git; {round(100 * ratio)}% similar)"
        now = renders.get(new)
        out[title] = Removal(f"{new}:1:1", f"{old} was renamed to {new} {how}"
                             + (f", which renders {_title(now)}" if now else ""))
    return out


def _pair(old: bytes | None, untracked: list[str], root: Path, used: set[str]
          ) -> tuple[str, float] | None:
    """The untracked inventory file most like ``old`` (at least SIMILAR), and how alike."""
    if old is None:
        return None
    before = old.decode("utf-8", "replace")
    best: tuple[str, float] | None = None
    for path in untracked:
        if path in used or not path.endswith(".yaml"):
            continue
        try:
            after = (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        ratio = difflib.SequenceMatcher(None, before, after).ratio()
        if ratio >= SIMILAR and (best is None or ratio > best[1]):
            best = (path, ratio)
    return best
