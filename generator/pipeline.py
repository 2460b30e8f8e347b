"""The Python API: the stages wired together, reading and writing files only at the two ends."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Callable

from generator.cache.store import RenderCache, entry_digest
from generator.check.known import CheckedClusters
from generator.check.run import check_fleet
from generator.check.fleet import Fleet
from generator.check.select import select
from generator.ipam.plan import Live, combine
from generator.load.inventory import read_inventory
from generator.load.settings import FleetSettings, load_settings
from generator.paths import MANIFEST, RENDERED_DIR
from generator.problems import FleetError, Location, Problem
from generator.render.build import (GroupBuilder, GroupCache, ObjectIdentity,
                                    check_duplicate_objects, groups)
from generator.render.emit import emit_kustomizations, kustomization_paths
from generator.render.credentials import with_credentials
from generator.render.layout import Output, layout
from generator.render.parallel import build_parallel
from generator.review.diff import Change, compare, compare_items
from generator.review.history import Removal, removal_causes
from generator.review.git import export_fleet, repository, tree_at, verify, worktree_files
from generator.review.live import live_view
from generator.review.result import Review
from generator.review.risks import risks
from generator.write.apply import apply
from generator.write.plan import WritePlan, plan_writes, read_rendered, rendered_listing


def load_fleet(root: Path, *, relaxed: frozenset[str] = frozenset(),
               cache: RenderCache | None = None) -> Fleet:
    """Load, merge, validate and check the fleet under ``root``; raises FleetError."""
    problems: list[Problem] = []
    try:
        settings = load_settings(root)
    except FleetError as exc:
        problems, settings = exc.problems, FleetSettings()
    # Every stage runs on what the stage before could read: one run reports every problem.
    checked = CheckedClusters(cache)
    inventory, found, unread = read_inventory(root, cache, checked.known)
    try:
        fleet = check_fleet(inventory, relaxed=relaxed, earlier=[*problems, *found],
                            unread=unread, checked=checked)
    finally:
        if cache is not None:
            cache.flush()
    fleet = with_credentials(fleet, settings.credentials.vsphere)  # issue 15, helper C
    return replace(fleet, gitops=settings.gitops, limits=settings.limits)


Progress = Callable[[int, int], None]  # (done, total) outputs


def wanted_files(root: Path, fleet: Fleet, selected: set[tuple[str, str, str]] | None = None,
                 *, jobs: int = 1, progress: Progress | None = None,
                 cache: RenderCache | None = None) -> dict[str, bytes]:
    """The bytes of every file render would produce below ``rendered/``; with a ``cache``,
    groups whose inputs are unchanged are taken from it instead of being rendered again."""
    outputs = layout(fleet)
    object_paths = [o.path for o in outputs if o.kubernetes]
    if selected is not None:
        outputs = [o for o in outputs if o.clusters & selected]
    wanted: dict[str, bytes] = {}
    objects: list[ObjectIdentity] = []
    todo: list[list[Output]] = []
    keys: list[str] = []
    stored = None if cache is None else GroupCache(cache, root, fleet.limits)
    if stored is None:
        todo = groups(outputs)
    else:
        every = groups(outputs)
        for group, key in zip(every, stored.prefetch(every)):
            hit = stored.get(key, group)
            if hit is not None:
                wanted.update(hit.files)
                objects.extend(hit.objects)
            else:
                todo.append(group)
                keys.append(key)
    done = len(outputs) - sum(len(group) for group in todo)

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, len(outputs))

    problems: list[Problem] = []
    builder = GroupBuilder(root, fleet.limits)
    for index, result in enumerate(build_parallel(builder, todo, jobs,
                                                  advance if progress else None)):
        if isinstance(result, FleetError):
            problems.extend(result.problems)
            continue
        wanted.update(result.files)
        objects.extend(result.objects)
        if stored is not None:
            stored.put(keys[index], result)
    if problems:
        raise FleetError(dict.fromkeys(problems))
    check_duplicate_objects(objects)
    wanted.update(_kustomizations(object_paths, cache))
    if cache is not None:
        cache.flush()
    wanted = dict(sorted(wanted.items()))
    if selected is None:
        return wanted
    # A partial render updates the selected clusters' folders and the kustomizations above them
    # (which list the whole fleet); other clusters' folders are left as they are.
    folders = {PurePosixPath(o.path).parent for o in outputs}
    keep = folders | {parent for folder in folders for parent in folder.parents}
    return {path: data for path, data in wanted.items() if PurePosixPath(path).parent in keep}


def _kustomizations(object_paths: list[str], cache: RenderCache | None) -> dict[str, bytes]:
    """The kustomizations over every object file: a function of those paths alone, so kept in
    the cache under them (writing one per folder of a large fleet costs more than the lookup).
    An entry is used only when it holds text for exactly the expected files and its digest
    matches (a damaged entry is a miss, never output)."""
    if cache is None:
        return emit_kustomizations(object_paths)
    key = RenderCache.key("kustomizations", *object_paths)
    expected = set(kustomization_paths(object_paths))
    try:
        kept = json.loads(cache.read(key) or "")
        texts = kept["files"]
        if set(texts) == expected and kept["digest"] == entry_digest(texts):
            return {str(p): str(t).encode("utf-8") for p, t in texts.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    made = emit_kustomizations(object_paths)
    texts = {p: b.decode("utf-8") for p, b in made.items()}
    cache.write(key, json.dumps({"files": texts, "digest": entry_digest(texts)}))
    return made


RELAXED_FOR_REVIEW = frozenset({"pool-capacity", "pool-overlap"})


def _render_at(repo: Path, commit: str, prefix: str, root: Path) -> tuple[Fleet, dict[str, bytes]]:
    """The fleet at ``commit`` exported into ``root`` (a fresh temporary folder), rendered."""
    export_fleet(repo, commit, prefix, root)
    fleet = load_fleet(root, relaxed=RELAXED_FOR_REVIEW)
    return fleet, wanted_files(root, fleet)


def _rendered_clusters(files: Mapping[str, bytes]) -> list[tuple[str, str, str]]:
    """(management cluster, namespace, name) of every cluster folder of a rendered/ tree."""
    return [(parts[0], parts[1], parts[2]) for parts in (p.split("/") for p in files)
            if len(parts) == 4 and parts[3] == "cluster.yaml"]


def review(root: Path, *, against: str | None = None, base: str | None = None,
           head: str | None = None, live: Live | list[Live] | None = None, jobs: int = 1,
           progress: Progress | None = None) -> Review:
    """What ``render`` would change in rendered/ (or, with ``base``/``head``, what two commits'
    inventories render to), with the risks of each change. Reads git without touching the
    index or the working tree."""
    root = root.resolve()
    if base is not None or head is not None:
        if base is None or head is None:
            raise FleetError([Problem(Location("."), "usage", "--base and --head go together")])
        repo, prefix = repository(root)
        commits = verify(repo, base), verify(repo, head)
        with tempfile.TemporaryDirectory(prefix="fleetgen-") as old_tmp, \
                tempfile.TemporaryDirectory(prefix="fleetgen-") as new_tmp:
            old_fleet, old_tree = _render_at(repo, commits[0], prefix, Path(old_tmp))
            fleet, new_files = _render_at(repo, commits[1], prefix, Path(new_tmp))
            # the head export lives until the risks are found, so they can name its overlays
            return _review(old_tree, new_files, fleet, f"{base}..{head}", live, Path(new_tmp),
                           _History(root, old_fleet, commits[0], commits[1]))
    cache = RenderCache()
    fleet = load_fleet(root, relaxed=RELAXED_FOR_REVIEW, cache=cache)
    new_files = wanted_files(root, fleet, jobs=jobs, progress=progress, cache=cache)
    if against is not None:
        repo, prefix = repository(root)
        # Read from git only where it changed (review.tree): blob ids tell the rest.
        old_files: Mapping[str, bytes] = tree_at(
            repo, verify(repo, against), f"{prefix}/{RENDERED_DIR}" if prefix else RENDERED_DIR,
            keep=lambda path: not path.startswith(".fleetgen"))
        compared = f"rendered/ at {against}"
    else:
        listed = rendered_listing(root / RENDERED_DIR)
        known = worktree_files(root / RENDERED_DIR, listed) if listed else None
        old_files = known if known is not None else read_rendered(root / RENDERED_DIR)
        compared = "rendered/ in the working tree"
    return _review(old_files, new_files, fleet, compared, live, root,
                   _History(root, None, against or "HEAD", None))


@dataclass(frozen=True)
class _History:
    """Where a removed Cluster's inventory went: read from the fleet at ``root`` and git."""

    root: Path
    old_fleet: Fleet | None
    old_rev: str | None
    new_rev: str | None  # None: the working tree

    def removals(self, changes: list[Change], fleet: Fleet) -> dict[str, Removal]:
        if not any(c.object_kind == "Cluster" and c.kind == "removed" for c in changes):
            return {}
        return removal_causes(changes, fleet, self.root, old_fleet=self.old_fleet,
                              old_rev=self.old_rev, new_rev=self.new_rev)


def _review(old_files: Mapping[str, bytes], new_files: dict[str, bytes], fleet: Fleet,
            compared: str, live: Live | list[Live] | None, root: Path,
            history: _History) -> Review:
    if isinstance(live, list):  # one export per management cluster, each recognised
        live = combine(fleet, live, _rendered_clusters(old_files)) if live else None
    exports = {m: e for m, e in (live.parts if live is not None else {}).items() if e.objects}
    view = live_view(old_files, new_files, exports) if exports else None
    if view is None:
        changes = compare(old_files, new_files)
    else:  # diff --live: the live objects stand in for rendered/ where the exports hold them
        changes = compare_items(view.old, view.new, view.live, view.removes)
        compared += f", and the live objects of {', '.join(sorted(exports))}"
    found = risks(changes, fleet, old_files, live, root=root,
                  removals=history.removals(changes, fleet))
    if view is None:
        return Review(changes, found, fleet, compared)
    return Review(changes, found, fleet, compared, tuple(view.unmanaged), tuple(view.effects),
                  tuple(view.warnings))


@dataclass(frozen=True)
class RenderResult:
    plan: WritePlan
    fleet: Fleet
    written: bool
    tree: dict[str, bytes]  # every file rendered/ holds when the run succeeded (see stamp.py)


def render(root: Path, *, check: bool = False, force: bool = False,
           patterns: list[str] | None = None, jobs: int = 1,
           progress: Progress | None = None, use_cache: bool = True) -> RenderResult:
    """Render the fleet into ``root/rendered``. Nothing is written unless every stage succeeded
    for every cluster and no generated file was edited by hand (or ``force``)."""
    root = root.resolve()
    cache = RenderCache() if use_cache else None
    fleet = load_fleet(root, cache=cache)
    selected = select(fleet, patterns or [])
    wanted = wanted_files(root, fleet, selected, jobs=jobs, progress=progress,
                          cache=cache)
    scope = None if selected is None else {c.folder for c in fleet.clusters if c.key in selected}
    plan = plan_writes(root / RENDERED_DIR, wanted, scope=scope, force=force)
    if plan.conflicts and not check:
        raise FleetError(plan.conflicts)
    tree = {**wanted, MANIFEST: plan.manifest_text}
    if check or not plan.stale:
        return RenderResult(plan, fleet, False, tree)
    plan = apply(plan)  # planned again under the lock; each file verified before it changes
    return RenderResult(plan, fleet, plan.stale, {**wanted, MANIFEST: plan.manifest_text})
