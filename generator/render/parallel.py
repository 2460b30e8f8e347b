"""``--jobs N``: build render groups in worker processes, with output identical to one process.

Workers are forked after the fleet is loaded, so they inherit it (and the group builder) instead
of receiving it by pickle; each builds a contiguous slice of the groups and sends back only bytes
and object identities. The parent puts the slices back in order, so the result does not depend
on timing.
"""

from __future__ import annotations

import multiprocessing
from typing import Callable, Union

from generator.problems import FleetError
from generator.render.build import Built, GroupBuilder
from generator.render.layout import Output

Result = Union[Built, FleetError]
_WORK: tuple[GroupBuilder, list[list[Output]]] | None = None  # set in the parent before forking


def _build(builder: GroupBuilder, group: list[Output]) -> Result:
    try:
        return builder.build(group)
    except FleetError as exc:
        return exc


def _build_slice(bounds: tuple[int, int]) -> list[Result]:
    assert _WORK is not None
    builder, groups = _WORK
    return [_build(builder, group) for group in groups[bounds[0]:bounds[1]]]


def build_parallel(builder: GroupBuilder, groups: list[list[Output]], jobs: int,
                   progress: Callable[[int], None] | None = None) -> list[Result]:
    """Each group built (``GroupBuilder.build``) or the FleetError it raised, in order, over
    ``jobs`` processes (one process when that cannot help)."""
    if jobs <= 1 or len(groups) < 2 * jobs or \
            "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for group in groups:
            results.append(_build(builder, group))
            if progress is not None:
                progress(len(group))
        return results
    global _WORK
    _WORK = (builder, groups)
    size = -(-len(groups) // (jobs * 4))  # several slices per worker balance uneven groups
    slices = [(start, min(start + size, len(groups))) for start in range(0, len(groups), size)]
    out: list[Result] = []
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for (start, end), results in zip(slices, pool.imap(_build_slice, slices)):
                out.extend(results)
                if progress is not None:
                    progress(sum(len(group) for group in groups[start:end]))
    finally:
        _WORK = None
    return out
