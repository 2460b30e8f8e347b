"""Same inputs, byte-identical output: any hash seed, any time zone, any directory order."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import generator.load.inventory as inventory
from generator.pipeline import render
from support.fleets import snapshot

REPO = Path(__file__).resolve().parents[1]


def _copy_fleet(dest: Path) -> Path:
    for part in ("clusters", "overlays"):
        shutil.copytree(REPO / part, dest / part)
    shutil.copy(REPO / "fleetgen.yaml", dest / "fleetgen.yaml")  # the vSphere credentials source
    return dest


def _render_in_subprocess(root: Path, **env: str) -> dict[str, bytes]:
    """Each run with its own empty render cache beside its fleet: a run must not read values or
    files that another run (under another hash seed) computed."""
    environ = {**os.environ, "FLEETGEN_CACHE_DIR": str(root.parent / f"{root.name}-cache"), **env}
    subprocess.run([sys.executable, "-m", "generator", "render", "--root", str(root)],
                   check=True, env=environ, capture_output=True)
    return {p: data for p, (data, _mtime) in snapshot(root / "rendered").items()}


def test_hash_seed_and_time_zone_do_not_change_output(tmp_path: Path) -> None:
    first = _render_in_subprocess(_copy_fleet(tmp_path / "a"), PYTHONHASHSEED="1",
                                  TZ="Pacific/Kiritimati", LC_ALL="C")
    second = _render_in_subprocess(_copy_fleet(tmp_path / "b"), PYTHONHASHSEED="4242",
                                   TZ="America/Adak", LC_ALL="C.UTF-8")
    assert first == second
    assert len(first) > 50


def test_directory_listing_order_does_not_change_output(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "sorted-cache"))
    render(_copy_fleet(tmp_path / "sorted"))
    real_scandir = os.scandir

    calls = []

    class Shuffled:
        def __init__(self, path: object) -> None:
            calls.append(path)
            self._it = real_scandir(path)  # type: ignore[call-overload]
            self._entries = list(self._it)
            random.Random(7).shuffle(self._entries)
            self._entries.reverse()

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self._entries

        def __exit__(self, *exc: object) -> None:
            self._it.close()

    monkeypatch.setattr(inventory.os, "scandir", Shuffled)
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "shuffled-cache"))  # its own, empty
    render(_copy_fleet(tmp_path / "shuffled"))
    assert calls, "the inventory walk must have gone through the shuffled listing"
    expected = {p: d for p, (d, _) in snapshot(tmp_path / "sorted" / "rendered").items()}
    actual = {p: d for p, (d, _) in snapshot(tmp_path / "shuffled" / "rendered").items()}
    assert actual == expected
