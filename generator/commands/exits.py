"""The exit codes of every command (see product.md): the commands return them, the command line
turns failures into them."""

from __future__ import annotations

EXIT_OK = 0  # done; nothing to change
EXIT_CHANGES = 1  # render --check found rendered/ stale, diff found changes
EXIT_INVALID = 2  # the input is invalid (a FleetError)
EXIT_INTERNAL = 3  # a bug in fleetgen
EXIT_POLICY = 4  # a --fail-on risk class, a short pool
EXIT_INTERRUPTED = 130  # Ctrl-C


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) in the ``fleetgen`` program. Not a KeyboardInterrupt: the command-line
    library turns one that comes before a command body runs into "Aborted!" and exit 1, which CI
    reads as "rendered/ is stale"; this one reaches ``generator.launcher`` as it is (exit 130)."""


def interrupted(_signum: int, _frame: object) -> None:
    """The program's SIGINT handler."""
    raise Interrupted
