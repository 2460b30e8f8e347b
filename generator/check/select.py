"""``--select``: which clusters of a loaded fleet a command works on."""

from __future__ import annotations

import fnmatch

from generator.check.fleet import Cluster, Fleet
from generator.problems import FleetError, Location, Problem


def matches(cluster: Cluster, pattern: str) -> bool:
    """A cluster name, ``mgmt/namespace/name``, an inventory path (globs allowed) or
    ``label:KEY=VALUE`` (``label:KEY`` for any value)."""
    if pattern.startswith("label:"):
        key, _, value = pattern[len("label:"):].partition("=")
        labels = cluster.spec.labels
        return key in labels and (not value or fnmatch.fnmatchcase(labels[key], value))
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in (
        cluster.spec.name, cluster.folder, cluster.inventory.file,
        cluster.inventory.file.removeprefix("clusters/")))


def select(fleet: Fleet, patterns: list[str]) -> set[tuple[str, str, str]] | None:
    """The keys of the clusters ``patterns`` choose; None (every cluster) without patterns."""
    if not patterns:
        return None
    chosen = {c.key for c in fleet.clusters if any(matches(c, p) for p in patterns)}
    if not chosen:
        raise FleetError([Problem(Location("clusters"), "no-match",
                                  f"--select {' '.join(patterns)} matches no cluster",
                                  "select by cluster name, mgmt/namespace/name or file path")])
    return chosen
