"""``fleetgen ipam plan`` and ``fleetgen ipam migrate``: pool capacity and allocation preview,
and v1alpha1 pools converted to v1alpha2."""

from __future__ import annotations

import json
from pathlib import Path

from generator import pipeline
from generator.commands.exits import EXIT_OK, EXIT_POLICY
from generator.commands.output import err, out
from generator.ipam.migrate import migrate_file
from generator.ipam.plan import as_json, as_text, make_plan, read_live
from generator.problems import FleetError, Problem
from generator.write.files import atomic_write


def plan(root: Path, live: Path | None, fmt: str) -> int:
    """Exit 4 when a pool is short or an address in use would leave its pool; ``fmt`` is text or
    json."""
    fleet = pipeline.load_fleet(root.resolve(), relaxed=frozenset({"pool-capacity"}))
    result = make_plan(fleet, read_live(live) if live else None)
    if fmt == "json":
        out(json.dumps(as_json(result), indent=2))
    else:
        out(as_text(result))
    return EXIT_POLICY if result.blocked else EXIT_OK


def migrate(files: list[Path], write: bool) -> int:
    """Print each file converted, or with ``write`` rewrite it in place; nothing is written
    unless every file converts."""
    results: list[tuple[Path, str, int]] = []
    problems: list[Problem] = []
    for path in files:
        try:
            results.append((path, *migrate_file(path, str(path))))
        except FleetError as exc:
            problems.extend(exc.problems)
    if problems:
        raise FleetError(problems)
    for path, text, converted in results:
        if write:
            if converted:
                atomic_write(path, text.encode("utf-8"))
            err(f"{path}: {converted} pool{'s' if converted != 1 else ''} converted")
        else:
            out(text)
    return EXIT_OK
