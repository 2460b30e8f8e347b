from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_home_writes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any test that writes to $HOME writes to a throwaway folder instead, never the real one;
    the render cache is the test's own too (never a developer's, never another test's)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(home / ".cache" / "fleetgen"))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def repo_root() -> Path:
    return REPO


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/cases/*/expected from the current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens")) or bool(
        os.environ.get("FLEETGEN_UPDATE_GOLDENS"))
