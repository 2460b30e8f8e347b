"""Shared checks for the hostile-input and fault tests (issue 9): a refused run exits with its
code, prints exactly the expected problems, and leaves ``rendered/`` byte- and mtime-identical,
with no temporary file and no lock left behind.

The fleets are the small vSphere fleet of ``support.fleets`` with two clusters, ``web`` and
``api``, rendered once per session and copied (with mtimes) into each test's folder, so every
refusal is checked against a real, existing ``rendered/`` tree.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import Result

from support.cli import fleetgen
from support.fleets import small_fleet, write_tree

WEB = "controlPlane:\n  endpoint: 10.0.0.10\n"
API = "controlPlane:\n  endpoint: 10.0.0.11\n"
WEB_FILE = "clusters/dev/web.yaml"
RENDERED = "rendered"
LOCK = "rendered/.fleetgen.lock"
TEMP = re.compile(r"^\..*\.tmp$")
UNCHECKED = re.compile(r"^\d+ clusters? could not be checked \((it has|they have) errors above\)$")


def make_fleet(root: Path, **clusters: str) -> Path:
    """The two-cluster fleet (plus ``clusters``), rendered; returns ``root``."""
    small_fleet(root, web=WEB, api=API, **clusters)
    result = fleetgen(root, "render")
    assert result.exit_code == 0, result.output
    return root


def primed_fleet(factory: pytest.TempPathFactory) -> Path:
    """For the session fixture ``primed`` (tests/hostile/conftest.py): the fleet rendered once,
    its render cache in a throwaway folder (session fixtures run before the per-test $HOME guard
    of conftest)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETGEN_CACHE_DIR", str(factory.mktemp("cache")))
        return make_fleet(factory.mktemp("primed"))


def copy_fleet(source: Path, target: Path) -> Path:
    """A copy of a rendered fleet that keeps every mtime (and symlinks as symlinks)."""
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    return target


def state(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``rendered/`` (hidden ones included) with its bytes and mtime (ns)."""
    base = root / RENDERED
    if not base.is_dir():
        return {}
    out = {}
    for folder, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if not path.is_symlink():
                out[path.relative_to(base).as_posix()] = (path.read_bytes(),
                                                          path.stat().st_mtime_ns)
    return out


def leftovers(root: Path) -> list[str]:
    """Temporary files and the lock: what a finished (or refused) run must never leave."""
    base = root / RENDERED
    if not base.is_dir():
        return []
    found = []
    for folder, _dirs, files in os.walk(base):
        for name in files:
            if TEMP.match(name) or name == ".fleetgen.lock":
                found.append(Path(folder, name).relative_to(root).as_posix())
    return sorted(found)


def assert_clean(root: Path) -> None:
    left = leftovers(root)
    assert left == [], f"a run left temporary files or its lock behind: {left}"


WRITING = ("render", "init", "new", "import")  # the commands that say they wrote nothing


def summary(lines: list[str], command: str = "render") -> str:
    errors = sum(1 for line in lines if ": error[" in line or line.startswith("error["))
    written = "; nothing was written" if command in WRITING else ""
    return f"{errors} error{'s' if errors != 1 else ''}{written}"


def assert_refused(root: Path, expected: list[str], *args: str, code: int = 2) -> Result:
    """Run ``fleetgen ARGS --root ROOT`` (``render`` by default) in-process and check that it
    exits with ``code``, prints exactly ``expected`` (problem and hint lines) followed by the
    summary line, and leaves rendered/ byte- and mtime-identical, clean and unlocked."""
    before = state(root)
    result = fleetgen(root, *(args or ("render",)))
    lines = result.stderr.splitlines()
    if lines and UNCHECKED.match(lines[-1]):  # issue 19's note, tested in tests/check/test_p_*
        lines.pop()
    assert result.exit_code == code, result.output
    assert lines == [*expected, summary(expected, (args or ("render",))[0])], "\n".join(lines)
    assert state(root) == before, "a refused run changed rendered/"
    assert_clean(root)
    return result


def assert_refused_cleanly(root: Path, must_contain: str, *args: str, code: int = 2) -> Result:
    """Weaker than assert_refused, for cases whose message still needs a fix elsewhere: the run is
    refused with ``code`` and a problem containing ``must_contain``, and rendered/ is intact."""
    before = state(root)
    result = fleetgen(root, *(args or ("render",)))
    assert result.exit_code == code, result.output
    assert must_contain in result.output, result.output
    assert state(root) == before, "a refused run changed rendered/"
    assert_clean(root)
    return result


def write(root: Path, files: dict[str, str]) -> Path:
    """Write files below ``root`` as given (not dedented: hostile text is taken literally)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


__all__ = ["API", "LOCK", "WEB", "WEB_FILE", "assert_clean", "assert_refused",
           "assert_refused_cleanly", "copy_fleet", "leftovers", "make_fleet", "primed_fleet",
           "state", "summary", "write", "write_tree"]
