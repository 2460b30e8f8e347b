"""Importing flat configs into the fleet, one or many in one run, all or nothing.

``plan_imports`` imports every item (generator/tkg/importer.py, each on its own), then:

- pools: a pool declared by more than one cluster file (clusters of this run, or a cluster file
  already in the fleet, with the same meaning: generator/tkg/pool.py ``same_pool``) is declared
  once, in the ``_defaults.yaml`` of the deepest folder above all of them, and taken out of each
  cluster file; each cluster keeps only its ``network.nodes.ipPool`` reference (a pool declared
  in two cluster files is a ``pool-conflict``, generator/check/pools.py);
- the fleet checks: the fleet with every file the run writes or changes is checked like
  ``fleetgen validate`` checks it (generator/tkg/fleet.py), the new clusters against each other
  and against the fleet (duplicate endpoints, pools, names …).

Every problem of every item is collected; on any error nothing is written (FleetError, exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.load.inventory import InventoryLoader, discover, merge_layers
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE, Unsafe, read_input
from generator.problems import FleetError, Location, Problem, has_errors, refused
from generator.tkg.declare import add_pool, remove_pool
from generator.tkg.fleet import NewCluster, check_pending
from generator.tkg.importer import Imported, import_tkg
from generator.tkg.pool import same_pool
from generator.yaml.fast import load_fast


@dataclass(frozen=True)
class Item:
    """One flat config to import: its pool file (if any) and the folder it goes to."""

    flat: Path
    pool: Path | None
    to: Path  # absolute
    # the --map rule that chose ``to`` by management cluster: the folder must give that one
    management_cluster: str | None = None
    rule: Location | None = None


@dataclass
class Plan:
    writes: dict[Path, str] = field(default_factory=dict)  # absolute path → new text
    imported: list[Imported] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # pools moved to a _defaults.yaml
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class _Declarer:
    path: Path  # the cluster file declaring the pool
    entry: Any
    management_cluster: str
    new: bool


def plan_imports(root: Path, items: list[Item], found: list[Problem] | None = None) -> Plan:
    """What the run writes; raises FleetError with every problem of every item (and ``found``,
    the problems met finding the items)."""
    root = root.resolve()
    problems: list[Problem] = list(found or [])
    plan = Plan()
    targets: dict[Path, Item] = {}
    for item in items:
        try:
            result = import_tkg(root, item.flat, item.pool, item.to)
        except FleetError as exc:
            problems += exc.problems
            continue
        if result.path.resolve() in targets:
            first = targets[result.path.resolve()]
            problems.append(Problem(Location(str(item.flat), 1, 1), "duplicate-cluster",
                                    f"{item.flat} and {first.flat} both import cluster "
                                    f"'{result.path.stem}' into {_rel(root, result.path)}",
                                    "import one of them into another folder, or rename it"))
            continue
        if item.management_cluster not in (None, result.management_cluster):
            problems.append(Problem(
                item.rule or Location(str(item.flat), 1, 1), "management-mismatch",
                f"{item.flat} was exported from management cluster '{item.management_cluster}', "
                f"but {_rel(root, item.to)} belongs to '{result.management_cluster}'",
                "map it to a folder whose _defaults.yaml names that management cluster"))
            continue
        targets[result.path.resolve()] = item
        plan.imported.append(result)
    # The items that imported are checked together even when others did not, so one run
    # reports every problem: the failed items' own, and the fleet's with the rest.
    texts = {r.path.resolve(): r.text for r in plan.imported}
    shared = _share_pools(root, plan, texts)
    problems += shared
    if plan.imported and not has_errors(shared):
        new = [NewCluster(r.path.resolve(), texts[r.path.resolve()], r.origins)
               for r in plan.imported]
        pending = {p: t for p, t in texts.items() if p not in {c.path for c in new}}
        problems += check_pending(root, pending, new)
    plan.writes = texts
    # The fleet check's warnings about this run's clusters and files (the rest of the fleet's
    # are `fleetgen validate`'s to report), each once.
    ours = {str(item.flat) for item in items} | {str(item.pool) for item in items if item.pool}
    ours |= {_rel(root, path) for path in texts}
    plan.warnings = [p for r in plan.imported for p in r.reported]
    plan.warnings += [p for p in problems if p.severity == "warning" and p not in plan.warnings
                      and (p.location.path in ours or p in (found or []))]
    if has_errors(problems):
        raise FleetError(problems)
    return plan


def _rel(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root).as_posix()


def _share_pools(root: Path, plan: Plan, texts: dict[Path, str]) -> list[Problem]:
    """Declare each shared pool once (see the module docstring); ``texts`` gets the changes."""
    problems: list[Problem] = []
    groups: dict[str, list[_Declarer]] = {}
    for result in plan.imported:
        pools = (load_fast(result.text) or {}).get("ipPools") or {}
        for name, entry in pools.items():
            groups.setdefault(str(name), []).append(
                _Declarer(result.path.resolve(), entry, result.management_cluster, True))
    if not groups:
        return problems
    loader = InventoryLoader(root)
    files, _ = discover(root)
    for file in files:
        if file.resolve() in texts:
            continue
        pools = (loader.data(file) or {}).get("ipPools")
        if not isinstance(pools, dict) or not set(pools) & set(groups):
            continue
        merged = merge_layers((d, {}) for p in [*loader.defaults_chain(file), file]
                              if (d := loader.data(p)) is not None)[0]
        for name in set(pools) & set(groups):
            groups[name].append(_Declarer(file.resolve(), pools[name],
                                          str(merged.get("managementCluster") or ""), False))
    for name, declarers in sorted(groups.items()):
        if len(declarers) < 2:
            continue
        first = declarers[0]
        same = [d for d in declarers if same_pool(d.entry, first.entry)
                and d.management_cluster == first.management_cluster]
        if len(same) < 2:
            continue  # different pools of one name: the fleet check says where
        problems += _move(root, plan, texts, name, same)
    return problems


def _move(root: Path, plan: Plan, texts: dict[Path, str], name: str,
          declarers: list[_Declarer]) -> list[Problem]:
    base = (root / CLUSTERS_DIR).resolve()
    common = Path(*_common([d.path.parent.parts for d in declarers]))
    if not common.is_relative_to(base):
        common = base
    defaults = common / DEFAULTS_FILE
    where = Location(_rel(root, defaults))
    try:
        current = texts.get(defaults) or _read(root, defaults)
        olds = {d.path: texts.get(d.path) or _read(root, d.path) or "" for d in declarers}
    except Unsafe as exc:
        return [refused(exc)]
    entry = next((d.entry for d in declarers if not d.new), declarers[0].entry)
    added = add_pool(current, name, entry)
    hint = (f"declare pool '{name}' once in {_rel(root, defaults)} (ipPools:) and remove it "
            "from the cluster files")
    if added is None:
        return [Problem(where, "pool-shared", f"pool '{name}' is shared, but cannot be added to "
                        f"{_rel(root, defaults)} as it is written", hint)]
    changed = {defaults: added}
    for d in declarers:
        removed = remove_pool(olds[d.path], name)
        if removed is None:
            return [Problem(Location(_rel(root, d.path)), "pool-shared",
                            f"pool '{name}' is shared, but its declaration cannot be taken "
                            f"out of {_rel(root, d.path)} as it is written", hint)]
        changed[d.path] = removed
    texts.update(changed)
    users = ", ".join(_rel(root, d.path) for d in declarers)
    plan.notes.append(f"declared pool '{name}' in {_rel(root, defaults)}: shared by {users}")
    return []


def _read(root: Path, path: Path) -> str | None:
    """A fleet file's text, never through a link (generator/paths.py read_input)."""
    raw = read_input(root, _rel(root, path))
    return None if raw is None else raw.decode("utf-8", "replace")


def _common(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for column in zip(*parts):
        if len(set(column)) != 1:
            break
        out.append(column[0])
    return tuple(out)
