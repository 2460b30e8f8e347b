"""``--jobs N``: render outputs in worker processes, with output identical to one process.

Workers are forked after the fleet is loaded, so they inherit it instead of receiving it by
pickle; each renders a contiguous slice of the (sorted) outputs and sends back the rendered
files. The parent puts the slices back in order, so the result does not depend on timing.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Callable

from generator.problems import FleetError
from generator.render import Output, RenderedFile, render_outputs

_WORK: tuple[list[Output], Path] | None = None  # set in the parent just before forking


def _render_slice(bounds: tuple[int, int]) -> list[RenderedFile] | FleetError:
    assert _WORK is not None
    outputs, root = _WORK
    try:
        return render_outputs(outputs[bounds[0]:bounds[1]], root)
    except FleetError as exc:
        return exc


def render_parallel(outputs: list[Output], root: Path, jobs: int,
                    progress: Callable[[int], None] | None = None) -> list[RenderedFile]:
    """``render_outputs`` over ``jobs`` processes (one process when that cannot help)."""
    if jobs <= 1 or len(outputs) < 2 * jobs or "fork" not in multiprocessing.get_all_start_methods():
        return render_outputs(outputs, root, progress)
    global _WORK
    _WORK = (outputs, root)
    size = -(-len(outputs) // (jobs * 4))  # several slices per worker balance uneven clusters
    slices = [(start, min(start + size, len(outputs))) for start in range(0, len(outputs), size)]
    rendered: list[RenderedFile] = []
    problems = []
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for (start, end), result in zip(slices, pool.imap(_render_slice, slices)):
                if isinstance(result, FleetError):
                    problems.extend(result.problems)
                else:
                    rendered.extend(result)
                if progress is not None:
                    progress(end - start)
    finally:
        _WORK = None
    if problems:
        raise FleetError(problems)
    return rendered
