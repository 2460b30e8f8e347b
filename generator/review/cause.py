"""Where a risk's new value came from: the overlay patch that set it, else the inventory line
(a cluster file or a ``_defaults.yaml``) that holds it.

An overlay applies after the templates, so a strategic-merge patch of the cluster's overlays
(components first, then patches in order, then the cluster's own ``<name>.overlay.yaml``) that
writes the new value at the rule's path is the cause; the last such patch wins. Otherwise the
inventory value equal to the new value is: inside the rule's inventory key first, then one
whose path names the rule's variable, then any text value; else the rule's inventory key.
A JSON 6902 patch's ``add``/``replace`` operations are searched too: a list index in their
pointer is named by the item it points at in the Cluster as rendered (so a later patch that
reorders the list can mislead it), an added item by its own ``name``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from generator.check.fleet import Cluster, Fleet
from generator.overlay.load import Overlay, Patch
from generator.render.final import cluster_overlays
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
        try:
            return cluster_overlays(self.root, cluster)
        except FleetError:
            return []  # the render reported it; the inventory is named instead


def _op_values(op: Any, new_doc: Any) -> Iterator[tuple[str, Any]]:
    """The scalars a JSON 6902 ``add``/``replace`` writes, each with its path in the by-name form
    the rules read. A list index is named by the item it points at in ``new_doc`` (the Cluster
    as rendered); an added item (``-`` or an index at the end of the pointer) by its own
    ``name``. A pointer that cannot be named (an index past the list, no name) yields nothing."""
    if not isinstance(op, dict) or op.get("op") not in ("add", "replace") or "value" not in op:
        return
    parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
    prefix, node, value = "", new_doc, op["value"]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, list):
            if last and isinstance(value, dict) and "name" in value:
                prefix += f"[{value['name']}]"
                value = {k: v for k, v in value.items() if k != "name"}
                break
            item = node[int(part)] if part.isdigit() and int(part) < len(node) else None
            if not (isinstance(item, dict) and "name" in item):
                return
            prefix += f"[{item['name']}]"
            node = item
        else:
            prefix = f"{prefix}.{part}" if prefix else part
            node = node.get(part) if isinstance(node, dict) else None
    for sub, scalar in scalars(by_name(value)):
        yield _text(prefix, sub), scalar


def overlay_causes(cluster: Cluster, provenance: Provenance, pattern: re.Pattern[str],
                   wanted: set[str], new_doc: Any = None) -> dict[str, str]:
    """Per wanted value, the last patch of the cluster's overlays that writes it at a path the
    rule covers: a strategic-merge patch by its document, a JSON 6902 patch by its operations
    (named through ``new_doc``, the Cluster as rendered)."""
    found: dict[str, str] = {}
    for overlay in provenance.overlays(cluster):
        for patch in _patches(overlay):
            if patch.json6902:
                for op in patch.documents:
                    for path, value in _op_values(op, new_doc):
                        if str(value) in wanted and pattern.match(path):
                            found[str(value)] = str(patch.location)
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
           fields: list[FieldChange], fallback: str, provenance: Provenance | None,
           new_doc: Any = None) -> list[str]:
    """The file:lines that produced the rule's new values (see the module docstring): each
    overlay patch that wrote some, and the inventory line of the rest."""
    if cluster is None:
        return [f"rendered/{fallback}"]
    wanted = new_values(pattern, fields)
    by_overlay = overlay_causes(cluster, provenance, pattern, wanted, new_doc) \
        if provenance and wanted else {}
    rest = wanted - set(by_overlay)
    out = sorted(set(by_overlay.values()))
    if rest or not out:
        out.append(inventory_cause(cluster, rule, rest))
    return out
