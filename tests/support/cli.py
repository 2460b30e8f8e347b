"""Run the real command line in-process and capture its exit code and both streams."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from generator.cli import app


def fleetgen(root: Path | None, *args: str) -> Result:
    argv = [*args, "--root", str(root)] if root is not None else list(args)
    return CliRunner().invoke(app, argv, catch_exceptions=False)
