"""The layout of a fleet repository: where fleetgen reads each input and writes each output,
and the one walker that lists a folder of it.

Every stage takes these names from here, so a folder is named in one place. Standard library
only: the stamp check (``generator.cache.stamp``) reads it before anything heavy is imported.
"""

from __future__ import annotations

import os
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

INPUT_FOLDERS = (CLUSTERS_DIR, OVERLAYS_DIR, TEMPLATES_DIR)  # everything a render reads ...
INPUT_FILES = (SETTINGS_FILE,)  # ... with these files


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
