"""The Python API: the stages wired together, reading and writing files only at the two ends."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.emit import emit
from generator.fleet import Cluster, Fleet
from generator.fleetchecks import check_fleet
from generator.inventory import load_inventory
from generator.problems import FleetError, Location, Problem
from generator.render import layout, render_outputs
from generator.write import RENDERED_DIR, WritePlan, apply, plan_writes


def load_fleet(root: Path, *, allow_short_pools: bool = False) -> Fleet:
    """Load, merge, validate and check the fleet under ``root``; raises FleetError."""
    return check_fleet(load_inventory(root), allow_short_pools=allow_short_pools)


def matches(cluster: Cluster, pattern: str) -> bool:
    """``--select``: a cluster name, ``mgmt/namespace/name`` or an inventory path, globs allowed."""
    return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in (
        cluster.spec.name, cluster.folder, cluster.inventory.file,
        cluster.inventory.file.removeprefix("clusters/")))


def select(fleet: Fleet, patterns: list[str]) -> set[tuple[str, str, str]] | None:
    if not patterns:
        return None
    chosen = {c.key for c in fleet.clusters if any(matches(c, p) for p in patterns)}
    if not chosen:
        raise FleetError([Problem(Location("clusters"), "no-match",
                                  f"--select {' '.join(patterns)} matches no cluster",
                                  "select by cluster name, mgmt/namespace/name or file path")])
    return chosen


def wanted_files(root: Path, fleet: Fleet, selected: set[tuple[str, str, str]] | None = None
                 ) -> dict[str, bytes]:
    """The bytes of every file render would produce below ``rendered/``."""
    outputs = layout(fleet)
    object_paths = [o.path for o in outputs if o.kubernetes]
    if selected is None:
        return emit(render_outputs(outputs, root), object_paths)
    outputs = [o for o in outputs if o.clusters & selected]
    # A partial render updates the selected clusters' folders and the kustomizations above them
    # (which list the whole fleet); other clusters' folders are left as they are.
    folders = {PurePosixPath(o.path).parent for o in outputs}
    keep = folders | {parent for folder in folders for parent in folder.parents}
    wanted = emit(render_outputs(outputs, root), object_paths)
    return {path: data for path, data in wanted.items() if PurePosixPath(path).parent in keep}


@dataclass(frozen=True)
class RenderResult:
    plan: WritePlan
    fleet: Fleet
    written: bool


def render(root: Path, *, check: bool = False, force: bool = False,
           patterns: list[str] | None = None) -> RenderResult:
    """Render the fleet into ``root/rendered``. Nothing is written unless every stage succeeded
    for every cluster and no generated file was edited by hand (or ``force``)."""
    root = root.resolve()
    fleet = load_fleet(root)
    selected = select(fleet, patterns or [])
    wanted = wanted_files(root, fleet, selected)
    scope = None if selected is None else {"/".join(key) for key in selected}
    plan = plan_writes(root / RENDERED_DIR, wanted, scope=scope, force=force)
    if plan.conflicts and not check:
        raise FleetError(plan.conflicts)
    if check or not plan.stale:
        return RenderResult(plan, fleet, False)
    apply(plan)
    return RenderResult(plan, fleet, True)
