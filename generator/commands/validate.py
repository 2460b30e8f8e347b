"""``fleetgen validate``: every inventory, template and fleet check; writes nothing."""

from __future__ import annotations

from pathlib import Path

from generator import pipeline
from generator.cache.store import RenderCache
from generator.commands.exits import EXIT_OK
from generator.commands.output import err, out
from generator.problems import format_problems, plural


def validate(root: Path, fmt: str) -> int:
    """Problems are raised (FleetError); warnings are printed in ``fmt``: text, json or github."""
    cache = RenderCache()
    fleet = pipeline.load_fleet(root.resolve(), cache=cache)
    pipeline.wanted_files(root.resolve(), fleet, cache=cache)  # templates must render too
    if fmt == "text":
        err(format_problems(fleet.warnings, "text"))
        out(f"{plural(len(fleet.clusters), 'cluster')}, "
            f"{plural(len(fleet.pools), 'node pool')}: valid")
    else:
        out(format_problems(fleet.warnings, fmt) or ("[]" if fmt == "json" else ""))
    return EXIT_OK
