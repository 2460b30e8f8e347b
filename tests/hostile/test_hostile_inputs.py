"""Every input file is read through one reader (``paths.read_input``): below the fleet root no
path component may be a symlink, only regular files are read (not ``/proc`` files, FIFOs or
devices), and no file may be larger than ``paths.MAX_INPUT_BYTES`` (issue 14, item 2).

An overlay file, a patch file, ``fleetgen.yaml``, an inventory or a template that is a link out
of the repository, a FIFO that would block the run forever or a huge file: each is refused with
a located ``symlink`` / ``unreadable`` / ``too-large`` problem and exit 2, its content is neither
obeyed nor printed, and rendered/ is left byte- and mtime-identical.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType
from typing import Iterator

import pytest

import generator.paths
from support.hostile import WEB, WEB_FILE, assert_refused, write

# What the file outside the repository says: obeyed, it would land in rendered/ or in an error.
STOLEN = "commonAnnotations: {stolen-from-outside: 'yes'}\nsecretKeyOfTheHost: 1\n"
LINK = "is a symlink; fleetgen reads no input through a symlink"
LINK_HINT = "  hint: replace the link with a copy of the file (inside the repository)"
SPECIAL = "is not a regular file (a FIFO, a device or a file of /proc)"
SPECIAL_HINT = "  hint: fleetgen reads only regular files inside the repository"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "overlay.yaml").write_text(STOLEN)
    (folder / "patch.yaml").write_text("- op: add\n  path: /metadata/labels/stolen\n"
                                       "  value: from-outside\n")
    (folder / "fleetgen.yaml").write_text("gitops: {repository: https://attacker.example/x.git,"
                                          " argocd: {}}\n")
    return folder


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging when a read blocks (a FIFO opened without O_NONBLOCK)."""
    def fire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError("fleetgen blocked on a read")
    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_an_overlay_file_linked_out_of_the_repository_is_not_obeyed(fleet: Path,
                                                                    outside: Path) -> None:
    write(fleet, {WEB_FILE: WEB + "overlays: [evil]\n"})
    (fleet / "overlays/evil").mkdir(parents=True)
    os.symlink(outside / "overlay.yaml", fleet / "overlays/evil/overlay.yaml")
    result = assert_refused(fleet, [f"overlays/evil/overlay.yaml: error[symlink]: {LINK}",
                                    LINK_HINT])
    assert "secretKeyOfTheHost" not in result.output


def test_a_patch_file_linked_out_of_the_repository_is_not_read(fleet: Path,
                                                              outside: Path) -> None:
    write(fleet, {WEB_FILE: WEB + "overlays: [team]\n",
                  "overlays/team/overlay.yaml": "patches:\n- path: patch.yaml\n"
                                                "  target: {kind: Cluster}\n"})
    os.symlink(outside / "patch.yaml", fleet / "overlays/team/patch.yaml")
    assert_refused(fleet, [f"overlays/team/patch.yaml: error[symlink]: {LINK}", LINK_HINT])


def test_a_folder_of_patch_files_linked_out_of_the_repository_is_not_read(
        fleet: Path, outside: Path) -> None:
    write(fleet, {WEB_FILE: WEB + "overlays: [team]\n",
                  "overlays/team/overlay.yaml": "patches:\n- path: more/patch.yaml\n"
                                                "  target: {kind: Cluster}\n"})
    os.symlink(outside, fleet / "overlays/team/more")
    assert_refused(fleet, [f"overlays/team/more: error[symlink]: {LINK}", LINK_HINT])


def test_fleetgen_yaml_linked_out_of_the_repository_is_not_obeyed(fleet: Path,
                                                                 outside: Path) -> None:
    os.symlink(outside / "fleetgen.yaml", fleet / "fleetgen.yaml")
    result = assert_refused(fleet, [f"fleetgen.yaml: error[symlink]: {LINK}", LINK_HINT])
    assert "attacker" not in result.output


def test_fleetgen_yaml_linked_to_proc_is_a_located_error(fleet: Path) -> None:
    os.symlink("/proc/self/pagemap", fleet / "fleetgen.yaml")
    assert_refused(fleet, [f"fleetgen.yaml: error[symlink]: {LINK}", LINK_HINT])


@pytest.mark.parametrize("rel", ["fleetgen.yaml", "clusters/dev/db.yaml",
                                 "overlays/team/overlay.yaml", "templates/features.yaml.j2"])
def test_a_fifo_never_blocks_the_run(fleet: Path, alarm: None, rel: str) -> None:
    if rel.startswith("overlays/"):
        write(fleet, {WEB_FILE: WEB + "overlays: [team]\n"})
    (fleet / rel).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fleet / rel)
    assert_refused(fleet, [f"{rel}: error[unreadable]: {SPECIAL}", SPECIAL_HINT])


def test_a_huge_input_file_is_refused_before_it_is_read(fleet: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator.paths, "MAX_INPUT_BYTES", 4096)
    write(fleet, {WEB_FILE: WEB + "overlays: [team]\n",
                  "overlays/team/overlay.yaml": "# padding\n" * 500})
    assert_refused(fleet, ["overlays/team/overlay.yaml: error[too-large]: the file has 5000 "
                           "bytes, more than the 4096 an input file may have",
                           "  hint: fleetgen's inputs are small text files; split it, or check "
                           "that it is the file you meant"])


def test_a_link_inside_overlays_to_another_overlay_still_works(fleet: Path) -> None:
    """An alias folder (a link to another overlay's folder, inside overlays/) keeps working: the
    folder is resolved inside overlays/, and the file read has no link in its path."""
    write(fleet, {WEB_FILE: WEB + "overlays: [alias]\n",
                  "overlays/team/overlay.yaml": "labels:\n- pairs: {team: a}\n"})
    os.symlink("team", fleet / "overlays/alias")
    from support.cli import fleetgen
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert "team: a" in (fleet / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()
