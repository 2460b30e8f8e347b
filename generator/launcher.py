"""The ``fleetgen`` program. A ``render`` of a stamped fleet is answered here, before the command
line library (typer, and the pydantic it builds option parsers with) is even imported, which
alone costs more than the answer; everything else goes to ``generator.cli``."""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path

from generator.commands.exits import EXIT_INTERRUPTED, Interrupted, interrupted
from generator.commands.output import err
from generator.paths import find_root


def _fast_render(args: list[str]) -> tuple[Path, bool] | None:
    """The fleet and ``--check`` of ``fleetgen render`` with only ``--check``, ``--quiet``/``-q``,
    ``--root DIR`` and ``--jobs``/``-j N`` (the way CI and editors call it), which a stamp may
    answer; None for anything else, which goes the normal way (and gives the same output)."""
    if not args or args[0] != "render":
        return None
    root, check, seen = Path("."), False, set()
    rest = iter(args[1:])
    for arg in rest:
        name, has_value, value = arg.partition("=")
        if name in ("--root", "--jobs", "-j") and not has_value:
            value = next(rest, "")
        elif has_value and name not in ("--root", "--jobs"):
            return None
        key = {"-q": "--quiet", "-j": "--jobs"}.get(name, name)
        if key in seen:
            return None
        seen.add(key)
        if key == "--root" and value:
            root = Path(value)
        elif key == "--jobs" and value.isdigit() and int(value) >= 1:
            pass
        elif key == "--check" and not has_value:
            check = True
        elif key != "--quiet" or has_value:
            return None
    return (find_root(root), check) if root.is_dir() else None


def main() -> None:
    signal.signal(signal.SIGINT, interrupted)
    try:
        _main()
    except Interrupted:
        err("interrupted")
        sys.exit(EXIT_INTERRUPTED)


def _main() -> None:
    # A run builds tens of thousands of long-lived objects (one validated spec per cluster) and
    # frees little until it exits: the cyclic collector's default thresholds make it traverse
    # them over and over (2 of a 3.6 s diff of 5,000 clusters). Young objects are still
    # collected as usual; the older generations far less often.
    gc.set_threshold(10_000, 50, 1_000)
    looked_up = None
    fast = _fast_render(sys.argv[1:])
    if fast is not None:
        from generator.cache.stamp import Stamps
        from generator.commands.render import lookup

        looked_up = lookup(Stamps(), *fast)
        if looked_up.answered:
            sys.exit(0)
    from generator.cli import main as cli_main

    cli_main(looked_up)  # the render command takes the lookup instead of reading the fleet again
