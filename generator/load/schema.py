"""The JSON Schema of one inventory file (a cluster file or a ``_defaults.yaml``).

A single file holds only part of a cluster (the rest is inherited), so nothing is required here;
``fleetgen validate`` checks completeness after merging.
"""

from __future__ import annotations

from typing import Any

from generator.load.model import ClusterSpec

SCHEMA_ID = "https://fleetgen.dev/schemas/inventory.json"


def _drop_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_drop_required(v) for v in node]
    return node


def inventory_schema() -> dict[str, Any]:
    schema = _drop_required(ClusterSpec.model_json_schema(by_alias=True))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema, "title": "fleetgen inventory file"}
