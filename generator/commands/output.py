"""What the commands print: results on stdout, problems and notes on stderr, each ending in one
newline. Standard library only: the stamped ``render`` (``generator.launcher``) prints with it
before anything heavy is imported."""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from generator.pipeline import Progress

    # A progress display: called with what is being done, it gives the callback taking
    # (done, total), or None when there is nothing to show (see generator.cli.progress_bar).
    ProgressBar = Callable[[str], AbstractContextManager[Progress | None]]


def plain_style() -> dict[str, Any]:
    """Options for a rich Console: with ``NO_COLOR`` (any non-empty value, no-color.org) no
    styling at all; rich alone drops colours and keeps bold."""
    return {"no_color": True, "color_system": None} if os.environ.get("NO_COLOR") else {}


def out(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def err(text: str) -> None:
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
