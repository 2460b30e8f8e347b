"""The render cache keys a group on everything its bytes depend on (issue 14, item 1).

A group's entry is found by a key made of what the builder takes from the model (output paths
and templates, the values the templates see, the cluster's inventory file and ``overlays:``
list, the limits) and is used only while every file the build read (recorded through
``paths.Reader`` with the digest of its bytes) still has those bytes. These tests break that
promise the ways an attacker did: a cluster that newly chooses an overlay, a patch file named by
``path:``, two checkouts at one path sharing a cache; a build that opens a file its entry does
not name; and random edits of every input kind, after each of which ``render`` with the cache
must equal ``render --no-cache``.
"""

from __future__ import annotations

import builtins
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cache.store import RenderCache
from generator.paths import INPUT_FILES, INPUT_FOLDERS
from generator.pipeline import load_fleet, wanted_files
from generator.render.build import GroupBuilder, groups
from generator.render.layout import layout
from support.cli import fleetgen
from support.fleets import small_fleet, write_tree

WEB = "controlPlane: {endpoint: 10.0.0.10}\n"
API = "controlPlane: {endpoint: 10.0.0.11}\n"
TEAM = "labels:\n- pairs: {team: a}\npatches:\n- path: sizing.yaml\n  target: {kind: Cluster}\n"
SIZING = ("- op: add\n  path: /metadata/annotations/fleet.example.com~1size\n"
          "  value: \"%s\"\n")
SIZES = "commonAnnotations: {fleet.example.com/sizes: large}\n"


def fleet_at(root: Path) -> Path:
    small_fleet(root, web=WEB, api=API)
    write_tree(root, {"overlays/team/overlay.yaml": TEAM,
                      "overlays/team/sizing.yaml": SIZING % "small",
                      "overlays/prod-sizing/overlay.yaml": SIZES})
    return root


def tree(root: Path) -> dict[str, bytes]:
    base = root / "rendered"
    return {p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file()}


def render_ok(root: Path, *args: str) -> str:
    result = fleetgen(root, "render", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_choosing_an_overlay_after_a_render_is_not_served_from_the_cache(tmp_path: Path) -> None:
    root = fleet_at(tmp_path / "fleet")
    render_ok(root)
    write_tree(root, {"clusters/dev/web.yaml": WEB + "overlays: [prod-sizing]\n"})
    check = fleetgen(root, "render", "--check")
    assert check.exit_code == 1, check.output  # stale, not "up to date"
    render_ok(root)
    assert "fleet.example.com/sizes: large" in \
        (root / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()
    control = tmp_path / "control"
    shutil.copytree(root, control)
    render_ok(control, "--no-cache")
    assert tree(control) == tree(root)


def test_a_patch_file_named_by_a_clusters_own_overlay_is_part_of_the_key(tmp_path: Path) -> None:
    root = fleet_at(tmp_path / "fleet")
    write_tree(root, {"clusters/dev/web.overlay.yaml": "patches:\n- path: own.yml\n"
                                                       "  target: {kind: Cluster}\n",
                      "clusters/dev/own.yml": SIZING % "small"})
    render_ok(root)
    write_tree(root, {"clusters/dev/own.yml": SIZING % "huge"})
    assert fleetgen(root, "render", "--check").exit_code == 1
    render_ok(root)
    assert "fleet.example.com/size: huge" in \
        (root / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()


def test_two_checkouts_at_one_path_sharing_a_cache_never_exchange_output(tmp_path: Path) -> None:
    """Two CI jobs, one runner path, one cache: a pull request's local patch file, then main's."""
    root = fleet_at(tmp_path / "fleet")
    local = ("patches:\n- path: pr.yml\n  target: {kind: Cluster}\n")
    write_tree(root, {"clusters/dev/web.overlay.yaml": local,
                      "clusters/dev/pr.yml": SIZING % "pull-request"})
    render_ok(root)  # the pull request's job
    main = tmp_path / "main"
    fleet_at(main)
    write_tree(main, {"clusters/dev/web.overlay.yaml": local,
                      "clusters/dev/pr.yml": SIZING % "main"})
    shutil.rmtree(root)
    shutil.copytree(main, root)  # main's job, same path, same cache
    render_ok(root)
    assert "pull-request" not in (root / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()
    render_ok(main, "--no-cache")
    assert tree(main) == tree(root)


def test_a_clone_at_another_path_gets_hits(tmp_path: Path) -> None:
    """The key names files relative to the fleet root, so a CI cache helps every checkout."""
    first = fleet_at(tmp_path / "one")
    write_tree(first, {"clusters/dev/web.yaml": WEB + "overlays: [team]\n"})
    cache = RenderCache(tmp_path / "cache")
    wanted_files(first, load_fleet(first), cache=cache)
    second = tmp_path / "two"
    shutil.copytree(first, second)
    again = RenderCache(tmp_path / "cache")
    assert wanted_files(second, load_fleet(second), cache=again) == \
        wanted_files(second, load_fleet(second))
    assert again.misses == 0 and again.hits > 0


# --- a build reads nothing its entry does not name -----------------------------------------------


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every path opened (builtins.open, os.open) while the test runs, resolved."""
    seen: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def note(path: Any, dir_fd: int | None = None) -> None:
        if isinstance(path, int):
            return
        text = os.fsdecode(path)
        if dir_fd is not None and not os.path.isabs(text):
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        seen.append(os.path.realpath(text) if os.path.exists(text) else os.path.abspath(text))

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        note(file)
        return real_open(file, *args, **kwargs)

    def spy_os_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
                    ) -> int:
        note(path, dir_fd)
        return real_os_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    yield seen


def test_every_file_a_group_build_opens_is_in_its_cache_entry(tmp_path: Path,
                                                              opened: list[str]) -> None:
    root = fleet_at(tmp_path / "fleet").resolve()
    write_tree(root, {"clusters/dev/web.yaml": WEB + "overlays: [team, prod-sizing]\n",
                      "clusters/dev/web.overlay.yaml": "patches:\n- path: own.yml\n"
                                                       "  target: {kind: Cluster}\n",
                      "clusters/dev/own.yml": SIZING % "own",
                      "templates/features.yaml.j2": "kind: Features\nname: {{ c.name | yaml }}\n"})
    fleet = load_fleet(root)
    builder = GroupBuilder(root, fleet.limits)
    checked = 0
    for group in groups(layout(fleet)):
        opened.clear()
        built = builder.build(group)
        files = {o.removeprefix("file:") for o in built.reads if o.startswith("file:")}
        inside = {Path(p).relative_to(root).as_posix() for p in opened
                  if Path(p).is_relative_to(root) and Path(p) != root}
        inside = {p for p in inside if (root / p).is_file()}
        assert inside <= files, f"read but not in the entry: {sorted(inside - files)}"
        # ... and every one is an input diff --base/--head exports (item 6)
        assert all(f.split("/")[0] in INPUT_FOLDERS or f in INPUT_FILES for f in files), files
        checked += len(inside)
    assert checked >= 5  # the overlays, the patch files, the local overlay, the template


# --- the property: render with the cache equals render --no-cache --------------------------------

OTHER_TEMPLATE = "kind: Features\nname: {{ c.name | yaml }}\nnote: %s\n"
EDITS: dict[str, list[tuple[str, str | None]]] = {
    "inventory": [("clusters/dev/web.yaml", WEB), ("clusters/dev/web.yaml", WEB + "cni: calico\n"),
                  ("clusters/dev/api.yaml", API + "labels: {tier: gold}\n")],
    "defaults": [("clusters/_defaults.yaml", None), ("clusters/dev/_defaults.yaml",
                                                      "labels: {site: a}\n"),
                 ("clusters/dev/_defaults.yaml", "labels: {site: b}\n")],
    "overlay choice": [("clusters/dev/web.yaml", WEB + "overlays: [team]\n"),
                       ("clusters/dev/web.yaml", WEB + "overlays: [prod-sizing]\n"),
                       ("clusters/dev/web.yaml", WEB + "overlays: [team, prod-sizing]\n")],
    "overlay file": [("overlays/team/overlay.yaml", TEAM),
                     ("overlays/team/overlay.yaml", TEAM.replace("team: a", "team: b")),
                     ("overlays/prod-sizing/overlay.yaml", SIZES.replace("large", "xl"))],
    "patch file": [("overlays/team/sizing.yaml", SIZING % "small"),
                   ("overlays/team/sizing.yaml", SIZING % "big"),
                   ("clusters/dev/own.yml", SIZING % "own")],
    "local overlay": [("clusters/dev/web.overlay.yaml", "labels:\n- pairs: {own: x}\n"),
                      ("clusters/dev/web.overlay.yaml", "patches:\n- path: own.yml\n"
                                                        "  target: {kind: Cluster}\n"),
                      ("clusters/dev/web.overlay.yaml", "")],
    "template": [("templates/features.yaml.j2", OTHER_TEMPLATE % "one"),
                 ("templates/features.yaml.j2", OTHER_TEMPLATE % "two"),
                 ("templates/features.yaml.j2", "")],
    "fleetgen.yaml": [("fleetgen.yaml", "gitops: {repository: https://a.example/f.git, "
                                        "argocd: {}}\n"),
                      ("fleetgen.yaml", "gitops: {repository: https://b.example/f.git, "
                                        "argocd: {}}\n"),
                      ("fleetgen.yaml", "")],
    "settings": [("fleetgen.yaml", "limits: {templateSteps: 40}\n"),
                 ("fleetgen.yaml", "limits: {componentDepth: 1}\n"),
                 ("fleetgen.yaml", "limits: {templateSteps: 1000000}\n")],
}
KINDS = sorted(EDITS)


def apply_edit(root: Path, kind: str, index: int) -> None:
    rel, text = EDITS[kind][index]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "defaults" and text is None:
        path.write_text(path.read_text().replace("v1.27.5", "v1.28.7")
                        if "v1.27.5" in path.read_text()
                        else path.read_text().replace("v1.28.7", "v1.27.5"))
    elif text == "" and kind in ("local overlay", "template", "fleetgen.yaml"):
        path.unlink(missing_ok=True)
    else:
        path.write_text(text or "")


def outcome(root: Path, *args: str) -> tuple[int, str, dict[str, bytes]]:
    result = fleetgen(root, "render", *args)
    return result.exit_code, result.output.replace(str(root), "ROOT"), tree(root)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2)), min_size=1, max_size=4))
def test_render_with_the_cache_equals_render_without(
        tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int]]) -> None:
    base = tmp_path_factory.mktemp("prop")
    root = fleet_at(base / "fleet")
    write_tree(root, {"clusters/dev/own.yml": SIZING % "own",
                      "clusters/dev/web.yaml": WEB + "overlays: [team]\n"})
    os.environ["FLEETGEN_CACHE_DIR"] = str(base.parent / "shared-cache")  # across examples
    render_ok(root)
    for kind, index in edits:
        apply_edit(root, kind, index)
        control = base / "control"
        shutil.rmtree(control, ignore_errors=True)
        shutil.copytree(root, control)
        cached = outcome(root)
        assert cached == outcome(control, "--no-cache"), (kind, index)
