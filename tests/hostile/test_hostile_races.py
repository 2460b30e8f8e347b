"""Lost data (issue 14, item 8): a hand edit made while a render runs is never overwritten, and
a render deletes only files that fleetgen's own layout could have written, whatever the
ownership manifest claims.

The races are made deterministic with hooks at the exact moments that matter (the lock being
taken, the new files being staged, the renames), not with timing luck: each hook edits a file
of rendered/ the way a person (or an editor's autosave) would while the render is running.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import generator.write.apply
from generator import pipeline
from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_clean, state, write

REPO = Path(__file__).resolve().parents[2]
WEB_CLUSTER = "mgmt-a/dev/web/cluster.yaml"
API_CLUSTER = "mgmt-a/dev/api/cluster.yaml"
MANIFEST = "rendered/.fleetgen-manifest.json"
DURING = ("this generated file was edited by hand while fleetgen was rendering; the edit is "
          "kept")
DURING_HINT = ("  hint: move your edit into the inventory or an overlay, or render again with "
               "--force to overwrite it")


def change(root: Path) -> None:
    """web changes (its cluster.yaml is rewritten), api goes (its files are deleted)."""
    (root / "clusters/dev/api.yaml").unlink()
    write(root, {WEB_FILE: WEB + "cni: calico\n"})


def edit(root: Path, rel: str) -> bytes:
    """A person's edit of rendered/``rel``; returns the bytes it leaves."""
    path = root / "rendered" / rel
    edited = path.read_bytes() + b"# keep me: added by hand\n"
    path.write_bytes(edited)
    return edited


def assert_only_edit_changed(root: Path, before: dict[str, tuple[bytes, int]], rel: str,
                             edited: bytes) -> None:
    """rendered/ is as it was, but for the hand edit of ``rel``, which is kept."""
    after = state(root)
    assert after.pop(rel)[0] == edited, f"the hand edit of rendered/{rel} was lost"
    expected = dict(before)
    expected.pop(rel)
    assert after == expected, "a refused run changed rendered/"
    assert_clean(root)


def hook(monkeypatch: pytest.MonkeyPatch, name: str, before: Callable[[], None]) -> None:
    """Run ``before`` once, at the first call of ``generator.write.apply.<name>``."""
    real = getattr(generator.write.apply, name)
    done: list[bool] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            before()
        return real(*args, **kwargs)

    if name == "locked":
        @contextmanager
        def locked(*args: Any, **kwargs: Any) -> Iterator[None]:
            if not done:
                done.append(True)
                before()
            with real(*args, **kwargs):
                yield
        monkeypatch.setattr(generator.write.apply, name, locked)
    else:
        monkeypatch.setattr(generator.write.apply, name, wrapper)


# --- a hand edit while a render runs --------------------------------------------------------

def test_a_hand_edit_made_while_the_render_waits_for_the_lock_is_kept(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The plan used to be made before the lock was taken: an edit in between was overwritten,
    # exit 0, and the next render said "up to date". The plan is now made under the lock.
    change(fleet)
    before = state(fleet)
    edited: list[bytes] = []
    hook(monkeypatch, "locked", lambda: edited.append(edit(fleet, WEB_CLUSTER)))
    result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stderr.splitlines()) == (2, [
        f"rendered/{WEB_CLUSTER}: error[hand-edited]: this generated file was edited by hand",
        "  hint: move your edit into the inventory or an overlay, or pass --force",
        "1 error; nothing was written"]), result.output
    assert_only_edit_changed(fleet, before, WEB_CLUSTER, edited[0])


@pytest.mark.parametrize("rel", [WEB_CLUSTER, API_CLUSTER], ids=["replaced", "deleted"])
def test_a_hand_edit_made_after_planning_is_kept(fleet: Path, monkeypatch: pytest.MonkeyPatch,
                                                 rel: str) -> None:
    # Between the plan and the renames (while the new files are staged), a file the plan
    # replaces or deletes is edited: every target is verified again, nothing is written.
    change(fleet)
    before = state(fleet)
    edited: list[bytes] = []
    hook(monkeypatch, "stage_all", lambda: edited.append(edit(fleet, rel)))
    result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stderr.splitlines()) == (2, [
        f"rendered/{rel}: error[hand-edited]: {DURING}", DURING_HINT,
        "1 error; nothing was written"]), result.output
    assert_only_edit_changed(fleet, before, rel, edited[0])


def test_a_hand_edit_made_during_the_renames_is_kept_and_reported_again(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last moment: the renames have begun. Each file's bytes are verified just before it is
    # replaced; the edited one is left as it is, and the manifest keeps its old hash, so the
    # next render still calls it hand-edited instead of "up to date".
    change(fleet)
    write(fleet, {"clusters/dev/db.yaml": "controlPlane:\n  endpoint: 10.0.0.12\n"})
    edited: list[bytes] = []
    # 'mgmt-a/dev/db/…' is renamed first (sorted), web's cluster.yaml later.
    hook(monkeypatch, "_replace", lambda: edited.append(edit(fleet, WEB_CLUSTER)))
    result = fleetgen(fleet, "render")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"rendered/{WEB_CLUSTER}: error[hand-edited]: {DURING}", DURING_HINT,
        "1 error; rendered/ is partly updated (each file whole, old or new); render again to "
        "finish"]
    assert (fleet / "rendered" / WEB_CLUSTER).read_bytes() == edited[0]
    assert (fleet / "rendered/mgmt-a/dev/db/cluster.yaml").is_file()
    assert_clean(fleet)
    monkeypatch.undo()
    again = fleetgen(fleet, "render")
    assert again.exit_code == 2, again.output
    assert f"rendered/{WEB_CLUSTER}: error[hand-edited]" in again.stderr
    assert (fleet / "rendered" / WEB_CLUSTER).read_bytes() == edited[0]
    assert fleetgen(fleet, "render", "--force").exit_code == 0
    assert fleetgen(fleet, "render", "--check").stdout == "rendered/ is up to date\n"


# --- deleting only what fleetgen could have written -----------------------------------------

def own(root: Path, rel: str, text: str) -> Path:
    """Put rendered/``rel`` in place and list it in the manifest with its SHA-256, as a pull
    request could."""
    path = root / "rendered" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    manifest = json.loads((root / MANIFEST).read_text())
    manifest["files"][rel] = hashlib.sha256(text.encode()).hexdigest()
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return path


@pytest.mark.parametrize("rel", ["mgmt-a/RUNBOOK.md", "mgmt-a/dev/web/NOTES.md",
                                 "mgmt-a/dev/web/secret.yaml", "mgmt-a/_global/runbook.yaml",
                                 "docs/index.md"])
def test_a_hand_kept_file_listed_in_the_manifest_is_never_deleted(fleet: Path,
                                                                  rel: str) -> None:
    kept = own(fleet, rel, "# how to recover mgmt-a\n")
    check = fleetgen(fleet, "render", "--check")
    line = f"keep rendered/{rel} (not a file fleetgen writes: no longer listed as its own)"
    assert (check.exit_code, check.stdout) == (1, line + "\n"), check.output
    result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stdout) == (0, line + "\n"), result.output
    assert kept.read_text() == "# how to recover mgmt-a\n"
    assert rel not in json.loads((fleet / MANIFEST).read_text())["files"]
    assert fleetgen(fleet, "render", "--check").stdout == "rendered/ is up to date\n"
    assert kept.read_text() == "# how to recover mgmt-a\n"


def test_files_of_an_earlier_layout_are_still_deleted(fleet: Path) -> None:
    # Before DNS records were named '<namespace>.<cluster>', they were '<namespace>-<cluster>':
    # a fleet rendered by that version still has its old, owned files removed.
    old = own(fleet, "mgmt-a/_global/dnsendpoint-dev-web.yaml", "kind: DNSEndpoint\n")
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert result.stdout == "delete rendered/mgmt-a/_global/dnsendpoint-dev-web.yaml\n"
    assert not old.exists()


def test_every_file_the_example_fleet_renders_is_one_fleetgen_could_write() -> None:
    # The shape rule in write/owned.py mirrors render/layout.py; this keeps the two in step.
    from generator.write.owned import fleetgen_could_write

    fleet = pipeline.load_fleet(REPO)
    paths = list(pipeline.wanted_files(REPO, fleet))
    assert paths and [p for p in paths if not fleetgen_could_write(p)] == []
    assert not any(fleetgen_could_write(p) for p in (
        "mgmt-a/RUNBOOK.md", "mgmt-a/dev/web/notes.yaml", "README.md", "mgmt-a/dev/web/x/y.yaml",
        "_gitops/mgmt-a/secret.yaml", "mgmt-a/_global/kubeconfig.yaml"))


def test_the_plan_is_made_under_the_lock(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a writing render plans, it plans holding the lock (so no other render runs between
    # the plan and the writes).
    change(fleet)
    held: list[bool] = []
    real = generator.write.apply.plan_writes

    def spy(base: Path, *args: Any, **kwargs: Any) -> Any:
        held.append((base / ".fleetgen.lock").exists())
        return real(base, *args, **kwargs)

    monkeypatch.setattr(generator.write.apply, "plan_writes", spy)
    assert fleetgen(fleet, "render").exit_code == 0
    assert held == [True]
    assert os.path.exists(fleet / "rendered/mgmt-a/dev/web/cluster.yaml")
