"""The fixtures every hostile-input and fault test uses (helpers in ``support.hostile``): the
small two-cluster fleet rendered once, and a fresh copy of it (mtimes kept) for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.hostile import copy_fleet, primed_fleet


@pytest.fixture(scope="session")
def primed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet, rendered once per session; tests never change it, they take a copy."""
    return primed_fleet(tmp_path_factory)


@pytest.fixture
def fleet(primed: Path, tmp_path: Path) -> Path:
    """This test's own copy of the rendered fleet, in ``tmp_path/fleet``."""
    return copy_fleet(primed, tmp_path / "fleet")
