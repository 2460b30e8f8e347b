"""The render cache can never make output differ from an uncached run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from generator.cache.store import RenderCache
from generator.pipeline import load_fleet, wanted_files
from support.fleets import small_fleet, write_tree

WEB = "controlPlane: {endpoint: 10.0.0.10}\noverlays: [team]\n"
OVERLAY = "labels:\n- pairs: {team: %s}\n"


def compare(root: Path, cache: RenderCache) -> None:
    fleet = load_fleet(root)
    assert wanted_files(root, fleet, cache=cache) == wanted_files(root, fleet)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    small_fleet(tmp_path, web=WEB, api="controlPlane: {endpoint: 10.0.0.11}\n")
    write_tree(tmp_path, {"overlays/team/overlay.yaml": OVERLAY % "a"})
    return tmp_path


def test_hits_after_the_first_run(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = RenderCache(tmp_path_factory.mktemp("cache"))
    compare(root, cache)
    assert cache.hits == 0 and cache.misses > 0
    warm = RenderCache(cache.folder.parent)
    compare(root, warm)
    assert warm.misses == 0 and warm.hits > 0


@pytest.mark.parametrize("change", ["template", "overlay", "inventory", "defaults", "local-patch"])
def test_a_changed_input_is_never_served_from_the_cache(
        root: Path, tmp_path_factory: pytest.TempPathFactory, change: str) -> None:
    folder = tmp_path_factory.mktemp("cache")
    compare(root, RenderCache(folder))
    if change == "template":
        write_tree(root, {"templates/features.yaml.j2": "kind: Changed\nname: {{ c.name | yaml }}\n"})
    elif change == "overlay":
        write_tree(root, {"overlays/team/overlay.yaml": OVERLAY % "b"})
    elif change == "inventory":
        write_tree(root, {"clusters/dev/web.yaml": WEB + "cni: calico\n"})
    elif change == "defaults":
        defaults = root / "clusters/_defaults.yaml"
        defaults.write_text(defaults.read_text().replace("v1.27.5", "v1.28.7"))
    else:
        write_tree(root, {"clusters/dev/web.overlay.yaml": OVERLAY % "local"})
    compare(root, RenderCache(folder))


@pytest.mark.parametrize("damage", ["entries", "database"])
def test_a_corrupt_entry_or_database_is_a_miss(root: Path, tmp_path_factory: pytest.TempPathFactory,
                                               damage: str) -> None:
    cache = RenderCache(tmp_path_factory.mktemp("cache"))
    compare(root, cache)
    database = cache.folder / RenderCache.FILE
    if damage == "entries":
        with sqlite3.connect(database) as db:
            assert db.execute("UPDATE entries SET value = '{not json'").rowcount > 0
    else:
        for entry in cache.folder.rglob("*"):
            if entry.is_file():
                entry.write_text("{not json")
    again = RenderCache(cache.folder.parent)
    compare(root, again)
    assert again.hits == 0


def test_an_unwritable_cache_only_costs_speed(root: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    cache = RenderCache(blocked)
    compare(root, cache)
    compare(root, cache)
    assert cache.hits == 0
