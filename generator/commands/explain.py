"""``fleetgen explain``: every effective value of a cluster and the file:line it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from generator import pipeline
from generator.check.fleet import Cluster, Fleet
from generator.commands.exits import EXIT_OK
from generator.commands.output import out
from generator.problems import FleetError, Location, Problem, path_text
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
    """The command: one line per effective value of the cluster ``query`` names."""
    fleet = pipeline.load_fleet(root.resolve())
    rows = explain_rows(find_cluster(fleet, query), field)
    width = max(len(r[0]) for r in rows)
    out("\n".join(f"{name:<{width}}  {value}  ({source})" for name, value, source in rows))
    return EXIT_OK


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
        source = str(origin.value) if origin else ("file name" if path == ("name",) else "default")
        rows.append((name, json.dumps(value, ensure_ascii=False), source))
    if field and not rows:
        raise FleetError([Problem(Location(cluster.inventory.file), "unknown-field",
                                  f"cluster '{cluster.spec.name}' has no field '{field}'",
                                  "run `fleetgen explain CLUSTER` to list every field")])
    return rows
