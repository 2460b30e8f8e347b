"""The ``fleetgen`` program. A ``render`` of a stamped fleet is answered here, before the command
line library (typer, and the pydantic it builds option parsers with) is even imported, which
alone costs more than the answer; everything else goes to ``generator.cli``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.cache.stamp import Inputs, Stamps


def out(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def err(text: str) -> None:
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")


_MISSED: dict[Path, Inputs | None] = {}  # fleets main() found no stamp for: their inputs


def stamped(stamps: Stamps, root: Path, check: bool) -> tuple[bool, Inputs | None]:
    """An unchanged fleet whose rendered/ is exactly what its last render left: say what that
    render said, without loading anything (see generator.cache.stamp). Returns whether it did, and
    the fleet's inputs (for the stamp of the render that follows when it did not). A fleet that
    ``main`` already looked up in this process is not read again."""
    root = root.resolve()
    if root in _MISSED:
        return False, _MISSED.pop(root)
    from generator.cache.stamp import inputs_of

    inputs = inputs_of(root)
    warnings = stamps.lookup(root, inputs)
    if warnings is None:
        return False, inputs
    if not check:
        err(warnings)
    out("rendered/ is up to date")
    return True, inputs


def _fast_render(args: list[str]) -> bool:
    """``fleetgen render`` with only ``--check``, ``--quiet``/``-q``, ``--root DIR`` and
    ``--jobs``/``-j N`` (the way CI and editors call it) on a stamped fleet: answered before the
    command line library is even imported, which alone costs more than the answer. Anything else,
    and every fleet without a matching stamp, goes the normal way (and gives the same output)."""
    if not args or args[0] != "render":
        return False
    root, check, seen = Path("."), False, set()
    rest = iter(args[1:])
    for arg in rest:
        name, has_value, value = arg.partition("=")
        if name in ("--root", "--jobs", "-j") and not has_value:
            value = next(rest, "")
        elif has_value and name not in ("--root", "--jobs"):
            return False
        key = {"-q": "--quiet", "-j": "--jobs"}.get(name, name)
        if key in seen:
            return False
        seen.add(key)
        if key == "--root" and value:
            root = Path(value)
        elif key == "--jobs" and value.isdigit() and int(value) >= 1:
            pass
        elif key == "--check" and not has_value:
            check = True
        elif key != "--quiet" or has_value:
            return False
    if not root.is_dir():
        return False
    from generator.cache.stamp import Stamps

    answered, inputs = stamped(Stamps(), root, check)
    if not answered:
        _MISSED[root.resolve()] = inputs  # for the render command, which runs next
    return answered


def main() -> None:
    if _fast_render(sys.argv[1:]):
        sys.exit(0)
    from generator.cli import main as cli_main

    cli_main()
