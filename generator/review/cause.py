"""Where a risk's new value came from: the overlay patch that set it, else the inventory line
(a cluster file or a ``_defaults.yaml``) that holds it.

An overlay applies after the templates, so a strategic-merge patch of the cluster's overlays
(components first, then patches in order, then the cluster's own ``<name>.overlay.yaml``) that
writes the new value at the rule's path is the cause; the last such patch wins. Otherwise the
inventory value equal to the new value is: inside the rule's inventory key first, then one
whose path names the rule's variable, then any text value; else the rule's inventory key.
JSON 6902 patches address list items by index and are not searched (the inventory or the
rule's key is named instead).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from generator.check.fleet import Cluster, Fleet
from generator.overlay.load import Overlay, Patch, load_overlay, load_overlay_file
from generator.paths import cluster_overlay_file
from generator.problems import FleetError
from generator.review.classes import Rule
from generator.review.diff import FieldChange, by_name


def scalars(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar below ``value`` with its path."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from scalars(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from scalars(child, (*path, index))
    elif value is not None:
        yield path, value


def _text(prefix: str, sub: tuple[Any, ...]) -> str:
    out = prefix
    for part in sub:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("["):
            out += str(part)
        else:
            out += f".{part}" if out else str(part)
    return out


def new_values(pattern: re.Pattern[str], fields: list[FieldChange]) -> set[str]:
    """The new scalar values the change puts under a rule's path."""
    out: set[str] = set()
    for field in fields:
        for sub, value in scalars(field.new):
            path = _text(field.path, sub)
            if pattern.match(path) and not path.endswith(".replicas"):
                out.add(str(value))
    return out


def _patches(overlay: Overlay) -> Iterator[Patch]:
    for component in overlay.components:
        yield from _patches(component)
    yield from overlay.patches


class Provenance:
    """What produced the new render of a fleet (``root``, with its validated ``fleet``): asked
    once per review, per changed cluster."""

    def __init__(self, fleet: Fleet, root: Path) -> None:
        self.fleet = fleet
        self.root = root

    def overlays(self, cluster: Cluster) -> list[Overlay]:
        out: list[Overlay] = []
        try:
            out += [load_overlay(self.root, name) for name in cluster.spec.overlays]
            local = cluster_overlay_file(cluster.inventory.file)
            if (self.root / local).is_file():
                out.append(load_overlay_file(self.root, Path(local)))
        except FleetError:
            return []  # the render reported it; the inventory is named instead
        return out


def overlay_causes(cluster: Cluster, provenance: Provenance, pattern: re.Pattern[str],
                   wanted: set[str]) -> dict[str, str]:
    """Per wanted value, the last strategic-merge patch of the cluster's overlays that writes it
    at a path the rule covers."""
    found: dict[str, str] = {}
    for overlay in provenance.overlays(cluster):
        for patch in _patches(overlay):
            if patch.json6902:
                continue
            for doc in patch.documents:
                if not (isinstance(doc, dict) and doc.get("kind") == "Cluster"):
                    continue
                for sub, value in scalars(by_name(doc)):
                    if str(value) in wanted and pattern.match(_text("", sub)):
                        found[str(value)] = str(patch.location)
    return found


def inventory_cause(cluster: Cluster, rule: Rule, wanted: set[str]) -> str:
    variable = rule.path.rsplit("[", 1)[-1].rstrip("]") if rule.path.endswith("]") else ""
    best: tuple[int, tuple[Any, ...]] | None = None
    for path, value in scalars(cluster.inventory.data):
        if str(value) not in wanted:
            continue
        if rule.key and path[:len(rule.key)] == rule.key:
            score = 3
        elif variable and variable in path:
            score = 2
        elif isinstance(value, str) and len(value) > 2:
            score = 1
        else:
            continue
        if best is None or score > best[0]:
            best = (score, path)
    if best is None:
        return str(cluster.inventory.locate(rule.key))
    path = best[1][:-1] if isinstance(best[1][-1], int) else best[1]  # a list: where it is set
    return str(cluster.inventory.locate(path))


def causes(cluster: Cluster | None, rule: Rule, pattern: re.Pattern[str],
           fields: list[FieldChange], fallback: str, provenance: Provenance | None
           ) -> list[str]:
    """The file:lines that produced the rule's new values (see the module docstring): each
    overlay patch that wrote some, and the inventory line of the rest."""
    if cluster is None:
        return [f"rendered/{fallback}"]
    wanted = new_values(pattern, fields)
    by_overlay = overlay_causes(cluster, provenance, pattern, wanted) \
        if provenance and wanted else {}
    rest = wanted - set(by_overlay)
    out = sorted(set(by_overlay.values()))
    if rest or not out:
        out.append(inventory_cause(cluster, rule, rest))
    return out
