"""The JSON Schema of inventory files, and the one walker over a model's schema.

``inventory_schema`` is the schema of one inventory file (a cluster file or a ``_defaults.yaml``).
A single file holds only part of a cluster (the rest is inherited), so nothing is required there;
``fleetgen validate`` checks completeness after merging.

The walker answers two questions about the value at a path of keys (list indexes as ints) of a
model such as ``ClusterSpec``, from the model's full schema (``required`` kept):
``allowed_keys`` (the keys any shape of that value accepts, for did-you-mean hints) and
``schema_at`` (the one schema of that value, for the comments of ``fleetgen new cluster``).

Editors: every inventory file starts with a ``# yaml-language-server: $schema=…`` line
(``schema_modeline``). It points at ``SCHEMA_FILE`` in the fleet, by a path relative to the file
(the YAML language server resolves relative paths from the file that names them), rather than at
``SCHEMA_ID``: the local copy works offline and is the schema of the fleetgen version the fleet
pins, not whatever a URL serves today. ``fleetgen schema > .fleetgen/inventory.schema.json``
refreshes it after an upgrade. A fleet without the local copy gets ``SCHEMA_ID`` instead.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from generator.load.model import ClusterSpec
from generator.paths import SCHEMA_FILE
from generator.yaml.load import Path_

SCHEMA_ID = "https://fleetgen.dev/schemas/inventory.json"


@cache
def model_schema(model: type[BaseModel] = ClusterSpec) -> dict[str, Any]:
    """``model``'s JSON Schema by alias, ``required`` kept (callers must not change it)."""
    return model.model_json_schema(by_alias=True)


def _drop_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_drop_required(v) for v in node]
    return node


def inventory_schema() -> dict[str, Any]:
    schema = _drop_required(model_schema(ClusterSpec))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema, "title": "fleetgen inventory file"}


def schema_text() -> str:
    """Byte for byte what ``fleetgen schema`` prints (and ``fleetgen init`` writes)."""
    return json.dumps(inventory_schema(), indent=2, sort_keys=True) + "\n"


def schema_modeline(root: Path, file: Path) -> str:
    """The first line of an inventory file at ``file``: the fleet's own schema when it has one
    (relative, so it works offline and from any checkout), else ``SCHEMA_ID``."""
    local = root / SCHEMA_FILE
    target = Path(os.path.relpath(local, file.parent)).as_posix() if local.is_file() else SCHEMA_ID
    return f"# yaml-language-server: $schema={target}\n"


# --- the walker ---------------------------------------------------------------------------------

def _alternatives(root: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The shapes a value of ``node`` may take: ``$ref`` followed, ``anyOf`` / ``oneOf`` members
    flattened (``{"type": "null"}`` of an Optional included)."""
    while "$ref" in node:
        node = root["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    members = node.get("anyOf", []) + node.get("oneOf", [])
    if members:
        return [alt for member in members for alt in _alternatives(root, member)]
    return [node]


def _step(node: dict[str, Any], part: str | int) -> list[dict[str, Any]]:
    """The schema of ``part`` inside one shape: a list item, a property, or a mapping's value."""
    if isinstance(part, int):
        return [node["items"]] if "items" in node else []
    if part in node.get("properties", {}):
        return [node["properties"][part]]
    extra = node.get("additionalProperties")
    return [extra] if isinstance(extra, dict) else []


def allowed_keys(path: Path_, model: type[BaseModel] = ClusterSpec) -> list[str]:
    """The keys ``model`` accepts at ``path``, in any of the shapes the values there may take."""
    root = model_schema(model)
    nodes = _alternatives(root, root)
    for part in path:
        nodes = [alt for node in nodes for child in _step(node, part)
                 for alt in _alternatives(root, child)]
    return sorted({key for node in nodes for key in node.get("properties", {})})


def _one(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The one shape of ``node`` besides null, or ``{}`` when it has several."""
    shapes = [alt for alt in _alternatives(root, node) if alt.get("type") != "null"]
    return shapes[0] if len(shapes) == 1 else {}


def schema_at(path: Path_, model: type[BaseModel] = ClusterSpec) -> dict[str, Any]:
    """The schema of the value at ``path`` (``$ref`` and ``Optional`` resolved), keeping the
    description of the property that names it; ``{}`` (with that description) where the value
    may take several shapes, and below such a value."""
    root = model_schema(model)
    node = _one(root, root)
    for part in path:
        children = _step(node, part)
        child = children[0] if children else {}
        node = {**_one(root, child),
                **({"description": child["description"]} if "description" in child else {})}
    return node
