"""What the commands print: results on stdout, problems and notes on stderr, each ending in one
newline. Standard library only: the stamped ``render`` (``generator.launcher``) prints with it
before anything heavy is imported."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from generator.pipeline import Progress

    # A progress display: called with what is being done, it gives the callback taking
    # (done, total), or None when there is nothing to show (see generator.cli.progress_bar).
    ProgressBar = Callable[[str], AbstractContextManager[Progress | None]]


def out(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def err(text: str) -> None:
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
