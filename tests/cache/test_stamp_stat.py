"""Stamps by file status (generator.cache.stamp), as git's index: a file whose size, times (to the
stamp's tick), inode and mode are the recorded ones is taken as unchanged without being read, and
any other change is still caught, down to an edit that leaves every compared field equal.

Two kinds of fleet are stamped. ``settled``: the stamp's tick is made short (50 ms) and the files
are left to age a few ticks before the stamp is recorded, so every status may vouch for its file
alone and the statuses are what is compared. ``coarse``: the tick is made so long (31 years) that
every time falls in one tick, as on a file system that keeps no usable times; every file is then
racily clean, and only the racy-timestamp rule (read it, compare its digest) can see an edit."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from generator.cache import records
from generator.cache.stamp import Stamps, inputs_of
from generator.cache.store import RenderCache
from generator.pipeline import render
from generator.problems import format_problems
from support.cli import said, tree
from support.fleets import VSPHERE_DEFAULTS, write_tree

NS = "network:\n  nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}\n"
POOL = ("ipPools:\n  p:\n    gateway: 10.0.0.1\n    prefix: 24\n"
        "    addresses: [10.0.0.1-10.0.0.60]\n")
WEB = "controlPlane: {endpoint: 10.9.0.1}\nnetwork: {nodes: {ipPool: p}}\noverlays: [team]\n"
OVERLAY = "labels:\n- pairs: {team: %s}\n"
SHORT_TICK, COARSE_TICK = 50_000_000, 10**18  # ns: 50 ms; 31 years
INPUT, RENDERED = "clusters/dev/web.yaml", "rendered/mgmt-a/dev/web/cluster.yaml"


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fleet"
    write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS + NS + POOL,
                      "clusters/dev/web.yaml": WEB,
                      "clusters/dev/api.yaml": "controlPlane: {endpoint: 10.9.0.2}\n",
                      "overlays/team/overlay.yaml": OVERLAY % "a"})
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    return root


def stamped(root: Path, monkeypatch: pytest.MonkeyPatch, tick: int) -> Stamps:
    """``root`` rendered and stamped with the tick ``tick``, in the cache the in-process command
    line uses; with the short tick, every file is a few ticks old when the stamp is recorded."""
    monkeypatch.setattr(records, "TICK_NS", tick)
    assert render(root).written
    if tick == SHORT_TICK:
        time.sleep(6 * tick / 1e9)
    stamps = Stamps(RenderCache(Path(os.environ["FLEETGEN_CACHE_DIR"])))
    inputs = inputs_of(root)
    result = render(root, check=True)
    stamps.record(inputs, format_problems(result.fleet.warnings, "text"), result.tree)
    assert answers(stamps, root)
    if tick == SHORT_TICK:  # what makes this fleet "settled": every status vouches
        recorded = stamps._entry(stamps.cache.read(stamps._at(root)) or "")
        assert recorded is not None
        assert all(recorded[0].settled) and all(recorded[1].files.settled)
        assert all(recorded[1].folders.settled)
    return stamps


def answers(stamps: Stamps, root: Path) -> bool:
    return stamps.lookup(root, inputs_of(root)) is not None


def compared(path: Path) -> tuple[int, ...]:
    """Every field of a status the stamp compares, times to its tick."""
    info = os.lstat(path)
    return (info.st_size, info.st_mtime_ns // records.TICK_NS, info.st_ctime_ns // records.TICK_NS,
            info.st_ino, info.st_mode)


def same_size_edit(path: Path) -> None:
    """Change one byte in place (a ``1`` into a ``2``), then put the modification time back."""
    before = os.lstat(path)
    data = path.read_bytes()
    at = data.index(b"1")
    with path.open("r+b") as handle:
        handle.seek(at)
        handle.write(b"2")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.read_bytes() != data and path.stat().st_size == before.st_size



def same_as_uncached(fleet: Path, tmp_path: Path) -> None:
    """Every command says and writes the same in ``fleet`` as in a copy that never saw a
    cache."""
    control = tmp_path / "control"
    shutil.copytree(fleet, control, symlinks=True)
    for args in (["render", "--check"], ["render"], ["render", "--check"], ["render"]):
        assert said(fleet, *args) == said(control, *args, "--no-cache"), args
    assert tree(fleet) == tree(control)


@pytest.mark.parametrize("name", [INPUT, RENDERED])
def test_a_same_size_edit_within_one_tick_is_caught(fleet: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    name: str) -> None:
    """The issue's requirement: on a file system whose times are too coarse to show an edit,
    the edit leaves every compared field of the status equal; the racy-timestamp rule still
    reads the file and sees it."""
    stamps = stamped(fleet, monkeypatch, COARSE_TICK)
    path = fleet / name
    status = compared(path)
    same_size_edit(path)
    assert compared(path) == status  # nothing a status can show
    assert not answers(stamps, fleet)
    same_as_uncached(fleet, tmp_path)


@pytest.mark.parametrize("name", [INPUT, RENDERED])
def test_a_same_size_edit_with_its_time_put_back_is_caught(fleet: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          name: str) -> None:
    """Size and modification time as recorded: the change time (which no one can put back)
    shows the edit."""
    stamps = stamped(fleet, monkeypatch, SHORT_TICK)
    path = fleet / name
    status = os.lstat(path)
    same_size_edit(path)
    after = os.lstat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (status.st_size, status.st_mtime_ns, status.st_ino)
    assert not answers(stamps, fleet)
    same_as_uncached(fleet, tmp_path)


@pytest.mark.parametrize("tick", [SHORT_TICK, COARSE_TICK])
@pytest.mark.parametrize("name", [INPUT, RENDERED])
def test_a_file_replaced_by_another_is_caught(fleet: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, name: str,
                                              tick: int) -> None:
    """Another file of the same size and times moved over it (a new inode)."""
    stamps = stamped(fleet, monkeypatch, tick)
    path = fleet / name
    status = os.lstat(path)
    other = path.with_name("other.tmp")
    other.write_bytes(path.read_bytes().replace(b"1", b"2", 1))
    os.utime(other, ns=(status.st_atime_ns, status.st_mtime_ns))
    os.replace(other, path)
    after = os.lstat(path)
    assert (after.st_size, after.st_mtime_ns) == (status.st_size, status.st_mtime_ns)
    assert after.st_ino != status.st_ino
    assert not answers(stamps, fleet)
    same_as_uncached(fleet, tmp_path)


ADDED = {"inputs": "overlays/team/notes.yaml", "rendered": "rendered/mgmt-a/dev/web/notes.yaml"}
REMOVED = {"inputs": "clusters/dev/api.yaml", "rendered": "rendered/mgmt-a/dev/web/cluster.yaml"}


@pytest.mark.parametrize("tick", [SHORT_TICK, COARSE_TICK])
@pytest.mark.parametrize("where", ["inputs", "rendered"])
@pytest.mark.parametrize("change", ["added", "removed"])
def test_an_added_or_removed_file_is_caught(fleet: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, change: str,
                                            where: str, tick: int) -> None:
    """A file added or removed, its folder's modification time put back afterwards."""
    stamps = stamped(fleet, monkeypatch, tick)
    path = fleet / (ADDED if change == "added" else REMOVED)[where]
    folder = os.lstat(path.parent)
    if change == "added":
        path.write_text("x: 1\n")
    else:
        path.unlink()
    os.utime(path.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    assert not answers(stamps, fleet)
    same_as_uncached(fleet, tmp_path)


@pytest.mark.parametrize("name", [INPUT, RENDERED])
def test_touch_or_the_same_bytes_in_a_new_file_keep_the_stamp(
        fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A status that changed while the bytes did not: the file is read, its digest is the
    recorded one, and the stamp still answers (only bytes matter)."""
    stamps = stamped(fleet, monkeypatch, SHORT_TICK)
    path = fleet / name
    os.utime(path)
    assert answers(stamps, fleet)
    copy = path.with_name("copy.tmp")
    shutil.copyfile(path, copy)
    os.replace(copy, path)
    assert answers(stamps, fleet)
    same_as_uncached(fleet, tmp_path)


def test_an_answer_from_statuses_is_word_for_word_the_full_commands(
        fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once every status vouches (the racily clean records are brought up to date by the
    answers themselves, as git refreshes its index), the command line answers from the
    statuses, and says what the full command says."""
    monkeypatch.setattr(records, "TICK_NS", SHORT_TICK)
    control = tmp_path / "control"
    shutil.copytree(fleet, control)
    assert said(fleet, "render") == said(control, "render", "--no-cache")
    time.sleep(6 * SHORT_TICK / 1e9)
    for args in (["render"], ["render", "--check"], ["render", "-q"]):
        assert said(fleet, *args) == said(control, *args, "--no-cache"), args
    stamps = Stamps(RenderCache(tmp_path / "cache"))
    recorded = stamps._entry(stamps.cache.read(stamps._at(fleet.resolve())) or "")
    assert recorded is not None and all(recorded[0].settled) and all(recorded[1].files.settled)
    assert stamps.lookup(fleet.resolve(), inputs_of(fleet.resolve())) is not None
    assert tree(fleet) == tree(control)


@pytest.mark.parametrize("tick", [SHORT_TICK, COARSE_TICK])
def test_a_copy_of_the_fleet_elsewhere_is_answered_by_digest(fleet: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             tick: int) -> None:
    """A copy (another checkout sharing the cache, as CI restores it) has other inodes and
    times: no status vouches, every file is read, and the stamp answers only while every byte is
    the recorded one."""
    stamps = stamped(fleet, monkeypatch, tick)
    copy = tmp_path / "elsewhere"
    shutil.copytree(fleet, copy)
    assert answers(stamps, copy)
    same_size_edit(copy / RENDERED)
    assert not answers(stamps, copy)
    assert answers(stamps, fleet)
