"""What ``fleetgen import tkg PATH`` imports: one flat config, or every flat config of a folder,
each with its pool file and the folder it goes to.

A folder holds flat configs (``*.yaml``, ``*.yml``) directly or one level down, in a sub-folder
per management cluster (``DIR/<management cluster>/<cluster>.yaml``); ``*-pool.yaml`` files beside
them (or every file of ``--pools DIR``) hold the node pools (InClusterIPPool /
GlobalInClusterIPPool objects), matched to a flat config by its NODE_IPAM_IP_POOL_NAME (and
NAMESPACE for an InClusterIPPool).

Where each goes: the first rule of ``--map MAP.yaml`` that matches it, else ``--to``. A map is a
list of rules; a rule's ``managementCluster`` matches the sub-folder a flat config is in, its
``namespace`` the flat config's NAMESPACE (``default`` when unset); a rule without either
matches everything::

    - {managementCluster: mgmt-a, namespace: prod, to: clusters/site-a/prod}
    - {namespace: dev, to: clusters/dev}
    - {to: clusters/imported}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.load.model import POOL_KINDS
from generator.problems import FleetError, Location, Problem
from generator.tkg.bulk import Item
from generator.yaml.load import Positions, load_positioned, load_positioned_all

RULE_KEYS = ("managementCluster", "namespace", "to")


@dataclass(frozen=True)
class Rule:
    management_cluster: str | None
    namespace: str | None
    to: Path
    at: Location


@dataclass(frozen=True)
class _Pool:
    file: Path
    name: str
    kind: str
    namespace: str


def collect(root: Path, source: Path, pool: Path | None, pools: Path | None, to: Path | None,
            mapping: Path | None) -> tuple[list[Item], list[Problem]]:
    """The items to import, and the problems found on the way (the items are imported anyway,
    so that one run reports every problem)."""
    root = root.resolve()
    problems: list[Problem] = []
    rules = _rules(root, mapping, problems) if mapping is not None else []
    mapping_problems = bool(problems)
    fallback = _absolute(root, to) if to is not None else (
        None if mapping is not None else root / "clusters")
    if source.is_dir():
        if pool is not None:
            problems.append(Problem(Location(str(pool)), "invalid-option",
                                    "--pool names the pool of one flat config",
                                    "with a folder, put <name>-pool.yaml files beside the flat "
                                    "configs, or pass --pools DIR"))
        flats, pool_files = _folder(source, mapping)
        problems += [Problem(Location(str(link)), "symlink", "links in the folder are not "
                             "followed", "copy the file into the folder")
                     for link in sorted([*source.glob("*.y*ml"), *source.glob("*/*.y*ml")])
                     if link.is_symlink() or link.parent.is_symlink()]
        if pools is not None:
            listed = sorted(p for p in pools.iterdir() if p.suffix in (".yaml", ".yml"))
            pool_files += [p for p in listed if p.is_file() and not p.is_symlink()]
            problems += [Problem(Location(str(p)), "symlink", "links in the folder are not "
                                 "followed", "copy the file into the folder")
                         for p in listed if p.is_symlink()]
        if not flats:
            problems.append(Problem(Location(str(source)), "no-clusters",
                                    f"{source} holds no flat cluster configs (*.yaml)"))
    else:
        flats, pool_files = [source], []
        if pools is not None and pool is None:  # the flat config's pool, found by its name
            pool_files = sorted(p for p in pools.iterdir() if p.suffix in (".yaml", ".yml")
                                and p.is_file() and not p.is_symlink())
    known = _pools(pool_files, problems)
    items = []
    for flat in flats:
        management = flat.parent.name if source.is_dir() and flat.parent != source else None
        values = _values(flat)
        namespace = str(values.get("NAMESPACE") or "default").strip() or "default"
        rule = next((r for r in rules if r.management_cluster in (None, management)
                     and r.namespace in (None, namespace)), None)
        folder = rule.to if rule is not None else fallback
        if folder is None:
            if mapping_problems:
                continue  # the map itself is wrong: that is the problem to report
            problems.append(Problem(Location(str(flat), 1, 1), "unmapped",
                                    f"no rule of {mapping} matches {flat} (management cluster "
                                    f"{management or 'unknown'}, namespace {namespace})",
                                    "add a rule for it, or pass --to for the rest"))
            continue
        items.append(Item(flat, pool if pool is not None else _pool_for(values, known),
                          folder, rule.management_cluster if rule else None,
                          rule.at if rule else None))
    return items, problems


def _absolute(root: Path, path: Path) -> Path:
    return path if path.is_absolute() else root / path


def _folder(source: Path, mapping: Path | None) -> tuple[list[Path], list[Path]]:
    found = sorted([*source.glob("*.y*ml"), *source.glob("*/*.y*ml")])
    found = [p for p in found if p.suffix in (".yaml", ".yml") and p.is_file()
             and not p.name.startswith(".") and not p.is_symlink()
             and not p.parent.is_symlink()
             and (mapping is None or p.resolve() != mapping.resolve())]
    pools = [p for p in found if p.stem.endswith("-pool")]
    return [p for p in found if p not in pools], pools


def _values(flat: Path) -> dict[str, Any]:
    """The flat config's values, or nothing when it does not read (the import reports why)."""
    try:
        doc, _ = load_positioned(flat.read_text(encoding="utf-8"), str(flat))
    except (OSError, UnicodeDecodeError, FleetError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _pools(files: list[Path], problems: list[Problem]) -> list[_Pool]:
    out = []
    for file in files:
        try:
            docs = load_positioned_all(file.read_text(encoding="utf-8"), str(file))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(Location(str(file)), "unreadable",
                                    f"cannot read {file}: {exc}"))
            continue
        except FleetError as exc:
            problems += exc.problems
            continue
        for doc, _ in docs:
            if isinstance(doc, dict) and doc.get("kind") in POOL_KINDS:
                found = doc.get("metadata")
                meta: dict[str, Any] = found if isinstance(found, dict) else {}
                out.append(_Pool(file, str(meta.get("name")), str(doc["kind"]),
                                 str(meta.get("namespace") or "default")))
    return out


def _pool_for(values: dict[str, Any], known: list[_Pool]) -> Path | None:
    """The pool file declaring the flat config's pool: for an InClusterIPPool, the one in the
    cluster's namespace."""
    name = str(values.get("NODE_IPAM_IP_POOL_NAME") or "").strip()
    if not name:
        return None
    namespace = str(values.get("NAMESPACE") or "default").strip() or "default"
    named = [p for p in known if p.name == name]
    fit = [p for p in named if p.kind != "InClusterIPPool" or p.namespace == namespace]
    chosen = fit or named
    return chosen[0].file if chosen else None


def _rules(root: Path, mapping: Path, problems: list[Problem]) -> list[Rule]:
    label = str(mapping)
    try:
        doc, positions = load_positioned(mapping.read_text(encoding="utf-8"), label)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(Location(label), "unreadable", f"cannot read {label}: {exc}"))
        return []
    except FleetError as exc:
        problems += exc.problems
        return []
    if not isinstance(doc, list):
        problems.append(Problem(Location(label, 1, 1), "invalid-map",
                                "a map is a list of rules such as "
                                "'- {namespace: prod, to: clusters/prod}'"))
        return []
    rules = []
    for index, rule in enumerate(doc):
        found = _rule(root, rule, index, positions, label)
        if isinstance(found, Rule):
            rules.append(found)
        else:
            problems += found
    return rules


def _rule(root: Path, rule: Any, index: int, positions: Positions, label: str
          ) -> Rule | list[Problem]:
    at = positions.values.get((index,), Location(label, 1, 1))
    if not isinstance(rule, dict):
        return [Problem(at, "invalid-map", "a rule is a mapping with 'to' and optionally "
                        "'managementCluster' and 'namespace'")]
    out = []
    for key in rule:
        if key not in RULE_KEYS:
            out.append(Problem(positions.keys.get((index, key), at), "invalid-map",
                               f"unknown key '{key}' in a rule",
                               f"use {', '.join(RULE_KEYS)}"))
    for key, value in rule.items():
        if key in RULE_KEYS and (not isinstance(value, str) or not value.strip()):
            out.append(Problem(positions.values.get((index, key), at), "invalid-map",
                               f"'{key}' must be a name or a folder, not {value!r}"))
    if "to" not in rule:
        out.append(Problem(at, "invalid-map", "the rule has no 'to' (the clusters/ folder its "
                           "flat configs go to)"))
    if out:
        return out
    return Rule(rule.get("managementCluster"), rule.get("namespace"),
                _absolute(root, Path(rule["to"])), at)
