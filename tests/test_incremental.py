"""Incremental load and render equal a full one (issue 20).

A run with the cache reuses every cluster whose inventory chain is unchanged (its spec, its own
problems with their locations, its views) and every group whose inputs are unchanged. After any
sequence of edits, a run with a cache that has seen every earlier state must give exactly what a
run without any cache gives: the same problems at the same places, the same clusters and specs,
the same warnings and the same bytes for every file.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fleets import VSPHERE_DEFAULTS, write_tree

from generator import pipeline
from generator.cache.store import RenderCache
from generator.problems import FleetError
from generator.render.views import view_of

CLUSTERS = ("a", "b", "c")
ENDPOINTS = ("10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13")

# A second management cluster with a node network, its DHCP range and a node pool: the pool and
# address checks run per part of the fleet (check/pool_parts.py), and one cause in a shared
# file (a pod CIDR in the root _defaults.yaml) must stay one problem across the parts.
POOL_B = """\
managementCluster: {mgmt}
nodeNetworks:
  net-b:
    cidr: 10.1.0.0/24
    dhcpRanges: [10.1.0.100-10.1.0.200]
ipPools:
  pool-b:
    nodeNetwork: net-b
    gateway: 10.1.0.1
    prefix: 24
    addresses: [10.1.0.20-{last}]
"""
D = ("controlPlane: {{endpoint: {endpoint}}}\nnetwork:\n  nodes: {{ipPool: pool-b}}\n"
     "  nameservers: {{controlPlane: [10.1.0.53], worker: [10.1.0.53]}}\n")

START = {
    "clusters/_defaults.yaml": VSPHERE_DEFAULTS,
    "clusters/dev/_defaults.yaml": "cni: antrea\n",
    **{f"clusters/dev/{name}.yaml": f"controlPlane: {{endpoint: {ENDPOINTS[i]}}}\n"
       for i, name in enumerate(CLUSTERS)},
    "clusters/b/_defaults.yaml": POOL_B.format(mgmt="mgmt-b", last="10.1.0.60"),
    "clusters/b/d.yaml": D.format(endpoint="10.1.0.10"),
    "clusters/b/e.yaml": "controlPlane: {endpoint: 10.1.0.11}\n",
}

# One edit: (what, which cluster, a value); every kind of change a pull request makes to the
# inventory, good and bad: a new endpoint (maybe another cluster's), a value the schema refuses,
# a pod CIDR over another cluster's endpoint, a namespace moved in a shared _defaults.yaml, a
# YAML error, a deleted file and a new one.
EDITS = st.tuples(
    st.sampled_from(["endpoint", "cni", "pods", "namespace", "break", "delete", "add",
                     "restore", "root-pods", "in-pool", "pool-into-dhcp", "one-mgmt"]),
    st.sampled_from(CLUSTERS), st.sampled_from(ENDPOINTS))


def _apply(files: dict[str, str], edit: tuple[str, str, str]) -> None:
    kind, name, value = edit
    path = f"clusters/dev/{name}.yaml"
    own = files.get(path, f"controlPlane: {{endpoint: {value}}}\n")
    if kind == "endpoint":
        files[path] = f"controlPlane: {{endpoint: {value}}}\n"
    elif kind == "cni":
        files[path] = own + "cni: flannel\n"
    elif kind == "pods":
        files[path] = own + f"network: {{pods: [{value}/30]}}\n"
    elif kind == "namespace":
        files["clusters/dev/_defaults.yaml"] = f"cni: antrea\nnamespace: ns-{value[-1]}\n"
    elif kind == "break":
        files[path] = own + "workers: [\n"
    elif kind == "delete":
        files.pop(path, None)
    elif kind == "add":
        files[f"clusters/dev/{name}-copy.yaml"] = f"controlPlane: {{endpoint: {value}}}\n"
    elif kind == "root-pods":  # one line, colliding in both parts of the fleet
        files["clusters/_defaults.yaml"] = VSPHERE_DEFAULTS + "network: {pods: [10.0.0.0/8]}\n"
    elif kind == "in-pool":
        files["clusters/b/d.yaml"] = D.format(endpoint=f"10.1.0.{20 + int(value[-1])}")
    elif kind == "pool-into-dhcp":
        files["clusters/b/_defaults.yaml"] = POOL_B.format(mgmt="mgmt-b", last="10.1.0.120")
    elif kind == "one-mgmt":  # the two parts become one
        files["clusters/b/_defaults.yaml"] = POOL_B.format(mgmt="mgmt-a", last="10.1.0.60")
    else:
        files.update(START)


def _outcome(root: Path, cache: RenderCache | None) -> tuple[Any, ...]:
    try:
        fleet = pipeline.load_fleet(root, cache=cache)
        files = pipeline.wanted_files(root, fleet, cache=cache)
    except FleetError as exc:
        return ("invalid", [p.text() for p in exc.problems], exc.unchecked)
    # Each cluster's spec with the fields that were set, and what its templates see, computed
    # afresh: a render from cached groups would hide a spec that is equal but not the same.
    return ("valid", [p.text() for p in fleet.warnings],
            [(c.inventory.file, c.spec, c.spec.model_dump(mode="json", exclude_unset=True),
              view_of(c)) for c in fleet.clusters], files)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDITS, min_size=1, max_size=4))
def test_an_incremental_run_equals_a_full_one_after_any_edits(
        edits: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_dir = Path(tmp) / "fleet", Path(tmp) / "cache"
        files = dict(START)
        for step in [None, *edits]:
            if step is not None:
                _apply(files, step)
            shutil.rmtree(root / "clusters", ignore_errors=True)
            write_tree(root, files)
            incremental = _outcome(root, RenderCache(cache_dir))
            assert incremental == _outcome(root, None), step
            # and a second incremental run, now that the cache holds this state too
            assert _outcome(root, RenderCache(cache_dir)) == incremental, step


def test_the_cache_is_really_used_for_unchanged_clusters(tmp_path: Path) -> None:
    """The property above would hold trivially if nothing were ever reused: here an unchanged
    cluster is not parsed again (its file's values are never read), unless it draws from a
    node pool (see below)."""
    from generator.load import inventory

    write_tree(tmp_path / "fleet", START)
    root = tmp_path / "fleet"
    pipeline.load_fleet(root, cache=RenderCache(tmp_path / "cache"))
    (root / "clusters/dev/a.yaml").write_text("controlPlane: {endpoint: 10.0.0.13}\n")
    parsed: list[str] = []
    original = inventory.InventoryLoader._read

    def spy(self: inventory.InventoryLoader, path: Path) -> Any:
        parsed.append(self.rel(path))
        return original(self, path)

    inventory.InventoryLoader._read = spy  # type: ignore[method-assign]
    try:
        fleet = pipeline.load_fleet(root, cache=RenderCache(tmp_path / "cache"))
    finally:
        inventory.InventoryLoader._read = original  # type: ignore[method-assign]
    assert len(fleet.clusters) == 5
    # a.yaml changed; d draws from a node pool, whose declaring file is looked up in its chain's
    # values; b, c and e are not read at all
    assert sorted(parsed) == ["clusters/_defaults.yaml", "clusters/b/_defaults.yaml",
                              "clusters/b/d.yaml", "clusters/dev/_defaults.yaml",
                              "clusters/dev/a.yaml"]


def test_a_damaged_cache_entry_is_a_miss_never_a_changed_fleet(tmp_path: Path) -> None:
    """Every entry overwritten with something that parses (a spec of null with no problem
    would silently drop every cluster): the run equals a run without cache."""
    import sqlite3

    root = tmp_path / "fleet"
    write_tree(root, START)
    expected = _outcome(root, None)
    assert _outcome(root, RenderCache(tmp_path / "cache")) == expected
    database = next((tmp_path / "cache").rglob(RenderCache.FILE))
    for text in ('{"spec": null, "problems": [], "digest": ""}', '{"files": {}}', "[]", "x"):
        with sqlite3.connect(database) as db:
            db.execute("UPDATE entries SET value = ?", (text,))
        assert _outcome(root, RenderCache(tmp_path / "cache")) == expected, text


def test_fleet_warnings_do_not_depend_on_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One pool declared in the root _defaults.yaml, used on two management clusters (no node
    network: two parts of the fleet), near full: two pool-headroom warnings at one place with one
    message, told apart only by the cluster each names. check_fleet sorts warnings by
    Problem.sort_key, which ties them, so their order is the order they were found: pool order
    (mgmt-a first) without a cache, part order (the part of the first cluster file, mgmt-b)
    with one."""
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    root = write_tree(tmp_path / "fleet", {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS + (
            "ipPools:\n  shared:\n    gateway: 10.5.0.1\n    prefix: 24\n"
            "    addresses: [10.5.0.10-10.5.0.13]\n"
            "network:\n  nodes: {ipPool: shared}\n"
            "  nameservers: {controlPlane: [10.5.0.53], worker: [10.5.0.53]}\n"),
        "clusters/a/web.yaml": "managementCluster: mgmt-b\ncontrolPlane: {endpoint: 10.5.0.2}\n",
        "clusters/z/web.yaml": "managementCluster: mgmt-a\ncontrolPlane: {endpoint: 10.5.0.3}\n",
    })
    plain = pipeline.load_fleet(root)
    cached = pipeline.load_fleet(root, cache=RenderCache())
    assert [p.code for p in plain.warnings] == ["pool-headroom", "pool-headroom"]
    assert cached.warnings == plain.warnings
