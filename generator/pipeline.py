"""The Python API: the stages wired together, reading and writing files only at the two ends."""

from __future__ import annotations

import fnmatch
import json
import tempfile
from importlib.resources import files
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Callable

from generator.review.diff import Change, compare
from generator.cache.store import RenderCache, digest_files, tree_files
from generator.render.emit import emit, emit_kustomizations
from generator.review.git import export_fleet, files_at, repository, verify
from generator.ipam.plan import Live
from generator.review.risks import Risk, risks
from generator.load.settings import load_settings
from generator.check.fleet import Cluster, Fleet
from generator.check.checks import check_fleet
from generator.load.inventory import load_inventory
from generator.problems import FleetError, Location, Problem
from generator.overlay.core import Overlay, load_overlay, load_overlay_file, overlay_objects
from generator.paths import MANIFEST, OVERLAYS_DIR, RENDERED_DIR, TEMPLATES_DIR, cluster_overlay_file
from generator.render.parallel import build_parallel
from generator.render.core import (Built, ObjectIdentity, Output, RenderedFile, Renderer,
                              check_duplicate_objects, layout, object_identities, render_outputs,
                              view_of)
from generator.write.core import WritePlan, apply, plan_writes


def load_fleet(root: Path, *, relaxed: frozenset[str] = frozenset(),
               cache: RenderCache | None = None) -> Fleet:
    """Load, merge, validate and check the fleet under ``root``; raises FleetError."""
    problems: list[Problem] = []
    try:
        gitops = load_settings(root).gitops
    except FleetError as exc:
        problems, gitops = exc.problems, None
    try:
        inventory = load_inventory(root, cache)
        if cache is not None:
            cache.flush()
        fleet = check_fleet(inventory, relaxed=relaxed)
    except FleetError as exc:
        raise FleetError([*problems, *exc.problems]) from None
    if problems:
        raise FleetError(problems)
    return replace(fleet, gitops=gitops)


def matches(cluster: Cluster, pattern: str) -> bool:
    """``--select``: a cluster name, ``mgmt/namespace/name``, an inventory path (globs allowed)
    or ``label:KEY=VALUE`` (``label:KEY`` for any value)."""
    if pattern.startswith("label:"):
        key, _, value = pattern[len("label:"):].partition("=")
        labels = cluster.spec.labels
        return key in labels and (not value or fnmatch.fnmatchcase(labels[key], value))
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


Progress = Callable[[int, int], None]  # (done, total) outputs


def _groups(fleet: Fleet, outputs: list[Output]) -> list[list[Output]]:
    """Outputs that are rendered (and cached) together: all files of one cluster's folder, since
    its overlays patch them together; every other output alone."""
    folders = {c.folder for c in fleet.clusters}
    by_folder: dict[str, list[Output]] = {}
    alone: list[list[Output]] = []
    for output in outputs:
        folder = str(PurePosixPath(output.path).parent)
        if folder in folders:
            by_folder.setdefault(folder, []).append(output)
        else:
            alone.append([output])
    return [*by_folder.values(), *alone]


def _cache_key(cache: RenderCache, root: Path, group: list[Output], shared: str) -> str:
    sources = {id(s): s for o in group for _t, s in o.documents}
    views = [json.dumps(view_of(s), sort_keys=True, default=str) for s in sources.values()]
    local = [root / cluster_overlay_file(s.inventory.file) for s in sources.values()
             if isinstance(s, Cluster)]
    return cache.key(shared, digest_files(local), *(o.path for o in group), *views)


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
    if cache is None:
        todo = _groups(fleet, outputs)
    else:
        templates = [p for folder in (root / TEMPLATES_DIR, Path(str(files("generator.templates"))))
                     for p in tree_files(folder)]
        shared = digest_files(templates + tree_files(root / OVERLAYS_DIR))
        for group in _groups(fleet, outputs):
            key = _cache_key(cache, root, group, shared)
            hit = cache.get(key)
            if hit is not None and set(hit.files) == {o.path for o in group}:
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
    builder = GroupBuilder(root, fleet)
    for index, result in enumerate(build_parallel(builder, todo, jobs,
                                                  advance if progress else None)):
        if isinstance(result, FleetError):
            problems.extend(result.problems)
            continue
        wanted.update(result.files)
        objects.extend(result.objects)
        if cache is not None:
            cache.put(keys[index], result)
    if problems:
        raise FleetError(dict.fromkeys(problems))
    check_duplicate_objects(objects)
    if cache is not None:
        cache.flush()
    wanted.update(emit_kustomizations(object_paths))
    wanted = dict(sorted(wanted.items()))
    if selected is None:
        return wanted
    # A partial render updates the selected clusters' folders and the kustomizations above them
    # (which list the whole fleet); other clusters' folders are left as they are.
    folders = {PurePosixPath(o.path).parent for o in outputs}
    keep = folders | {parent for folder in folders for parent in folder.parents}
    return {path: data for path, data in wanted.items() if PurePosixPath(path).parent in keep}


class GroupBuilder:
    """Builds one render group (see ``_groups``) at a time into the bytes of its files: render
    its templates, apply its cluster's overlays (in inventory order, then the cluster's own
    ``<cluster>.overlay.yaml``), write the canonical YAML. Documents live only while their group
    is built, so memory holds bytes, not the parsed objects of the whole fleet."""

    def __init__(self, root: Path, fleet: Fleet) -> None:
        self.root = root
        self.renderer = Renderer(root)
        self.clusters = {c.folder: c for c in fleet.clusters}
        self._overlays: dict[str, Overlay | FleetError] = {}

    def _overlay(self, name: str, file: str | None = None) -> Overlay | FleetError:
        key = file or name
        if key not in self._overlays:
            try:
                self._overlays[key] = load_overlay_file(self.root, Path(file)) if file else \
                    load_overlay(self.root, name)
            except FleetError as exc:
                self._overlays[key] = exc
        return self._overlays[key]

    def _apply_overlays(self, cluster: Cluster, rendered: list[RenderedFile]
                        ) -> list[RenderedFile]:
        chosen = [self._overlay(name) for name in cluster.spec.overlays]
        local = cluster_overlay_file(cluster.inventory.file)
        if (self.root / local).is_file():
            chosen.append(self._overlay(local, local))
        failed = [problem for o in chosen if isinstance(o, FleetError) for problem in o.problems]
        if failed:
            raise FleetError(failed)
        indexes = [i for i, f in enumerate(rendered) if f.kubernetes]
        if not chosen or not indexes:
            return rendered
        docs = [doc for i in indexes for doc in rendered[i].documents]
        patched = overlay_objects(docs, [o for o in chosen if isinstance(o, Overlay)],
                                  f"cluster '{cluster.spec.name}'")
        out = list(rendered)
        for i in indexes:
            count = len(rendered[i].documents)
            out[i] = replace(rendered[i], documents=tuple(patched[:count]))
            patched = patched[count:]
        return out

    def build(self, group: list[Output]) -> Built:
        """The group's files and objects; raises FleetError with every problem found."""
        rendered = render_outputs(group, self.renderer)
        cluster = self.clusters.get(str(PurePosixPath(group[0].path).parent))
        if cluster is not None:
            rendered = self._apply_overlays(cluster, rendered)
        return Built(emit(rendered), object_identities(rendered))


RELAXED_FOR_REVIEW = frozenset({"pool-capacity", "pool-overlap"})


def rendered_tree(base: Path) -> dict[str, bytes]:
    """The files of a rendered/ folder on disk (fleetgen's own bookkeeping left out)."""
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file() and not p.name.startswith(".fleetgen")}


def _render_at(repo: Path, commit: str, prefix: str) -> tuple[Fleet, dict[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="fleetgen-") as tmp:
        root = Path(tmp)
        export_fleet(repo, commit, prefix, root)
        fleet = load_fleet(root, relaxed=RELAXED_FOR_REVIEW)
        return fleet, wanted_files(root, fleet)


@dataclass(frozen=True)
class Review:
    changes: list[Change]
    risks: list[Risk]
    fleet: Fleet
    compared: str  # what the new render was compared with, for the report


def review(root: Path, *, against: str | None = None, base: str | None = None,
           head: str | None = None, live: Live | None = None, jobs: int = 1,
           progress: Progress | None = None) -> Review:
    """What ``render`` would change in rendered/ (or, with ``base``/``head``, what two commits'
    inventories render to), with the risks of each change. Reads git without touching the
    index or the working tree."""
    root = root.resolve()
    if base is not None or head is not None:
        if base is None or head is None:
            raise FleetError([Problem(Location("."), "usage", "--base and --head go together")])
        repo, prefix = repository(root)
        _old_fleet, old_files = _render_at(repo, verify(repo, base), prefix)
        fleet, new_files = _render_at(repo, verify(repo, head), prefix)
        compared = f"{base}..{head}"
    else:
        cache = RenderCache()
        fleet = load_fleet(root, relaxed=RELAXED_FOR_REVIEW, cache=cache)
        new_files = wanted_files(root, fleet, jobs=jobs, progress=progress, cache=cache)
        if against is not None:
            repo, prefix = repository(root)
            old_files = files_at(repo, verify(repo, against),
                                 f"{prefix}/{RENDERED_DIR}" if prefix else RENDERED_DIR)
            old_files = {p: d for p, d in old_files.items() if not p.startswith(".fleetgen")}
            compared = f"rendered/ at {against}"
        else:
            old_files = rendered_tree(root / RENDERED_DIR)
            compared = "rendered/ in the working tree"
    changes = compare(old_files, new_files)
    return Review(changes, risks(changes, fleet, old_files, live), fleet, compared)


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
    scope = None if selected is None else {"/".join(key) for key in selected}
    plan = plan_writes(root / RENDERED_DIR, wanted, scope=scope, force=force)
    if plan.conflicts and not check:
        raise FleetError(plan.conflicts)
    tree = {**wanted, MANIFEST: plan.manifest_text}
    if check or not plan.stale:
        return RenderResult(plan, fleet, False, tree)
    apply(plan)
    return RenderResult(plan, fleet, True, tree)
