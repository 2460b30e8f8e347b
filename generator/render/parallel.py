"""``--jobs N``: build render groups in worker processes, with output identical to one process.

Workers are forked after the fleet is loaded, so they inherit it (and the group builder) instead
of receiving it by pickle; each builds contiguous slices of the groups, one at a time, and sends
back only bytes and object identities. The parent puts the slices back in order, so the result
does not depend on timing.

The parent knows which slice each worker is building, and waits on the workers' pipes and on
their process sentinels together: a worker that dies (the out-of-memory killer's SIGKILL, a
crash) is seen at once, the others are stopped, and the run fails with a ``worker-died`` problem
naming the folder it was building, instead of waiting forever for a result that cannot come
(which ``multiprocessing.Pool`` does).
"""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Callable, Union

from generator.paths import RENDERED_DIR
from generator.problems import FleetError, Location, Problem
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


def _worker(conn: Connection) -> None:
    """A worker's loop: build each slice the parent sends, until it sends None."""
    while True:
        bounds = conn.recv()
        if bounds is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", _build_slice(bounds))
        except BaseException as exc:  # noqa: BLE001 - the parent decides what it means
            reply = ("raised", exc)
        try:
            conn.send(reply)
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled
            conn.send(("raised", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))


def build_parallel(builder: GroupBuilder, groups: list[list[Output]], jobs: int,
                   progress: Callable[[int], None] | None = None) -> list[Result]:
    """Each group built (``GroupBuilder.build``) or the FleetError it raised, in order, over
    ``jobs`` processes (one process when that cannot help). Raises FleetError (``worker-died``)
    when a worker process dies."""
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
    try:
        done = _Workers(jobs).run(slices, groups, progress)
    finally:
        _WORK = None
    return [result for results in done for result in results]


class _Workers:
    """Forked worker processes, each with its pipe and the slice it is building."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.processes: list[tuple[BaseProcess, Connection]] = []

    def run(self, slices: list[tuple[int, int]], groups: list[list[Output]],
            progress: Callable[[int], None] | None) -> list[list[Result]]:
        context = multiprocessing.get_context("fork")
        out: list[list[Result] | None] = [None] * len(slices)
        todo = list(range(len(slices)))
        busy: dict[Connection, tuple[int, BaseProcess]] = {}
        try:
            for _ in range(min(self.jobs, len(slices))):
                mine, theirs = context.Pipe()
                process: BaseProcess = context.Process(target=_worker, args=(theirs,), daemon=True)
                process.start()
                theirs.close()
                self.processes.append((process, mine))
                index = todo.pop(0)
                mine.send(slices[index])
                busy[mine] = (index, process)
            while busy:
                sentinels = {process.sentinel: conn for conn, (_i, process) in busy.items()}
                for ready in wait([*busy, *sentinels]):
                    conn = sentinels[ready] if isinstance(ready, int) else ready
                    if not isinstance(conn, Connection) or conn not in busy:
                        continue  # its result and its end were both ready: handled
                    index, process = busy.pop(conn)
                    reply = self._receive(conn, process, slices[index], groups)
                    out[index] = reply
                    if progress is not None:
                        progress(sum(len(g) for g in groups[slices[index][0]:slices[index][1]]))
                    if todo:
                        index = todo.pop(0)
                        conn.send(slices[index])
                        busy[conn] = (index, process)
                    else:
                        conn.send(None)
        finally:
            self._stop()
        return [results or [] for results in out]

    def _receive(self, conn: Connection, process: BaseProcess, bounds: tuple[int, int],
                 groups: list[list[Output]]) -> list[Result]:
        if conn.poll():
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                kind, value = "died", None
            if kind == "ok":
                return value  # type: ignore[no-any-return]
            if kind == "raised":
                raise value
        process.join(5)
        raise FleetError([_died(groups[bounds[0]:bounds[1]], process.exitcode)])

    def _stop(self) -> None:
        for process, conn in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
            conn.close()
        self.processes = []


def _died(groups: list[list[Output]], exitcode: int | None) -> Problem:
    paths = [output.path for group in groups for output in group]
    first = paths[0].rpartition("/")[0] or paths[0] if paths else ""
    where = f"{RENDERED_DIR}/{first}"
    how = (f"was killed by signal {-exitcode} ({signal.Signals(-exitcode).name})"
           if exitcode is not None and exitcode < 0 and -exitcode in signal.valid_signals()
           else f"exited with code {exitcode}" if exitcode is not None else "died")
    more = f" (and {len(paths) - 1} more files)" if len(paths) > 1 else ""
    return Problem(Location(where), "worker-died",
                   f"the --jobs worker building {where}{more} {how}",
                   "a SIGKILL is usually the out-of-memory killer: run again with fewer --jobs "
                   "(or --jobs 1, which also names the input at fault) or with more memory")
