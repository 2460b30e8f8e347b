"""Ctrl-C (issue 14, item 10): whenever it comes, the program says "interrupted" and exits 130,
never with a traceback and never with click's "Aborted!" and exit 1, which CI reads as "stale".

The signal is real (os.kill of the program's own process) and sent from a hook at a point the
test chooses, so the case is deterministic: before the command line is built, and while typer
parses the arguments (outside every command body)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
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
