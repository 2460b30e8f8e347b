"""Issue 17, "Import skips the fleet checks": every check `fleetgen validate` runs over the whole
fleet runs on the fleet plus the imported clusters before anything is written; a problem is
located in the flat config that causes it, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

from support.cli import fleetgen
from support.fleets import snapshot, write_tree
from test_i_faithful import new_fleet, ok
from test_i_pools import POOL, flat

EXISTING = """\
namespace: apps
infrastructure: vsphere
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
controlPlane: {endpoint: 198.51.100.10}
vsphere:
  server: vc01.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/vsanDatastore
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/cluster0/Resources/tkg
"""


def refused(root: Path, *args: str) -> list[str]:
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", *args)
    assert result.exit_code == 2, result.stdout
    assert snapshot(root) == before
    assert result.stdout == ""
    return result.stderr.splitlines()


def test_a_duplicate_endpoint_is_refused_before_writing(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/site": ""})
    write_tree(root, {"clusters/site/existing.yaml": EXISTING})
    path = flat(tmp_path, "newcomer", "198.51.100.10")
    assert refused(root, str(path), "--pool", str(POOL), "--to", "clusters/site") == [
        (f"{path}:19:33: error[duplicate-endpoint]: endpoint 198.51.100.10 is also used by cluster "
        "'existing' (clusters/site/existing.yaml:4:26)"),
        ("clusters/site/existing.yaml:4:26: error[duplicate-endpoint]: endpoint 198.51.100.10 is "
         f"also used by cluster 'newcomer' ({path}:19:33)"),  # both places (issue 19)
        "2 errors; nothing was written"]


def test_a_duplicate_cluster_in_another_folder_is_refused(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/site": "", "clusters/other": ""})
    write_tree(root, {"clusters/other/newcomer.yaml": EXISTING.replace("198.51.100.10",
                                                                       "198.51.100.99")})
    path = flat(tmp_path, "newcomer", "198.51.100.10")
    [error, *_] = refused(root, str(path), "--pool", str(POOL), "--to", "clusters/site")
    assert "error[duplicate-cluster]" in error


def test_the_pool_capacity_counts_every_cluster_of_the_pool(tmp_path: Path) -> None:
    """A pool too small for the clusters already on it and the imported one: the pool rules run
    over the fleet, not over the imported cluster alone."""
    small = POOL.read_text(encoding="utf-8").replace("198.51.100.60", "198.51.100.24")
    pool = write_tree(tmp_path / "in", {"small-pool.yaml": small}) / "small-pool.yaml"
    root = new_fleet(tmp_path / "fleet", {"clusters/site": ""})
    ok(fleetgen(root, "import", "tkg", str(flat(tmp_path, "first", "198.51.100.10")), "--pool",
                str(pool), "--to", "clusters/site"), "first import")
    lines = refused(root, str(flat(tmp_path, "second", "198.51.100.11")), "--pool", str(pool),
                    "--to", "clusters/site")
    assert any("error[pool-capacity]: pool 'ipam-ns-nodes' is short by" in line
               for line in lines), lines


def test_a_clean_import_leaves_a_valid_fleet(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/site": ""})
    write_tree(root, {"clusters/site/existing.yaml": EXISTING})
    ok(fleetgen(root, "import", "tkg", str(flat(tmp_path, "newcomer", "198.51.100.11")),
                "--pool", str(POOL), "--to", "clusters/site"), "import")
    ok(fleetgen(root, "validate"), "validate")
