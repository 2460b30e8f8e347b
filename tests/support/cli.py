"""Run the real command line in-process and capture its exit code and both streams."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from generator.cli import app
from support.fleets import PIN
from support.gitrepo import init


def fleetgen(root: Path | None, *args: str) -> Result:
    argv = [*args, "--root", str(root)] if root is not None else list(args)
    return CliRunner().invoke(app, argv, catch_exceptions=False)


def said(root: Path, *args: str) -> tuple[int, str, str]:
    """The exit code, stdout and stderr of ``fleetgen ARGS --root ROOT``."""
    result = fleetgen(root, *args)
    return result.exit_code, result.stdout, result.stderr


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root/rendered``, by path below it."""
    base = root / "rendered"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file()}


def scaffolded(repo: Path) -> Path:
    """A fleet repository as a new user makes one: ``fleetgen init`` into ``repo``, a git
    repository there, the example cluster given a real endpoint, rendered (not committed)."""
    assert fleetgen(None, "init", str(repo), "--install", PIN).exit_code == 0
    init(repo)
    hello = repo / "clusters/example/dev/hello.yaml"
    hello.write_text(hello.read_text().replace("192.0.2.10", "10.50.0.10"))
    assert fleetgen(repo, "render").exit_code == 0
    return repo
