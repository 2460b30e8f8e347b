"""Reading a TKG flat cluster configuration the way the tanzu CLI reads it.

A mapping ``KEY: value`` where a value may be typed (``3``, ``true``) or a string (``"3"``,
``"true"``), an empty value means unset, and lists are comma-separated. Every value keeps where it
was written, so each problem points at the flat line that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.load.inventory import Origin
from generator.problems import FleetError, Location, Problem
from generator.yaml.load import Positions, load_positioned

@dataclass
class Flat:
    """The flat config's values and where each one is written."""

    label: str
    lines: list[str]
    values: dict[str, Any]
    positions: Positions

    def key_at(self, key: str) -> Location:
        return self.positions.keys.get((key,), Location(self.label, 1, 1))

    def value_at(self, key: str) -> Location:
        return self.positions.values.get((key,), self.key_at(key))

    def origin(self, key: str) -> Origin:
        return Origin(self.key_at(key), self.value_at(key))

    def raw(self, key: str) -> str:
        """The plain scalar as written: YAML read ``OS_VERSION: 20.10`` as the number 20.1, but
        the tanzu CLI means the text "20.10"."""
        where = self.value_at(key)
        text = self.lines[where.line - 1][where.col - 1:] if where.line else ""
        return text.split(" #", 1)[0].strip() or str(self.values[key])


def read_flat(flat: Path) -> Flat:
    label = str(flat)
    try:
        text = flat.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(Location(label), "unreadable", f"cannot read {label}: {exc}")]
                         ) from None
    doc, positions = load_positioned(text, label)
    if not isinstance(doc, dict):
        raise FleetError([Problem(Location(label, 1, 1), "not-a-mapping",
                                  "a flat cluster config is a mapping of VARIABLE: value",
                                  "start the file with lines such as 'CLUSTER_NAME: web'")])
    return Flat(label, text.splitlines(), doc, positions)


def empty(value: Any) -> bool:
    """An empty value is unset for the tanzu CLI (``VSPHERE_TEMPLATE:`` or ``""``)."""
    return value is None or (isinstance(value, str) and not value.strip())
