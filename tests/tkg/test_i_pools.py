"""Issue 17, "Import conflicts with its own output": pools are compared by meaning, and clusters
imported one after another (or together) share one pool declaration."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import fleetgen
from support.fleets import snapshot, write_tree
from test_i_faithful import PARITY, new_fleet, ok

from generator.tkg.pool import pool_meaning, same_pool
from generator.yaml.fast import load_fast, load_fast_all

CASE = PARITY / "vsphere-ipam-incluster"  # an InClusterIPPool 'ipam-ns-nodes' in namespace apps
POOL = CASE / "pool.yaml"


def flat(tmp_path: Path, name: str, endpoint: str) -> Path:
    """The case's flat config as another cluster: its own name and endpoint, the same pool."""
    lines = []
    for line in (CASE / "cluster-config.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("CLUSTER_NAME:"):
            line = f"CLUSTER_NAME: {name}"
        elif line.startswith("VSPHERE_CONTROL_PLANE_ENDPOINT:"):
            line = f"VSPHERE_CONTROL_PLANE_ENDPOINT: {endpoint}"
        lines.append(line)
    return write_tree(tmp_path / "in", {f"{name}.yaml": "\n".join(lines) + "\n"}) / f"{name}.yaml"


def imported(root: Path, path: Path, *extra: str) -> str:
    return ok(fleetgen(root, "import", "tkg", str(path), "--to", "clusters/site", *extra),
              f"import {path.name}").stdout


def read(root: Path, rel: str) -> dict[str, object]:
    data = load_fast((root / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_second_import_sharing_a_pool_succeeds(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/site": ""})
    imported(root, flat(tmp_path, "first", "198.51.100.10"), "--pool", str(POOL))
    second = imported(root, flat(tmp_path, "second", "198.51.100.11"), "--pool", str(POOL))
    assert second.splitlines()[-3:] == [
        "changed clusters/site/_defaults.yaml",
        "changed clusters/site/first.yaml",
        ("  declared pool 'ipam-ns-nodes' in clusters/site/_defaults.yaml: shared by "
        "clusters/site/second.yaml, clusters/site/first.yaml")]
    assert read(root, "clusters/site/_defaults.yaml") == {"ipPools": {"ipam-ns-nodes": {
        "addresses": ["198.51.100.20-198.51.100.60"], "prefix": 24, "gateway": "198.51.100.1"}}}
    for name in ("first", "second"):
        data = read(root, f"clusters/site/{name}.yaml")
        assert "ipPools" not in data
        assert data["network"]["nodes"] == {"ipPool": "ipam-ns-nodes"}  # type: ignore[index]
    ok(fleetgen(root, "validate"), "validate")
    ok(fleetgen(root, "render"), "render")
    pools = [doc["metadata"]["name"] for p in (root / "rendered").rglob("*.yaml")
             for doc in load_fast_all(p.read_text(encoding="utf-8"))
             if isinstance(doc, dict) and doc.get("kind") == "InClusterIPPool"]
    assert pools == ["ipam-ns-nodes"]


def test_a_third_import_only_references_the_declared_pool(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/site": ""})
    imported(root, flat(tmp_path, "first", "198.51.100.10"), "--pool", str(POOL))
    imported(root, flat(tmp_path, "second", "198.51.100.11"), "--pool", str(POOL))
    defaults = (root / "clusters/site/_defaults.yaml").read_text(encoding="utf-8")
    third = imported(root, flat(tmp_path, "third", "198.51.100.12"), "--pool", str(POOL))
    assert [line for line in third.splitlines() if not line.startswith("  ")] == [
        "wrote clusters/site/third.yaml"]
    assert (root / "clusters/site/_defaults.yaml").read_text(encoding="utf-8") == defaults
    assert "ipPools" not in read(root, "clusters/site/third.yaml")
    ok(fleetgen(root, "validate"), "validate")


def test_a_declared_pool_written_otherwise_is_the_same_pool(tmp_path: Path) -> None:
    """No kind (InClusterIPPool is the default), the range written as a CIDR plus ranges: the
    same addresses, so the declaration is reused."""
    defaults = ("ipPools:\n  ipam-ns-nodes:\n    addresses: [198.51.100.20-198.51.100.31, "
                "198.51.100.32/28, 198.51.100.48-198.51.100.60]\n    prefix: 24\n"
                "    gateway: 198.51.100.1\n")
    root = new_fleet(tmp_path / "fleet", {"clusters/site": defaults})
    imported(root, flat(tmp_path, "first", "198.51.100.10"), "--pool", str(POOL))
    assert "ipPools" not in read(root, "clusters/site/first.yaml")
    ok(fleetgen(root, "validate"), "validate")


def test_a_different_pool_of_the_same_name_is_a_conflict(tmp_path: Path) -> None:
    defaults = ("ipPools:\n  ipam-ns-nodes:\n    addresses: [198.51.100.20-198.51.100.60]\n"
                "    prefix: 25\n    gateway: 198.51.100.1\n")
    root = new_fleet(tmp_path / "fleet", {"clusters/site": defaults})
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(flat(tmp_path, "first", "198.51.100.10")),
                      "--pool", str(POOL), "--to", "clusters/site")
    assert result.exit_code == 2
    assert f"{POOL}:4:9: error[pool-conflict]: pool 'ipam-ns-nodes' in {POOL} differs" \
        in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(("a", "b", "same"), [
    ({"addresses": ["10.0.0.0/30"], "prefix": 24},
     {"kind": "InClusterIPPool", "addresses": ["10.0.0.0-10.0.0.3"], "prefix": 24}, True),
    ({"addresses": ["10.0.0.1", "10.0.0.2"], "prefix": 24},
     {"addresses": ["10.0.0.1-10.0.0.2"], "prefix": 24}, True),
    ({"addresses": ["10.0.0.1"], "prefix": 24, "gateway": "10.0.0.254"},
     {"addresses": ["10.0.0.1"], "prefix": 24, "gateway": "10.0.0.253"}, False),
    ({"addresses": ["10.0.0.1"], "prefix": 24},
     {"kind": "GlobalInClusterIPPool", "addresses": ["10.0.0.1"], "prefix": 24}, False),
    ({"addresses": ["fd00::1-fd00::2"], "prefix": 64, "gateway": "fd00::ffff"},
     {"addresses": ["fd00:0::1-fd00::2"], "prefix": 64, "gateway": "fd00:0:0::ffff"}, True),
    ({"addresses": ["10.0.0.1"], "prefix": 24, "excludedAddresses": ["10.0.0.1"]},
     {"addresses": ["10.0.0.1"], "prefix": 24}, False),
])
def test_pools_are_compared_by_meaning(a: dict[str, object], b: dict[str, object],
                                       same: bool) -> None:
    assert same_pool(a, b) is same
    assert same_pool(b, a) is same


def test_an_invalid_pool_means_nothing() -> None:
    assert pool_meaning({"addresses": ["not-an-ip"], "prefix": 24}) is None
    assert not same_pool({"addresses": ["x"], "prefix": 24}, {"addresses": ["y"], "prefix": 24})


def test_clusters_in_two_folders_share_the_pool_from_the_folder_above_both(
        tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/a": "", "clusters/b": ""})
    ok(fleetgen(root, "import", "tkg", str(flat(tmp_path, "first", "198.51.100.10")),
                "--pool", str(POOL), "--to", "clusters/a"), "first")
    ok(fleetgen(root, "import", "tkg", str(flat(tmp_path, "second", "198.51.100.11")),
                "--pool", str(POOL), "--to", "clusters/b"), "second")
    text = (root / "clusters/_defaults.yaml").read_text(encoding="utf-8")
    assert text.startswith("managementCluster: mgmt\nipPools:\n  ipam-ns-nodes:\n")
    assert "ipPools" not in read(root, "clusters/a/first.yaml")
    ok(fleetgen(root, "validate"), "validate")
