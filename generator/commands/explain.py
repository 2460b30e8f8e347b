"""``fleetgen explain``: every effective value of a cluster and the file:line it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from generator import pipeline
from generator.check.fleet import Cluster, Fleet
from generator.commands.exits import EXIT_OK
from generator.commands.output import out
from generator.overlay.load import Overlay
from generator.render.final import cluster_overlays
from generator.problems import FleetError, Location, Problem, did_you_mean, path_text
from generator.yaml.load import Path_


def find_cluster(fleet: Fleet, query: str) -> Cluster:
    hits = [c for c in fleet.clusters
            if query in (c.spec.name, c.folder, c.inventory.file)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise FleetError([Problem(Location("clusters"), "unknown-cluster",
                                  f"no cluster '{query}'",
                                  "name it as in `fleetgen render` output: name or mgmt/ns/name")])
    raise FleetError([Problem(Location("clusters"), "ambiguous-cluster",
                              f"'{query}' names {len(hits)} clusters: "
                              f"{', '.join(c.folder for c in hits)}", "use mgmt/namespace/name")])


def _leaves(value: Any, path: Path_) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path, value


def explain(root: Path, query: str, field: str | None) -> int:
    """The command: one line per effective value of the cluster ``query`` names, then what its
    overlays change in the rendered objects."""
    fleet = pipeline.load_fleet(root.resolve())
    cluster = find_cluster(fleet, query)
    rows = explain_rows(cluster, field)
    width = max(len(r[0]) for r in rows)
    out("\n".join(f"{name:<{width}}  {value}  ({source})" for name, value, source in rows))
    patched = overlay_rows(root.resolve(), cluster) if field is None else []
    if patched:
        out("overlays (applied to the rendered objects after the values above, in this order):")
        out("\n".join(f"  {where}  {what}" for where, what in patched))
    return EXIT_OK


def _default_source(cluster: Cluster, path: Path_) -> str:
    """Where a value nobody wrote comes from: the plan, the IP family, the infrastructure."""
    spec = cluster.spec
    if path == ("name",):
        return "file name"
    if path == ("controlPlane", "replicas") or (
            path[:1] == ("workers",) and ("workers",) not in cluster.inventory.origins):
        return f"from plan {spec.plan}"  # the plan's machine count, or its machine deployments
    if path[:2] in (("network", "pods"), ("network", "services")):
        return f"from ipFamily {spec.network.ip_family}"
    if path == ("kubernetes", "class"):
        return f"from infrastructure {spec.infrastructure}"
    return "default"


def explain_rows(cluster: Cluster, field: str | None = None) -> list[tuple[str, str, str]]:
    """(field, value as JSON, source) rows; source is ``file:line:col`` or ``default``."""
    effective = cluster.spec.effective()
    rows = []
    for path, value in _leaves(effective, ()):
        name = path_text(path)
        if field and not (name == field or name.startswith(field + ".")
                          or name.startswith(field + "[")):
            continue
        origin = cluster.inventory.origins.get(path)
        source = str(origin.value) if origin else _default_source(cluster, path)
        rows.append((name, json.dumps(value, ensure_ascii=False), source))
    if field and not rows:
        names = {path_text(p[:end]) for p, _ in _leaves(effective, ()) for end in
                 range(1, len(p) + 1) if not isinstance(p[end - 1], int)}
        raise FleetError([Problem(Location(cluster.inventory.file), "unknown-field",
                                  f"cluster '{cluster.spec.name}' has no field '{field}'",
                                  did_you_mean(field, names)
                                  or "run `fleetgen explain CLUSTER` to list every field")])
    return rows


def _patch_paths(document: Any, path: Path_ = ()) -> Iterator[str]:
    """The fields a strategic-merge patch document writes (named list items as ``[name=…]``)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if path == () and key in ("apiVersion", "kind"):
                continue
            if path == ("metadata",) and key in ("name", "namespace"):
                continue
            yield from _patch_paths(value, (*path, key))
    elif isinstance(document, list) and document and all(
            isinstance(v, dict) and "name" in v for v in document):
        for item in document:
            rest = {k: v for k, v in item.items() if k != "name"}
            yield from _patch_paths(rest, (*path, f"[name={item['name']}]")) if rest else \
                iter([path_text((*path, f"[name={item['name']}]"))])
    elif path:
        yield path_text(path)


def overlay_rows(root: Path, cluster: Cluster) -> list[tuple[str, str]]:
    """(patch entry file:line, what it changes) for every patch of the cluster's overlays, in
    the order they apply (components first, then patches, then labels and annotations)."""
    rows: list[tuple[str, str]] = []

    def walk(overlay: Overlay) -> None:
        for component in overlay.components:
            walk(component)
        for patch in overlay.patches:
            target = f"{patch.target.text or 'any object'}" if patch.target else "its object"
            if patch.json6902:
                fields = [f"{op.get('op')} {op.get('path')}" for op in patch.documents
                          if isinstance(op, dict)]
            else:
                fields = sorted({f for doc in patch.documents for f in _patch_paths(doc)})
            rows.append((str(patch.location), f"{patch.label} on {target}: "
                                               f"{', '.join(fields) or 'nothing'}"))
        for kind, pairs in (("labels", overlay.labels), ("annotations", overlay.annotations)):
            if pairs:
                rows.append((overlay.file, f"common {kind} on every object: "
                                           f"{', '.join(k for k, _ in pairs)}"))

    try:
        for overlay in cluster_overlays(root, cluster):
            walk(overlay)
    except FleetError:
        return []  # the render reports what is wrong with the overlay
    return rows
