"""Inventory tree: discovery, nearest-wins merging and provenance."""

from __future__ import annotations

from pathlib import Path

from generator.load.inventory import load_inventory
from generator.problems import Location
from support.fleets import write_tree


def test_defaults_merge_nearest_wins_maps_merge_lists_replace(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": """\
            namespace: root-ns
            labels: {team: a, tier: gold}
            overlays: [base, sizing]
            """,
        "clusters/site/_defaults.yaml": """\
            labels: {tier: silver}
            overlays: [site]
            """,
        "clusters/site/web.yaml": "namespace: web-ns\n",
    })
    (cluster,) = load_inventory(tmp_path).clusters
    assert cluster.data == {"namespace": "web-ns", "labels": {"team": "a", "tier": "silver"},
                            "overlays": ["site"]}
    assert cluster.locate(("namespace",)) == Location("clusters/site/web.yaml", 1, 12)
    assert cluster.locate(("labels", "team")) == Location("clusters/_defaults.yaml", 2, 16)
    assert cluster.locate(("labels", "tier")) == Location("clusters/site/_defaults.yaml", 1, 16)
    assert cluster.locate(("overlays", 0)) == Location("clusters/site/_defaults.yaml", 2, 12)


def test_replaced_list_forgets_the_old_positions(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": "overlays: [a, b, c]\n",
        "clusters/x.yaml": "overlays: [z]\n",
    })
    (cluster,) = load_inventory(tmp_path).clusters
    assert ("overlays", 2) not in cluster.origins
    assert cluster.locate(("overlays", 0)).path == "clusters/x.yaml"


def test_discovery_is_sorted_and_skips_defaults_and_hidden(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/b/z.yaml": "", "clusters/b/a.yaml": "", "clusters/a.yaml": "",
        "clusters/_defaults.yaml": "", "clusters/.hidden/x.yaml": "", "clusters/notes.txt": "",
    })
    files = [c.file for c in load_inventory(tmp_path).clusters]
    assert files == ["clusters/a.yaml", "clusters/b/a.yaml", "clusters/b/z.yaml"]


def test_defaults_do_not_leak_between_sibling_folders(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/a/_defaults.yaml": "namespace: a\n",
        "clusters/a/x.yaml": "",
        "clusters/b/y.yaml": "",
    })
    data = {c.file: c.data for c in load_inventory(tmp_path).clusters}
    assert data == {"clusters/a/x.yaml": {"namespace": "a"}, "clusters/b/y.yaml": {}}


def test_inventory_lists_the_overlay_folders(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/a.yaml": "",
        "overlays/zeta/overlay.yaml": "", "overlays/alpha/overlay.yaml": "",
        "overlays/empty/.keep": "", "overlays/notes.txt": "",
    })
    (tmp_path / "overlays" / "linked").symlink_to(tmp_path / "overlays" / "alpha")
    assert load_inventory(tmp_path).overlays == ("alpha", "empty", "linked", "zeta")


def test_no_overlays_folder_means_no_overlays(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/a.yaml": ""})
    assert load_inventory(tmp_path).overlays == ()
