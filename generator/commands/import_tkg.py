"""``fleetgen import tkg``: a TKG flat cluster config (and its pool) as an inventory file."""

from __future__ import annotations

from pathlib import Path

from generator.commands.exits import EXIT_OK
from generator.commands.output import err, out
from generator.problems import format_problems
from generator.tkg.importer import import_tkg as import_flat
from generator.write.files import atomic_write


def import_tkg(root: Path, flat: Path, pool: Path | None, to: Path) -> int:
    """Write the inventory file into ``to`` (relative paths are taken from ``root``); what is not
    imported is reported on stderr."""
    base = root.resolve()
    result = import_flat(base, flat, pool, to if to.is_absolute() else base / to)
    err(format_problems(result.reported, "text"))
    atomic_write(result.path, result.text.encode("utf-8"))
    out(f"wrote {result.path.relative_to(base).as_posix()}")
    return EXIT_OK
