"""Stamps (generator.cache.stamp): a render or ``render --check`` of an unchanged fleet is answered
without rendering, and it says exactly what the full render says. Any change to the inputs or to
rendered/ means the full render runs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cache import stamp
from generator.cache.store import RenderCache
from generator.paths import CLUSTERS_DIR, OVERLAYS_DIR, RENDERED_DIR, SETTINGS_FILE, TEMPLATES_DIR
from support.fleets import VSPHERE_DEFAULTS, write_tree

REPO = Path(__file__).resolve().parents[2]
NS = "network:\n  nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}\n"
# A pool whose gateway is inside its addresses: a warning, which every render prints.
POOL = "ipPools:\n  p:\n    gateway: 10.0.0.1\n    prefix: 24\n    addresses: [10.0.0.1-10.0.0.60]\n"
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: p}}\noverlays: [team]\n"
OVERLAY = "labels:\n- pairs: {team: %s}\n"


def run(root: Path, cache: Path, *args: str) -> tuple[int, str, str, bool]:
    """``fleetgen ARGS`` as its own process: exit code, stdout, stderr, and whether the command
    line library was loaded (it is not when a stamp answered)."""
    env = {**os.environ, "FLEETGEN_CACHE_DIR": str(cache), "NO_COLOR": "1",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "generator", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    imports = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    stderr = "".join(f"{line}\n" for line in proc.stderr.splitlines()
                     if not line.startswith("import time:"))
    typer = any(line.split("|")[-1].strip() == "typer" for line in imports)
    return proc.returncode, proc.stdout, stderr, typer


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + POOL,
                      "clusters/dev/web.yaml": WEB,
                      "clusters/dev/api.yaml": "controlPlane: {endpoint: 10.9.0.2}\n",
                      "overlays/team/overlay.yaml": OVERLAY % "a"})
    return root


def test_the_input_and_output_names_are_the_pipelines() -> None:
    assert stamp.INPUT_FOLDERS == (CLUSTERS_DIR, OVERLAYS_DIR, TEMPLATES_DIR)
    assert stamp.INPUT_FILES == (SETTINGS_FILE,)
    assert stamp.RENDERED_DIR == RENDERED_DIR


@pytest.mark.parametrize("args", [["render"], ["render", "--check"], ["render", "-q", "-j", "2"],
                                  ["render", "--quiet", "--check", "--root", "."],
                                  ["render", "--root=.", "--jobs=1"]])
def test_an_unchanged_fleet_is_answered_from_its_stamp_with_the_same_output(
        fleet: Path, tmp_path: Path, args: list[str]) -> None:
    cache = tmp_path / "cache"
    code, _out, err, _typer = run(fleet, cache, "render")
    assert code == 0 and "warning[pool-gateway-in-range]" in err
    full = run(fleet, cache, *args, "--no-cache")
    stamped = run(fleet, cache, *args)
    assert full[3] and not stamped[3]  # the stamp answered: typer was never imported
    assert stamped[:3] == full[:3]
    assert stamped[1] == "rendered/ is up to date\n"


@pytest.mark.parametrize("args", [["render", "--select", "web"], ["render", "--force"],
                                  ["render", "-qj2"], ["render", "--check", "--check"],
                                  ["render", "--jobs", "0"], ["render", "--bogus"]])
def test_other_command_lines_take_the_normal_way(fleet: Path, tmp_path: Path,
                                                 args: list[str]) -> None:
    cache = tmp_path / "cache"
    assert run(fleet, cache, "render")[0] == 0
    assert run(fleet, cache, *args)[3]


def edit(root: Path, change: str) -> None:
    rendered = root / "rendered/mgmt-a/dev/web/cluster.yaml"
    if change == "inventory":
        write_tree(root, {"clusters/dev/web.yaml": WEB + "cni: calico\n"})
    elif change == "defaults":
        defaults = root / "clusters/_defaults.yaml"
        defaults.write_text(defaults.read_text().replace("v1.27.5", "v1.28.7"))
    elif change == "new cluster":
        write_tree(root, {"clusters/dev/db.yaml": "controlPlane: {endpoint: 10.9.0.3}\n"})
    elif change == "local patch":
        write_tree(root, {"clusters/dev/web.overlay.yaml": OVERLAY % "local"})
    elif change == "overlay":
        write_tree(root, {"overlays/team/overlay.yaml": OVERLAY % "b"})
    elif change == "template":
        write_tree(root, {"templates/features.yaml.j2": "kind: Changed\nname: {{ c.name | yaml }}\n"})
    elif change == "settings":
        write_tree(root, {"fleetgen.yaml": "gitops:\n  flux: {}\n"})
    elif change == "hand edit":
        rendered.write_text(rendered.read_text().replace("replicas: 1", "replicas: 5"))
    elif change == "deleted file":
        rendered.unlink()
    elif change == "stray file":
        write_tree(root, {"rendered/mgmt-a/dev/web/notes.txt": "mine\n"})
    elif change == "lock":
        write_tree(root, {"rendered/.fleetgen.lock": "12345 otherhost\n"})
    elif change == "symlinked inventory":
        target = root / "clusters/dev/api.yaml"
        moved = root / "api.yaml"
        shutil.move(target, moved)
        target.symlink_to(moved)
    else:
        raise AssertionError(change)


CHANGES = ["inventory", "defaults", "new cluster", "local patch", "overlay", "template",
           "settings", "hand edit", "deleted file", "stray file", "lock", "symlinked inventory"]


@pytest.mark.parametrize("change", CHANGES)
def test_after_any_change_the_stamp_no_longer_answers(fleet: Path, tmp_path: Path,
                                                      change: str) -> None:
    """The stamped fleet and a copy that never saw the cache take the same change; every command
    then says and writes the same in both."""
    cache = tmp_path / "cache"
    assert run(fleet, cache, "render")[0] == 0
    assert not run(fleet, cache, "render", "--check")[3]  # stamped
    control = tmp_path / "control"
    shutil.copytree(fleet, control, symlinks=True)
    for root in (fleet, control):
        edit(root, change)
    for args in (["render", "--check"], ["render"], ["render", "--check"], ["render"]):
        stamped = run(fleet, cache, *args)
        uncached = run(control, tmp_path / "no-cache", *args, "--no-cache")
        assert stamped[:3] == uncached[:3], (args, stamped, uncached)
    assert tree(fleet) == tree(control)


def tree(root: Path) -> dict[str, bytes]:
    base = root / "rendered"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file()}


def test_a_corrupt_or_foreign_stamp_is_ignored(fleet: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run(fleet, cache, "render")[0] == 0
    assert not run(fleet, cache, "render", "--check")[3]
    database = next(cache.rglob(RenderCache.FILE))
    for text in ("", "{", '{"rendered": 1, "warnings": ""}', '{"rendered": "0" }',
                 '{"rendered": "00", "warnings": ""}'):
        with sqlite3.connect(database) as db:  # every entry, the stamp among them
            db.execute("UPDATE entries SET value = ?", (text,))
        result = run(fleet, cache, "render", "--check")
        assert result[0] == 0 and result[3], text  # the full check ran, and found no change
