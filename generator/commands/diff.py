"""``fleetgen diff``: what render would change in rendered/, object by object, with risk classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from generator import pipeline
from generator.commands.exits import EXIT_CHANGES, EXIT_OK, EXIT_POLICY
from generator.commands.output import err, out, plain_style
from generator.ipam.plan import read_exports
from generator.problems import FleetError, Location, Problem, format_problems
from generator.review.classes import RISK_CLASSES
from generator.review.report import as_json, as_markdown, as_text

if TYPE_CHECKING:
    from generator.commands.output import ProgressBar


def text_console(force_terminal: bool | None = None) -> Console:
    """The terminal report's console: coloured and bold on a terminal; with ``NO_COLOR`` (any
    non-empty value, no-color.org) no style at all, bold included (rich alone keeps bold)."""
    return Console(highlight=False, soft_wrap=True, force_terminal=force_terminal,
                   **plain_style())


def diff(root: Path, *, against: str | None, base: str | None, head: str | None,
         live: list[Path], fmt: str, max_bytes: int, fail_on: str | None, jobs: int,
         progress: ProgressBar) -> int:
    """Exit 0 no change, 1 changes, 4 a ``fail_on`` risk class (comma-separated) was found;
    ``fmt`` is text, markdown or json."""
    if against is not None and (base is not None or head is not None):
        raise FleetError([Problem(Location("."), "usage",
                                  "--against cannot be combined with --base/--head",
                                  "compare with rendered/ at a revision (--against REF) or what "
                                  "two commits render to (--base REF --head REF), not both")])
    classes = [c.strip() for c in (fail_on or "").split(",") if c.strip()]
    unknown = [c for c in classes if c not in RISK_CLASSES]
    if unknown:
        raise FleetError([Problem(Location("."), "usage",
                                  f"unknown risk class {', '.join(unknown)}",
                                  f"risk classes: {', '.join(RISK_CLASSES)}")])
    with progress("rendering") as callback:
        result = pipeline.review(root, against=against, base=base, head=head,
                                 live=[e for path in live for e in read_exports(path)] or None,
                                 jobs=jobs,
                                 progress=callback)
    if result.warnings:
        err(format_problems(list(result.warnings), "text"))
    if fmt == "json":
        out(json.dumps(as_json(result), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        out(as_markdown(result, max_bytes))
    else:
        as_text(result, text_console())
    if any(r.cls in classes for r in result.risks):
        return EXIT_POLICY
    return EXIT_CHANGES if result.changes else EXIT_OK
