"""Ctrl-C (issue 14, item 10): whenever it comes, the program says "interrupted" and exits 130,
never with a traceback and never with click's "Aborted!" and exit 1, which CI reads as "stale".

The signal is real (os.kill of the program's own process) and sent from a hook at a point the
test chooses, so the case is deterministic: before the command line is built, and while typer
parses the arguments (outside every command body)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from support.hostile import assert_clean, state

HOOKS = {
    "before the command line is built": ("typer.main", "get_command"),
    "while the arguments are parsed": ("typer.core", "TyperGroup.parse_args"),
}


@pytest.mark.parametrize("where", list(HOOKS))
@pytest.mark.parametrize("command", [["validate"], ["render"], ["render", "--check"]])
def test_ctrl_c_before_a_command_body_runs_exits_130(fleet: Path, where: str,
                                                     command: list[str]) -> None:
    module, attribute = HOOKS[where]
    owner, _, name = attribute.rpartition(".")
    script = textwrap.dedent(f"""
        import os, signal, sys
        import {module} as target
        holder = getattr(target, {owner!r}) if {owner!r} else target
        real = getattr(holder, {name!r})
        def hooked(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)
            return real(*args, **kwargs)
        setattr(holder, {name!r}, hooked)
        from generator.launcher import main
        sys.argv = ["fleetgen", *{command!r}, "--root", {str(fleet)!r}, "--quiet"]
        main()
    """)
    # An edit makes sure the stamp cannot answer before the command line is reached.
    (fleet / "clusters" / "dev" / "web.yaml").write_text(
        (fleet / "clusters" / "dev" / "web.yaml").read_text() + "labels: {team: web}\n")
    before = state(fleet)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "NO_COLOR": "1"}, timeout=120, check=False)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "interrupted", result.stderr
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr, result.stderr
    assert state(fleet) == before
    assert_clean(fleet)


def _edit_both(fleet: Path) -> None:
    for name in ("web", "api"):
        path = fleet / "clusters" / "dev" / f"{name}.yaml"
        path.write_text(path.read_text() + "labels: {team: t}\n")


def test_ctrl_c_while_staging_leaves_no_temporary_file(fleet: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The signal lands right after a temporary file is created, before anything knew its name."""
    from support.cli import fleetgen

    _edit_both(fleet)
    before = state(fleet)
    real = os.open
    sent = []

    def open_then_interrupt(path: str, flags: int, *args: int, **kwargs: object) -> int:
        fd = real(path, flags, *args, **kwargs)  # type: ignore[arg-type]
        if str(path).endswith(".tmp") and ".yaml.fleetgen-" in str(path) and not sent:
            sent.append(path)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # the handler runs here, before the caller learns the file's name
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    result = fleetgen(fleet, "render")
    monkeypatch.setattr(os, "open", real)
    assert sent, "the hook never ran"
    assert result.exit_code == 130, result.output
    assert state(fleet) == before
    assert_clean(fleet)


def test_ctrl_c_while_files_are_moved_into_place_waits_until_rendered_is_complete(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the first file is replaced, Ctrl-C takes effect only when every file is: rendered/
    is never half old and half new, and the next check finds it up to date."""
    from support.cli import fleetgen

    _edit_both(fleet)
    real = os.replace
    sent = []

    def replace_then_interrupt(src: str, dst: str, *args: object, **kwargs: object) -> None:
        real(src, dst, *args, **kwargs)  # type: ignore[arg-type]
        if str(dst).endswith(".yaml") and "/rendered/" in str(dst) and not sent:
            sent.append(dst)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace_then_interrupt)
    result = fleetgen(fleet, "render")
    monkeypatch.setattr(os, "replace", real)
    assert sent, "the hook never ran"
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr
    assert_clean(fleet)
    check = fleetgen(fleet, "render", "--check")
    assert check.exit_code == 0, check.output
    assert check.stdout.strip() == "rendered/ is up to date"
