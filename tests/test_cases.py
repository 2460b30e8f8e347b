"""Golden cases: each ``tests/cases/<case>/`` holds a fleet (``clusters/``, optional
``templates/``) and what it must produce: ``expected/rendered/`` (every file, byte for byte) or
``expected/errors.txt`` (the exact stderr of ``fleetgen render``).

Refresh after an intended change, then review the diff like code:

    .venv/bin/python -m pytest tests/test_cases.py --update-goldens
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.cli import fleetgen

CASES = Path(__file__).parent / "cases"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_case(case: str, tmp_path: Path, update_goldens: bool) -> None:
    source = CASES / case
    for part in ("clusters", "templates", "overlays"):
        if (source / part).is_dir():
            shutil.copytree(source / part, tmp_path / part)
    result = fleetgen(tmp_path, "render")
    expected = source / "expected"
    if update_goldens:
        shutil.rmtree(expected, ignore_errors=True)
        expected.mkdir()
        if result.exit_code == 0:
            shutil.copytree(tmp_path / "rendered", expected / "rendered")
        else:
            (expected / "errors.txt").write_text(result.stderr)
        return
    if (expected / "errors.txt").exists():
        assert result.exit_code == 2, result.output
        assert result.stderr == (expected / "errors.txt").read_text()
        assert not (tmp_path / "rendered").exists()
    else:
        assert result.exit_code == 0, result.output
        assert _files(tmp_path / "rendered") == _files(expected / "rendered")
