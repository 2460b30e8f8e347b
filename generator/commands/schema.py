"""``fleetgen schema``: the JSON Schema of inventory files, for editors."""

from __future__ import annotations

from generator.commands.exits import EXIT_OK
from generator.commands.output import out
from generator.load.schema import schema_text


def schema() -> int:
    out(schema_text())
    return EXIT_OK
