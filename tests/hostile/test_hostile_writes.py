"""Faults while writing (issue 9, stages 5 and 7): crashes at seeded random points (exceptions
injected in-process, and ``kill -9`` of a real ``python -m generator render``), no space left,
permission denied, two concurrent renders, Ctrl-C, hand edits, and internal errors.

The guarantees (generator/write/): every file below rendered/ is complete at every moment (its
old or its new bytes); a failure while the new files are being written leaves rendered/ exactly
as it was; a crash while they are being moved into place leaves a mix of old and new files that
the next run recognises as its own and completes, converging to the bytes of a clean run; the
lock is released by the kernel whatever kills its holder; and a run never leaves a temporary
file or its lock behind when it exits (a killed run's leftovers are removed by the next run).
"""

from __future__ import annotations

import errno
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import generator.write.apply
import generator.write.files
import generator.write.plan
from generator.write.files import locked
from support.cli import fleetgen
from support.hostile import (API, LOCK, WEB, WEB_FILE, assert_clean, assert_refused, copy_fleet,
                             leftovers, state, write)

REPO = Path(__file__).resolve().parents[2]
SEED = 20261127  # fixed: CI always tries the same crash points
NEW = {WEB_FILE: WEB + "cni: calico\nworkers: [{name: md-0, replicas: 3}]\n",
       "clusters/dev/db.yaml": "controlPlane:\n  endpoint: 10.0.0.12\n"}
WEB_CLUSTER = "mgmt-a/dev/web/cluster.yaml"
JOURNAL = ".fleetgen-pending.json"
NOTHING = "1 error; nothing was written"

Tree = dict[str, bytes]


def files(root: Path) -> Tree:
    """rendered/ by content (the lock, the journal and temporary files left out)."""
    skip = set(leftovers(root)) | {f"rendered/{JOURNAL}"}
    return {path: data for path, (data, _mtime) in state(root).items()
            if f"rendered/{path}" not in skip}


def change(root: Path) -> Path:
    """The inventory change every crash test applies: web changes, api goes, db comes."""
    (root / "clusters/dev/api.yaml").unlink()
    return write(root, NEW)


@pytest.fixture(scope="module")
def before_after(primed: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tree, Tree]:
    """rendered/ before the change, and after a clean (fault-free) render of it."""
    clean = copy_fleet(primed, tmp_path_factory.mktemp("clean") / "fleet")
    old = files(clean)
    change(clean)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        assert fleetgen(clean, "render").exit_code == 0
    return old, files(clean)


def assert_complete(root: Path, old: Tree, new: Tree) -> None:
    """Every file is whole: its old bytes or its new bytes. A missing file is one that is being
    created or deleted, never one that both runs have."""
    now = files(root)
    for path, data in now.items():
        assert data in (old.get(path), new.get(path)), f"rendered/{path} is neither old nor new"
    for path in (set(old) & set(new)) - set(now):
        raise AssertionError(f"rendered/{path} disappeared")


def assert_converges(root: Path, new: Tree, *, check: bool = True) -> None:
    result = fleetgen(root, "render")
    assert result.exit_code == 0, result.output
    assert files(root) == new
    assert_clean(root)
    assert not (root / "rendered" / JOURNAL).exists()
    if check:
        assert fleetgen(root, "render", "--check").stdout == "rendered/ is up to date\n"


class Faults:
    """Raise ``error`` at the ``n``-th call of ``generator.write.files._stage`` (writing a temporary
    file: journal, data files, manifest), of ``os.replace`` (moving one into place) or of
    ``atomic_write`` where ``generator.write.apply`` calls it (journal and manifest)."""

    def __init__(self, patch: pytest.MonkeyPatch, where: str, n: int, error: BaseException):
        self.where, self.n, self.error, self.calls = where, n, error, 0
        target = {"stage": (generator.write.files, "_stage"), "replace": (os, "replace"),
                  "atomic": (generator.write.apply, "atomic_write")}[where]
        real = getattr(*target)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if "/rendered/" in str(args[-1] if where == "replace" else args[0]):  # not the cache
                self.calls += 1
                if self.calls == self.n:
                    raise self.error
            return real(*args, **kwargs)

        patch.setattr(*target, wrapper)


def count_calls(root: Path, where: str, scratch: Path) -> int:
    with pytest.MonkeyPatch.context() as patch:
        faults = Faults(patch, where, 0, RuntimeError())
        assert fleetgen(copy_fleet(root, scratch / f"count-{where}"), "render").exit_code == 0
    return faults.calls


EXIT = {OSError: 2, RuntimeError: 3, KeyboardInterrupt: 130}


def error_for(kind: type[BaseException]) -> BaseException:
    if kind is OSError:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return kind("injected fault")


IN_PROCESS, KILLED, KILLED_AT_RANDOM = 44, 4, 2  # 50 crash points in all


def crash_points() -> list[tuple[str, int, type[BaseException]]]:
    """Seeded points: the three hooks at random call numbers with random faults."""
    rng = random.Random(SEED)
    return [(rng.choice(["stage", "replace", "atomic"]), rng.randint(1, 12),
             rng.choice([OSError, RuntimeError, KeyboardInterrupt])) for _ in range(IN_PROCESS)]


def test_a_fault_at_any_write_leaves_complete_files_and_the_next_run_converges(
        fleet: Path, before_after: tuple[Tree, Tree], tmp_path: Path) -> None:
    old, new = before_after
    change(fleet)
    calls = {where: count_calls(fleet, where, tmp_path) for where in ("stage", "replace", "atomic")}
    assert calls["stage"] >= 9 and calls["atomic"] == 2  # journal, 7 files, manifest
    tried = 0
    for index, (where, n, kind) in enumerate(crash_points()):
        n = (n - 1) % calls[where] + 1
        root = copy_fleet(fleet, tmp_path / f"run{index}")
        with pytest.MonkeyPatch.context() as patch:
            if index % 2:  # stage this small fleet's files with one sync, as a large one is
                patch.setattr(generator.write.files, "SYNC_ONCE_FROM", 2)
            Faults(patch, where, n, error_for(kind))
            result = fleetgen(root, "render")
        assert result.exit_code == EXIT[kind], (where, n, kind, result.output)
        if kind is OSError:
            assert result.stderr.startswith("rendered/") and "error[write-failed]: cannot " \
                "write: No space left on device" in result.stderr
        assert_clean(root)
        assert_complete(root, old, new)
        if where == "stage" and n < calls["stage"]:  # all but the manifest: nothing moved yet
            assert files(root) == old
        assert_converges(root, new, check=index % 4 == 0)
        tried += 1
    assert tried == IN_PROCESS


BOOTSTRAP = """
import os, signal, sys, tempfile, time
import generator.write.files as w
where, n = sys.argv[1], float(sys.argv[2])
calls = {"stage": 0, "replace": 0}
real_stage, real_replace = w._stage, os.replace
def die():
    os.kill(os.getpid(), signal.SIGKILL)
def stage(path, data, created=None, **options):
    calls["stage"] += 1
    if where == "stage" and calls["stage"] == n:  # die halfway through a temporary file
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.fleetgen-",
                                   suffix=".tmp")
        os.write(fd, data[: len(data) // 2])
        die()
    if where == "slow":
        time.sleep(n)
    return real_stage(path, data, created, **options)
def replace(src, dst):
    if "/rendered/" not in str(dst):  # the render cache
        return real_replace(src, dst)
    calls["replace"] += 1
    if where == "replace" and calls["replace"] == n:
        die()
    real_replace(src, dst)
    if where == "after-replace" and calls["replace"] == n:
        die()
w._stage = stage
os.replace = replace
from generator.cli import main
sys.argv = ["fleetgen", *sys.argv[3:]]
main()
"""


def fleetgen_process(root: Path, where: str, n: float, *args: str) -> subprocess.Popen[str]:
    """``fleetgen render --root ROOT`` in its own process, with a fault hook (see BOOTSTRAP)."""
    return subprocess.Popen([sys.executable, "-c", BOOTSTRAP, where, str(n), "render",
                             "--root", str(root), *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_at_seeded_points_leaves_complete_files_and_the_next_run_converges(
        fleet: Path, before_after: tuple[Tree, Tree], tmp_path: Path) -> None:
    old, new = before_after
    change(fleet)
    rng = random.Random(SEED + 1)
    points = [("stage", rng.randint(1, 7)), ("replace", rng.randint(1, 7)),
              *(("after-replace", rng.randint(1, 7)) for _ in range(KILLED - 2))]
    for index, (where, n) in enumerate(points):
        root = copy_fleet(fleet, tmp_path / f"kill{index}")
        process = fleetgen_process(root, where, n)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, (where, n)
        assert_complete(root, old, new)
        assert_converges(root, new)  # removes the temporary files the kill left


def test_kill_9_of_python_m_generator_at_random_moments(
        fleet: Path, before_after: tuple[Tree, Tree], tmp_path: Path) -> None:
    old, new = before_after
    change(fleet)
    rng = random.Random(SEED + 2)
    for index in range(KILLED_AT_RANDOM):
        root = copy_fleet(fleet, tmp_path / f"timed{index}")
        process = subprocess.Popen([sys.executable, "-m", "generator", "render", "--root",
                                    str(root)], cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (root / LOCK).exists() and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.03))  # somewhere in the write phase, or just after it
        process.kill()
        process.wait(timeout=60)
        assert_complete(root, old, new)
        assert_converges(root, new)


def test_a_crash_then_a_changed_inventory_is_not_taken_for_a_hand_edit(
        fleet: Path, before_after: tuple[Tree, Tree]) -> None:
    # The crashed run's new files are in its journal, so the next run owns them even though the
    # manifest was not updated, and converges to whatever the inventory now says.
    old, _new = before_after
    change(fleet)
    process = fleetgen_process(fleet, "after-replace", 4)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert files(fleet) != old
    write(fleet, {WEB_FILE: WEB, "clusters/dev/api.yaml": API})
    (fleet / "clusters/dev/db.yaml").unlink()
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert files(fleet) == old
    assert_clean(fleet)


def test_no_space_left_names_the_file_and_changes_nothing(fleet: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real = generator.write.files._stage

    def full(path: Path, data: bytes, created: list[Path] | None = None, **options: Any) -> str:
        if path.as_posix().endswith(WEB_CLUSTER):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data, created, **options)

    monkeypatch.setattr(generator.write.files, "_stage", full)
    change(fleet)
    assert_refused(fleet, [
        f"rendered/{WEB_CLUSTER}: error[write-failed]: cannot write: No space left on device",
        "  hint: free space or fix permissions, then render again: rendered/ was not changed"])
    assert not (fleet / "rendered/mgmt-a/dev/db").exists()


def test_a_failing_rename_names_the_file_and_keeps_its_old_content(
        fleet: Path, monkeypatch: pytest.MonkeyPatch, before_after: tuple[Tree, Tree]) -> None:
    old, new = before_after
    real = os.replace

    def no_space(src: Any, dst: Any) -> None:
        if str(dst).endswith(WEB_CLUSTER):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst)

    monkeypatch.setattr(os, "replace", no_space)
    change(fleet)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"rendered/{WEB_CLUSTER}: error[write-failed]: cannot write: No space left on device",
        "  hint: free space or fix permissions, then render again: files already replaced are "
        "complete"]
    assert files(fleet)[WEB_CLUSTER] == old[WEB_CLUSTER]
    assert_clean(fleet)
    assert_complete(fleet, old, new)
    monkeypatch.setattr(os, "replace", real)
    assert_converges(fleet, new)


def test_a_partial_write_is_not_reported_as_nothing_written(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace

    def no_space(src: Any, dst: Any) -> None:
        if str(dst).endswith(WEB_CLUSTER):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst)

    monkeypatch.setattr(os, "replace", no_space)
    change(fleet)
    assert NOTHING not in fleetgen(fleet, "render").stderr


def test_permission_denied_names_the_file_and_changes_nothing(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.open

    def denied(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # Creating a temporary file in that folder (how a read-only folder answers).
        if "mgmt-a/dev/web/." in str(path) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    change(fleet)
    assert_refused(fleet, [
        "rendered/mgmt-a/dev/web/addons.yaml: error[write-failed]: cannot write: "
        "Permission denied",
        "  hint: free space or fix permissions, then render again: rendered/ was not changed"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_read_only_folder_names_the_file_and_changes_nothing(fleet: Path) -> None:
    folder = fleet / "rendered/mgmt-a/dev/web"
    folder.chmod(0o555)
    try:
        change(fleet)
        assert_refused(fleet, [
            "rendered/mgmt-a/dev/web/addons.yaml: error[write-failed]: cannot write: "
            "Permission denied",
            "  hint: free space or fix permissions, then render again: rendered/ was not "
            "changed"])
    finally:
        folder.chmod(0o755)


def test_a_second_render_fails_fast_naming_the_holder(fleet: Path) -> None:
    change(fleet)
    before = state(fleet)
    with locked(fleet / "rendered"):
        started = time.monotonic()
        result = fleetgen(fleet, "render")
        assert time.monotonic() - started < 5
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"rendered/.fleetgen.lock: error[locked]: another fleetgen render (pid {os.getpid()} "
            f"on {socket.gethostname()}) is writing rendered/",
            "  hint: wait for it to finish, then render again", NOTHING]
        assert (fleet / LOCK).exists()
        assert leftovers(fleet) == ["rendered/.fleetgen.lock"]
    assert state(fleet) == before
    assert_clean(fleet)


def test_two_concurrent_renders_give_the_result_of_one(
        fleet: Path, before_after: tuple[Tree, Tree]) -> None:
    _old, new = before_after
    change(fleet)
    first = fleetgen_process(fleet, "slow", 0.2)  # 0.2 s per file written
    deadline = time.monotonic() + 60
    while not (fleet / LOCK).exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.005)
    second = fleetgen(fleet, "render")
    assert second.exit_code == 2
    assert second.stderr.splitlines()[0] == (
        f"rendered/.fleetgen.lock: error[locked]: another fleetgen render (pid {first.pid} on "
        f"{socket.gethostname()}) is writing rendered/")
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert files(fleet) == new
    assert_clean(fleet)


def test_a_lock_left_by_a_killed_render_is_taken_over(
        fleet: Path, before_after: tuple[Tree, Tree]) -> None:
    _old, new = before_after
    change(fleet)
    (fleet / LOCK).write_text(f"{socket.gethostname()} 999999999")  # nobody holds its flock
    assert_converges(fleet, new)


def test_ctrl_c_mid_write_exits_130_and_leaves_rendered_as_it_was(
        fleet: Path, monkeypatch: pytest.MonkeyPatch, before_after: tuple[Tree, Tree]) -> None:
    old, new = before_after
    change(fleet)
    with pytest.MonkeyPatch.context() as patch:
        Faults(patch, "stage", 4, KeyboardInterrupt())
        result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stderr) == (130, "interrupted\n")
    assert files(fleet) == old
    assert_clean(fleet)
    assert_converges(fleet, new)


def test_sigint_to_a_real_render_exits_130_cleanly(
        fleet: Path, before_after: tuple[Tree, Tree]) -> None:
    old, new = before_after
    change(fleet)
    process = fleetgen_process(fleet, "slow", 0.2)
    while not (fleet / LOCK).exists():
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "interrupted\n")
    assert files(fleet) == old
    assert_clean(fleet)
    assert_converges(fleet, new)


def test_a_hand_edited_file_is_refused_without_force_and_the_edit_kept(fleet: Path) -> None:
    target = fleet / f"rendered/{WEB_CLUSTER}"
    edited = target.read_text().replace("replicas: 1", "replicas: 5")
    target.write_text(edited)
    change(fleet)
    assert_refused(fleet, [
        f"rendered/{WEB_CLUSTER}: error[hand-edited]: this generated file was edited by hand",
        "  hint: move your edit into the inventory or an overlay, or pass --force"])
    assert target.read_text() == edited
    assert fleetgen(fleet, "render", "--force").exit_code == 0
    assert "replicas: 5" not in target.read_text()


def test_a_hand_edited_file_of_a_removed_cluster_is_kept(fleet: Path) -> None:
    target = fleet / "rendered/mgmt-a/dev/api/cluster.yaml"
    target.write_text(target.read_text() + "# mine\n")
    change(fleet)
    assert_refused(fleet, [
        "rendered/mgmt-a/dev/api/cluster.yaml: error[hand-edited]: this generated file was "
        "edited by hand and its cluster is gone",
        "  hint: move your edit into the inventory or an overlay, or pass --force to delete it"])
    assert target.read_text().endswith("# mine\n")


def test_temporary_files_of_a_killed_run_are_listed_and_removed(fleet: Path) -> None:
    stray = fleet / "rendered/mgmt-a/dev/web/.cluster.yaml.fleetgen-abcd1234.tmp"
    stray.write_text("half a file")
    mine = fleet / "rendered/mgmt-a/dev/web/.notes.tmp"  # not fleetgen's: never touched
    mine.write_text("mine")
    check = fleetgen(fleet, "render", "--check")
    assert (check.exit_code, check.stdout) == (1, "remove rendered/mgmt-a/dev/web/"
                                               ".cluster.yaml.fleetgen-abcd1234.tmp (left by an "
                                               "interrupted render)\n")
    assert fleetgen(fleet, "render").exit_code == 0
    assert not stray.exists() and mine.read_text() == "mine"


# --- internal errors (stage 7) -------------------------------------------------------------

REPORT = ["An unexpected error has occurred: RuntimeError: injected fault",
          "This is a bug in fleetgen; please report it with the command you ran."]


def test_an_internal_error_exits_3_asks_for_a_report_and_writes_nothing(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(data: bytes) -> str:
        secret_local = "must-not-be-printed"  # noqa: F841 - a local a traceback would show
        raise RuntimeError("injected fault")

    monkeypatch.setattr(generator.write.plan, "digest", boom)
    change(fleet)
    before = state(fleet)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 3
    assert result.output.splitlines() == REPORT  # no traceback, no local variables
    assert state(fleet) == before
    assert_clean(fleet)


def test_an_internal_error_while_writing_leaves_rendered_as_it_was(
        fleet: Path, before_after: tuple[Tree, Tree]) -> None:
    old, new = before_after
    change(fleet)
    with pytest.MonkeyPatch.context() as patch:
        Faults(patch, "stage", 3, RuntimeError("injected fault"))
        result = fleetgen(fleet, "render")
    assert (result.exit_code, result.output.splitlines()) == (3, REPORT)
    assert files(fleet) == old
    assert_clean(fleet)
    assert_converges(fleet, new)
