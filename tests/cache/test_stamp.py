"""Stamps (generator.cache.stamp): a render or ``render --check`` of an unchanged fleet is answered
without rendering, and it says exactly what the full render says. Any change to the inputs or to
rendered/ means the full render runs.

Most cases run in process: the stamp is recorded after a ``generator.pipeline.render`` and looked
up with ``Stamps``/``inputs_of``, and the command line (in process, sharing the stamp's cache) is
compared with one that never saw a cache. Three cases start the real ``fleetgen`` program, whose
launcher answers from the stamp before the command line library (typer) is even imported."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cache.stamp import Stamps, inputs_of
from generator.cache.store import RenderCache
from generator.paths import INPUT_FILES, INPUT_FOLDERS
from generator.pipeline import render
from support.cli import said, tree
from support.fleets import VSPHERE_DEFAULTS, write_tree

REPO = Path(__file__).resolve().parents[2]
NS = "network:\n  nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}\n"
# A pool whose gateway is inside its addresses: a warning, which every render prints.
POOL = "ipPools:\n  p:\n    gateway: 10.0.0.1\n    prefix: 24\n    addresses: [10.0.0.1-10.0.0.60]\n"
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: p}}\noverlays: [team]\n"
OVERLAY = "labels:\n- pairs: {team: %s}\n"
UP_TO_DATE = "rendered/ is up to date\n"
# What the in-process stamps record as the render's warnings: printed only if a stamp answers.
RECORDED = "recorded-warning: printed only when the stamp answers\n"


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + POOL,
                      "clusters/dev/web.yaml": WEB,
                      "clusters/dev/api.yaml": "controlPlane: {endpoint: 10.9.0.2}\n",
                      "overlays/team/overlay.yaml": OVERLAY % "a"})
    return root


# --- in process ----------------------------------------------------------------------------------


@pytest.fixture
def stamped(fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stamps:
    """The fleet rendered by the pipeline and stamped, in the cache the in-process command line
    uses; the stamp answers (until something changes)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(cache))
    stamps = Stamps(RenderCache(cache))
    inputs = inputs_of(fleet)
    result = render(fleet)
    assert result.written
    stamps.record(inputs, RECORDED, result.tree)
    assert stamps.lookup(fleet, inputs_of(fleet)) == RECORDED
    return stamps


def answers(stamps: Stamps, root: Path) -> bool:
    return stamps.lookup(root, inputs_of(root)) is not None


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
                                                      stamped: Stamps, change: str) -> None:
    """The stamped fleet and a copy that never sees a cache take the same change; the stamp no
    longer answers, and every command then says and writes the same in both."""
    control = tmp_path / "control"
    shutil.copytree(fleet, control, symlinks=True)
    for root in (fleet, control):
        edit(root, change)
    assert not answers(stamped, fleet)
    for args in (["render", "--check"], ["render"], ["render", "--check"], ["render"]):
        assert said(fleet, *args) == said(control, *args, "--no-cache"), args
    assert tree(fleet) == tree(control)


@pytest.mark.parametrize("name", [*INPUT_FOLDERS, *INPUT_FILES])
def test_an_edit_in_any_input_folder_or_file_makes_the_stamp_miss(fleet: Path, stamped: Stamps,
                                                                  name: str) -> None:
    path = fleet / name / "edited.txt" if name in INPUT_FOLDERS else fleet / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    assert not answers(stamped, fleet)


def test_an_edit_outside_the_inputs_and_rendered_keeps_the_stamp(fleet: Path,
                                                                 stamped: Stamps) -> None:
    write_tree(fleet, {"README.md": "notes\n", "docs/notes.yaml": "x: 1\n"})
    assert answers(stamped, fleet)


def test_a_corrupt_or_foreign_stamp_is_ignored(fleet: Path, tmp_path: Path,
                                               stamped: Stamps) -> None:
    database = next((tmp_path / "cache").rglob(RenderCache.FILE))
    for text in ("", "{", '{"rendered": 1, "warnings": ""}', '{"rendered": "0" }',
                 '{"rendered": "00", "warnings": ""}'):
        with sqlite3.connect(database) as db:  # every entry, the stamp among them
            db.execute("UPDATE entries SET value = ?", (text,))
        assert not answers(stamped, fleet), text
        assert said(fleet, "render", "--check") == (0, UP_TO_DATE, ""), text  # the full check


# --- the fleetgen program ------------------------------------------------------------------------


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


def test_an_unchanged_fleet_is_answered_by_the_program_as_a_full_run_would(
        fleet: Path, tmp_path: Path) -> None:
    """What a stamp answers is byte for byte what the full render prints, and the command line
    library is never imported, whichever way the command line is spelled."""
    cache = tmp_path / "cache"
    code, _out, err, _typer = run(fleet, cache, "render")
    assert code == 0 and "warning[pool-gateway-in-range]" in err
    for args in (["render"], ["render", "--check"], ["render", "-q", "-j", "2"],
                 ["render", "--quiet", "--check", "--root", "."],
                 ["render", "--root=.", "--jobs=1"]):
        full = run(fleet, cache, *args, "--no-cache")
        stamped = run(fleet, cache, *args)
        assert full[3] and not stamped[3], args  # the stamp answered: typer was never imported
        assert stamped[:3] == full[:3], args
        assert stamped[1] == UP_TO_DATE


def test_other_command_lines_take_the_normal_way(fleet: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run(fleet, cache, "render")[0] == 0
    for args in (["render", "--select", "web"], ["render", "--force"], ["render", "-qj2"],
                 ["render", "--check", "--check"], ["render", "--jobs", "0"],
                 ["render", "--bogus"]):
        assert run(fleet, cache, *args)[3], args


def test_after_a_change_the_program_renders_and_stamps_again(fleet: Path, tmp_path: Path) -> None:
    """After an edit the program takes the full way and says what a program without a cache says;
    the render stamps the new inputs, so the next check is answered again."""
    cache = tmp_path / "cache"
    assert run(fleet, cache, "render")[0] == 0
    control = tmp_path / "control"
    shutil.copytree(fleet, control, symlinks=True)
    for root in (fleet, control):
        edit(root, "inventory")
    for args, answered in ((["render", "--check"], False), (["render"], False),
                           (["render", "--check"], True)):
        stamped = run(fleet, cache, *args)
        uncached = run(control, tmp_path / "no-cache", *args, "--no-cache")
        assert stamped[3] != answered, args
        assert stamped[:3] == uncached[:3], (args, stamped, uncached)
    assert tree(fleet) == tree(control)
