"""``fleetgen render``: render the fleet into rendered/, or answer from its stamp.

A stamp (``generator.cache.stamp``) answers a render of an unchanged fleet without loading it.
``generator.launcher`` asks ``lookup`` before the command line library is even imported; when the
stamp does not answer, it hands the ``Lookup`` to this command (through the command line's context
object), so the fleet's files are read once per process. This module imports only the standard
library and the stamp at first; the pipeline is imported when a render runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.cache.stamp import Inputs, Stamps, inputs_of
from generator.commands.exits import EXIT_CHANGES, EXIT_OK
from generator.commands.output import err, out

if TYPE_CHECKING:
    from generator.commands.output import ProgressBar


@dataclass(frozen=True)
class Lookup:
    """One fleet's stamp lookup: whether the stamp answered (and the answer was printed), and the
    fleet's inputs, for the stamp of the render that follows when it did not."""

    root: Path  # resolved
    answered: bool
    inputs: Inputs | None


def lookup(stamps: Stamps, root: Path, check: bool) -> Lookup:
    """An unchanged fleet whose rendered/ is exactly what its last render left: say what that
    render said, without loading anything (see generator.cache.stamp)."""
    root = root.resolve()
    inputs = inputs_of(root)
    warnings = stamps.lookup(root, inputs)
    if warnings is None:
        return Lookup(root, False, inputs)
    if not check:
        err(warnings)
    out("rendered/ is up to date")
    return Lookup(root, True, inputs)


def render(root: Path, *, check: bool, force: bool, select: list[str] | None, jobs: int,
           no_cache: bool, progress: ProgressBar, looked_up: Lookup | None = None) -> int:
    """The render command; ``looked_up`` is a lookup of a fleet already made in this process."""
    stamps, inputs = None, None
    if not (select or force or no_cache):
        stamps = Stamps()
        if looked_up is not None and looked_up.root == root.resolve():
            found = looked_up  # read already: it did not answer
        else:
            found = lookup(stamps, root, check)
        if found.answered:
            return EXIT_OK
        inputs = found.inputs
    from generator import pipeline
    from generator.problems import format_problems

    with progress("rendering") as callback:
        result = pipeline.render(root, check=check, force=force, patterns=select, jobs=jobs,
                                 progress=callback, use_cache=not no_cache)
    plan = result.plan
    warnings = format_problems(result.fleet.warnings, "text")
    if stamps is not None and (result.written or not (plan.stale or plan.conflicts)):
        stamps.record(inputs, warnings, result.tree)
    if check:
        lines = plan.summary() + [f"{p.location}: {p.message}" for p in plan.conflicts]
        out("\n".join(lines) if lines else "rendered/ is up to date")
        return EXIT_CHANGES if plan.stale or plan.conflicts else EXIT_OK
    err(warnings)
    out("\n".join(plan.summary()) if result.written else "rendered/ is up to date")
    return EXIT_OK
