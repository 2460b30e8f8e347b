"""render writes only what changed, owns only what it wrote, and `--check` tells staleness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import fleetgen
from support.fleets import small_fleet, snapshot, write_tree

WEB = "controlPlane:\n  endpoint: 10.0.0.10\n"
API = "controlPlane:\n  endpoint: 10.0.0.11\n"


def rendered(root: Path) -> list[str]:
    return sorted(p.relative_to(root / "rendered").as_posix()
                  for p in (root / "rendered").rglob("*") if p.is_file())


def test_render_writes_the_cluster_tree(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0, result.output
    assert rendered(tmp_path) == [
        ".fleetgen-manifest.json",
        "mgmt-a/dev/kustomization.yaml",
        "mgmt-a/dev/web/addons.yaml",  # issue 15: tanzu's ClusterBootstrap and CPI/CSI configs
        "mgmt-a/dev/web/cluster-config.yaml",
        "mgmt-a/dev/web/cluster.yaml",
        "mgmt-a/dev/web/features.yaml",
        "mgmt-a/dev/web/kustomization.yaml",
        "mgmt-a/kustomization.yaml",
        "mgmt-a/tanzu-features.sh",
        "mgmt-a/tanzu-features.yaml",
    ]
    assert "create rendered/mgmt-a/dev/web/cluster.yaml" in result.stdout


def test_second_render_changes_nothing_not_even_mtimes(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    fleetgen(tmp_path, "render")
    before = snapshot(tmp_path / "rendered")
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0
    assert result.stdout.strip() == "rendered/ is up to date"
    assert snapshot(tmp_path / "rendered") == before


def test_only_changed_files_are_rewritten(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB, api=API)
    fleetgen(tmp_path, "render")
    before = snapshot(tmp_path / "rendered")
    write_tree(tmp_path, {"clusters/dev/web.yaml": WEB + "workers: [{name: md-0, replicas: 4}]\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0
    after = snapshot(tmp_path / "rendered")
    changed = sorted(p for p in after if after[p] != before.get(p))
    assert changed == [".fleetgen-manifest.json", "mgmt-a/dev/web/cluster-config.yaml",
                       "mgmt-a/dev/web/cluster.yaml"]


def test_check_exits_1_after_an_edit_and_0_after_rendering(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    assert fleetgen(tmp_path, "render", "--check").exit_code == 1  # nothing rendered yet
    fleetgen(tmp_path, "render")
    assert fleetgen(tmp_path, "render", "--check").exit_code == 0
    write_tree(tmp_path, {"clusters/dev/web.yaml": WEB + "cni: calico\n"})
    before = snapshot(tmp_path / "rendered")
    result = fleetgen(tmp_path, "render", "--check")
    assert result.exit_code == 1
    assert "update rendered/mgmt-a/dev/web/cluster.yaml" in result.stdout
    assert snapshot(tmp_path / "rendered") == before, "--check writes nothing"
    fleetgen(tmp_path, "render")
    assert fleetgen(tmp_path, "render", "--check").exit_code == 0


def test_removed_cluster_files_are_deleted_and_empty_folders_pruned(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB, api=API)
    fleetgen(tmp_path, "render")
    (tmp_path / "clusters/dev/api.yaml").unlink()
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0
    assert "delete rendered/mgmt-a/dev/api/cluster.yaml" in result.stdout
    assert not (tmp_path / "rendered/mgmt-a/dev/api").exists()
    kustomization = (tmp_path / "rendered/mgmt-a/dev/kustomization.yaml").read_text()
    assert "- web\n" in kustomization and "- api\n" not in kustomization


def test_files_the_tool_does_not_own_are_never_touched(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    fleetgen(tmp_path, "render")
    mine = tmp_path / "rendered/mgmt-a/dev/web/NOTES.md"
    mine.write_text("hand-written notes\n")
    fleetgen(tmp_path, "render")
    (tmp_path / "clusters/dev/web.yaml").unlink()
    write_tree(tmp_path, {"clusters/dev/api.yaml": API})
    assert fleetgen(tmp_path, "render").exit_code == 0
    assert mine.read_text() == "hand-written notes\n"


def test_hand_edited_generated_file_blocks_render_until_force(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    fleetgen(tmp_path, "render")
    target = tmp_path / "rendered/mgmt-a/dev/web/cluster.yaml"
    target.write_text(target.read_text().replace("replicas: 1", "replicas: 5"))
    write_tree(tmp_path, {"clusters/dev/web.yaml": WEB + "cni: calico\n"})
    before = snapshot(tmp_path / "rendered")
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert ("rendered/mgmt-a/dev/web/cluster.yaml: error[hand-edited]: this generated file was "
            "edited by hand") in result.stderr
    assert snapshot(tmp_path / "rendered") == before
    assert fleetgen(tmp_path, "render", "--force").exit_code == 0
    assert "replicas: 5" not in target.read_text()


def test_foreign_file_in_the_way_is_not_overwritten(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    foreign = tmp_path / "rendered/mgmt-a/dev/web/cluster.yaml"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("kind: Something\n")
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert "error[not-owned]" in result.stderr
    assert foreign.read_text() == "kind: Something\n"


def test_manifest_lists_exactly_the_generated_files(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    fleetgen(tmp_path, "render")
    manifest = json.loads((tmp_path / "rendered/.fleetgen-manifest.json").read_text())
    assert sorted(manifest["files"]) == [p for p in rendered(tmp_path) if not p.startswith(".")]


def test_select_renders_only_the_chosen_cluster(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB, api=API)
    result = fleetgen(tmp_path, "render", "--select", "web")
    assert result.exit_code == 0, result.output
    files = rendered(tmp_path)
    assert "mgmt-a/dev/web/cluster.yaml" in files
    assert not any(f.startswith("mgmt-a/dev/api/") for f in files)
    # the namespace kustomization lists every cluster of the fleet; the other cluster is stale
    assert "- api\n" in (tmp_path / "rendered/mgmt-a/dev/kustomization.yaml").read_text()
    assert fleetgen(tmp_path, "render", "--check").exit_code == 1
    assert fleetgen(tmp_path, "render").exit_code == 0
    assert "mgmt-a/dev/api/cluster.yaml" in rendered(tmp_path)
    assert fleetgen(tmp_path, "render", "--select", "nope").exit_code == 2


def test_lock_file_is_not_left_behind(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB)
    fleetgen(tmp_path, "render")
    assert not (tmp_path / "rendered/.fleetgen.lock").exists()


def test_parallel_render_is_byte_identical(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run with its own empty render cache: the second must render everything itself, not
    read what the first one rendered."""
    clusters = {f"c{i:02}": f"controlPlane:\n  endpoint: 10.0.1.{i + 1}\n" for i in range(24)}
    small_fleet(tmp_path / "one", **clusters)
    small_fleet(tmp_path / "four", **clusters)
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache-one"))
    assert fleetgen(tmp_path / "one", "render").exit_code == 0
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache-four"))
    assert fleetgen(tmp_path / "four", "render", "--jobs", "4").exit_code == 0
    one = {p: d for p, (d, _) in snapshot(tmp_path / "one" / "rendered").items()}
    four = {p: d for p, (d, _) in snapshot(tmp_path / "four" / "rendered").items()}
    assert one == four and len(one) > 24 * 4


def test_parallel_render_reports_problems_from_every_worker(tmp_path: Path) -> None:
    clusters = {f"c{i:02}": f"controlPlane:\n  endpoint: 10.0.1.{i + 1}\n" for i in range(24)}
    small_fleet(tmp_path, **clusters)
    write_tree(tmp_path, {"templates/features.yaml.j2": "kind: {{ c.nope }}\n"})
    result = fleetgen(tmp_path, "render", "--jobs", "3")
    assert result.exit_code == 2
    assert result.stderr.count("error[template-error]") == 24


def test_select_by_label(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "labels: {tier: gold}\n", api=API)
    assert fleetgen(tmp_path, "render", "--select", "label:tier=gold").exit_code == 0
    files = rendered(tmp_path)
    assert "mgmt-a/dev/web/cluster.yaml" in files
    assert not any(f.startswith("mgmt-a/dev/api/") for f in files)
