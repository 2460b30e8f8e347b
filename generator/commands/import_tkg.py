"""``fleetgen import tkg``: TKG flat cluster configs (and their pools) as inventory files."""

from __future__ import annotations

from pathlib import Path

from generator.commands.exits import EXIT_OK
from generator.commands.output import err, out
from generator.problems import format_problems
from generator.tkg.bulk import plan_imports
from generator.tkg.sources import collect
from generator.write.files import atomic_write


def import_tkg(root: Path, flat: Path, pool: Path | None, to: Path | None = None, *,
               pools: Path | None = None, mapping: Path | None = None) -> int:
    """Write the inventory files (relative folders are taken from ``root``) once every item and
    the fleet with them pass every check; what is not imported is reported on stderr."""
    base = root.resolve()
    items, found = collect(base, flat, pool, pools, to, mapping)
    plan = plan_imports(base, items, found)
    err(format_problems(plan.warnings, "text"))
    for path in sorted(plan.writes):
        atomic_write(path, plan.writes[path].encode("utf-8"))
    created = {result.path.resolve() for result in plan.imported}
    for result in plan.imported:
        out(f"wrote {result.path.resolve().relative_to(base).as_posix()}")
        for line in result.inherited:
            out(f"  inherits {line}")
    for path in sorted(p for p in plan.writes if p not in created):
        out(f"changed {path.relative_to(base).as_posix()}")
    for note in plan.notes:
        out(f"  {note}")
    if len(plan.imported) > 1:
        out(f"imported {len(plan.imported)} clusters")
    return EXIT_OK
