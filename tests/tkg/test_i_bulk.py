"""Issue 17, "Bulk import": `fleetgen import tkg DIR` imports a folder of flat configs in one run,
each into the folder `--map` (or `--to`) says, sharing pools, checked against each other and the
fleet, all or nothing."""

from __future__ import annotations

from pathlib import Path

from support.cli import fleetgen
from support.fleets import snapshot, write_tree
from test_i_faithful import new_fleet, ok

from generator.yaml.fast import load_fast

VERSION = "v1.27.5+vmware.1-tkg.1"
POOL = """\
apiVersion: ipam.cluster.x-k8s.io/v1alpha2
kind: InClusterIPPool
metadata:
  name: apps-nodes
  namespace: apps
spec:
  addresses:
  - 198.51.100.20-198.51.100.200
  prefix: 24
  gateway: 198.51.100.1
"""
MAP = """\
- {managementCluster: mgmt-b, to: clusters/b}
- {namespace: apps, to: clusters/apps}
- {to: clusters/imported}
"""


def flat_text(name: str, namespace: str, endpoint: str, pool: bool = False) -> str:
    return (f"CLUSTER_NAME: {name}\nCLUSTER_PLAN: dev\nNAMESPACE: {namespace}\n"
            f"INFRASTRUCTURE_PROVIDER: vsphere\nKUBERNETES_VERSION: {VERSION}\n"
            "VSPHERE_SERVER: vc.example.com\nVSPHERE_DATACENTER: /dc0\n"
            "VSPHERE_DATASTORE: /dc0/datastore/ds1\nVSPHERE_FOLDER: /dc0/vm/tkg\n"
            "VSPHERE_RESOURCE_POOL: /dc0/host/c1/Resources/tkg\n"
            f"VSPHERE_NETWORK: /dc0/network/nodes\nVSPHERE_CONTROL_PLANE_ENDPOINT: {endpoint}\n"
            + ("NODE_IPAM_IP_POOL_NAME: apps-nodes\nCONTROL_PLANE_NODE_NAMESERVERS: 10.0.0.53\n"
               "WORKER_NODE_NAMESERVERS: 10.0.0.53\n" if pool else ""))


def twenty(source: Path) -> Path:
    """20 flat configs: 15 exported from management cluster mgmt (5 of them in namespace apps,
    on one shared pool), 5 from mgmt-b."""
    files = {"mgmt/apps-pool.yaml": POOL}
    for i in range(1, 16):
        namespace = "apps" if i <= 5 else "dev"
        files[f"mgmt/wl-{i:02}.yaml"] = flat_text(f"wl-{i:02}", namespace, f"10.0.0.{i}",
                                                  pool=namespace == "apps")
    for i in range(16, 21):
        files[f"mgmt-b/wl-{i:02}.yaml"] = flat_text(f"wl-{i:02}", "dev", f"10.0.0.{i}")
    return write_tree(source, files)


def fleet(tmp_path: Path) -> Path:
    root = new_fleet(tmp_path / "fleet", {"clusters/apps": "", "clusters/imported": "",
                                          "clusters/b": "managementCluster: mgmt-b\n"})
    write_tree(tmp_path, {"map.yaml": MAP})
    return root


def test_a_folder_of_twenty_imports_in_one_run(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    source = twenty(tmp_path / "export")
    result = ok(fleetgen(root, "import", "tkg", str(source), "--map", str(tmp_path / "map.yaml")),
                "bulk import")
    wrote = sorted(line for line in result.stdout.splitlines() if line.startswith("wrote "))
    assert len(wrote) == 20
    assert wrote[:6] == [f"wrote clusters/apps/wl-0{i}.yaml" for i in range(1, 6)] + [
        "wrote clusters/b/wl-16.yaml"]
    assert result.stdout.splitlines()[-1] == "imported 20 clusters"
    assert sorted(p.name for p in (root / "clusters/imported").glob("wl-*.yaml")) == [
        f"wl-{i:02}.yaml" for i in range(6, 16)]
    defaults = load_fast((root / "clusters/apps/_defaults.yaml").read_text(encoding="utf-8"))
    assert list(defaults["ipPools"]) == ["apps-nodes"]
    for i in range(1, 6):
        data = load_fast((root / f"clusters/apps/wl-0{i}.yaml").read_text(encoding="utf-8"))
        assert "ipPools" not in data and data["network"]["nodes"]["ipPool"] == "apps-nodes"
    ok(fleetgen(root, "validate"), "validate")
    ok(fleetgen(root, "render"), "render")
    assert len(list((root / "rendered/mgmt-b/dev").glob("wl-*/cluster-config.yaml"))) == 5


def test_one_bad_config_writes_nothing_and_every_problem_is_listed(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    source = twenty(tmp_path / "export")
    bad = source / "mgmt/wl-07.yaml"
    bad.write_text(bad.read_text().replace("CLUSTER_PLAN: dev", "CLUSTER_PLAN: huge")
                   + "VSPHERE_PASSWORD: hunter2\n")
    clash = source / "mgmt-b/wl-17.yaml"
    clash.write_text(clash.read_text().replace("10.0.0.17", "10.0.0.3"))
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(source), "--map", str(tmp_path / "map.yaml"))
    assert result.exit_code == 2
    assert snapshot(root) == before
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if ": error[" in line]
    assert errors == [  # the clash between two good configs is found beside the bad one
        (f"{clash}:12:33: error[duplicate-endpoint]: endpoint 10.0.0.3 is also used by cluster "
        f"'wl-03' ({source}/mgmt/wl-03.yaml:12:33)"),
        (f"{source}/mgmt/wl-03.yaml:12:33: error[duplicate-endpoint]: endpoint 10.0.0.3 is also "
         f"used by cluster 'wl-17' ({clash}:12:33)"),  # both places (issue 19)
        f"{bad}:2:15: error[invalid-value]: CLUSTER_PLAN 'huge' is not a TKG plan",
        (f"{bad}:13:1: error[credential]: VSPHERE_PASSWORD is a credential; fleetgen never stores "
        "secrets in an inventory")]
    assert result.stderr.splitlines()[-1] == "4 errors; nothing was written"


def test_pools_beside_or_in_a_pools_folder(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/apps": ""})
    source = write_tree(tmp_path / "export", {
        f"wl-{i}.yaml": flat_text(f"wl-{i}", "apps", f"10.0.0.{i}", pool=True) for i in (1, 2)})
    pools = write_tree(tmp_path / "pools", {"nodes.yaml": POOL})
    ok(fleetgen(root, "import", "tkg", str(source), "--pools", str(pools), "--to",
                "clusters/apps"), "import")
    ok(fleetgen(root, "validate"), "validate")


def test_two_configs_of_one_cluster_are_refused(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/imported": ""})
    source = write_tree(tmp_path / "export", {"a.yaml": flat_text("web", "dev", "10.0.0.1"),
                                              "b.yaml": flat_text("web", "dev", "10.0.0.2")})
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(source), "--to", "clusters/imported")
    assert result.exit_code == 2 and snapshot(root) == before
    assert result.stderr.splitlines()[0] == (
        f"{source}/b.yaml:1:1: error[duplicate-cluster]: {source}/b.yaml and {source}/a.yaml both "
        "import cluster 'web' into clusters/imported/web.yaml")


def test_a_map_is_checked_and_an_unmapped_config_is_an_error(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/imported": ""})
    source = write_tree(tmp_path / "export", {"a.yaml": flat_text("web", "dev", "10.0.0.1")})
    mapping = write_tree(tmp_path, {"map.yaml": "- {namespace: prod, to: clusters/prod}\n"
                                                "- {namspace: dev, to: clusters/dev}\n"
                                                "- {namespace: qa}\n"})
    result = fleetgen(root, "import", "tkg", str(source), "--map", str(mapping / "map.yaml"))
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if ": error[" in line] == [
        f"{mapping}/map.yaml:2:4: error[invalid-map]: unknown key 'namspace' in a rule",
        (f"{mapping}/map.yaml:3:3: error[invalid-map]: the rule has no 'to' (the clusters/ "
         "folder its flat configs go to)")]
    write_tree(tmp_path, {"map.yaml": "- {namespace: prod, to: clusters/prod}\n"})
    result = fleetgen(root, "import", "tkg", str(source), "--map", str(mapping / "map.yaml"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        (f"{source}/a.yaml:1:1: error[unmapped]: no rule of {mapping}/map.yaml matches "
         f"{source}/a.yaml (management cluster unknown, namespace dev)"),
        "  hint: add a rule for it, or pass --to for the rest"]


def test_a_rule_by_management_cluster_must_reach_a_folder_of_that_cluster(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/imported": ""})  # management cluster mgmt
    source = write_tree(tmp_path / "export", {"mgmt-b/a.yaml": flat_text("web", "dev", "10.0.0.1")})
    mapping = write_tree(tmp_path, {"map.yaml": "- {managementCluster: mgmt-b, "
                                                "to: clusters/imported}\n"})
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(source), "--map", str(mapping / "map.yaml"))
    assert result.exit_code == 2 and snapshot(root) == before
    assert result.stderr.splitlines()[:2] == [
        (f"{mapping}/map.yaml:1:3: error[management-mismatch]: {source}/mgmt-b/a.yaml was "
         "exported from management cluster 'mgmt-b', but clusters/imported belongs to 'mgmt'"),
        "  hint: map it to a folder whose _defaults.yaml names that management cluster"]


def test_links_in_the_folder_are_refused(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/imported": ""})
    elsewhere = write_tree(tmp_path / "elsewhere", {"b.yaml": flat_text("db", "dev", "10.0.0.2")})
    source = write_tree(tmp_path / "export", {"a.yaml": flat_text("web", "dev", "10.0.0.1")})
    (source / "b.yaml").symlink_to(elsewhere / "b.yaml")
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(source), "--to", "clusters/imported")
    assert result.exit_code == 2 and snapshot(root) == before
    assert result.stderr.splitlines()[:2] == [
        f"{source}/b.yaml: error[symlink]: links in the folder are not followed",
        "  hint: copy the file into the folder"]


def test_one_flat_config_finds_its_pool_in_a_pools_folder(tmp_path: Path) -> None:
    root = new_fleet(tmp_path / "fleet", {"clusters/apps": ""})
    source = write_tree(tmp_path / "export", {"wl-1.yaml": flat_text("wl-1", "apps", "10.0.0.1",
                                                                     pool=True)})
    pools = write_tree(tmp_path / "pools", {"nodes.yaml": POOL, "other.yaml": POOL.replace(
        "apps-nodes", "other-nodes")})
    ok(fleetgen(root, "import", "tkg", str(source / "wl-1.yaml"), "--pools", str(pools),
                "--to", "clusters/apps"), "import")
    data = load_fast((root / "clusters/apps/wl-1.yaml").read_text(encoding="utf-8"))
    assert list(data["ipPools"]) == ["apps-nodes"]


def test_hostile_inputs_are_located_problems(tmp_path: Path) -> None:
    """Bad pool files, a bad map and an unreadable flat config: located problems, all at once,
    exit 2, nothing written, never a traceback."""
    root = new_fleet(tmp_path / "fleet", {"clusters/imported": ""})
    source = write_tree(tmp_path / "export", {
        "a.yaml": flat_text("web", "dev", "10.0.0.1"),
        "b-pool.yaml": "kind: InClusterIPPool\nmetadata: [1, 2]\n",
        "c-pool.yaml": "kind: [\n",
        "d.yaml": "- not a mapping\n"})
    (source / "e.yaml").write_bytes(b"CLUSTER_NAME: \xff\xfe\n")
    mapping = write_tree(tmp_path, {"map.yaml": "{to: clusters/imported}\n"})
    before = snapshot(root)
    result = fleetgen(root, "import", "tkg", str(source), "--map", str(mapping / "map.yaml"))
    assert result.exit_code == 2 and snapshot(root) == before
    codes = [line.split("error[", 1)[1].split("]")[0] for line in result.stderr.splitlines()
             if "error[" in line]
    assert codes == ["yaml-syntax", "invalid-map"]  # no "unmapped" noise from a broken map
    result = fleetgen(root, "import", "tkg", str(source), "--to", "clusters/imported")
    assert result.exit_code == 2 and snapshot(root) == before
    assert "Traceback" not in result.output
    located = [line for line in result.stderr.splitlines() if "error[" in line]
    assert [line.split(": error[")[0].rsplit("/", 1)[1] for line in located] == [
        "c-pool.yaml:2:1", "d.yaml:1:1", "e.yaml"]
    assert [line.split("error[")[1].split("]")[0] for line in located] == [
        "yaml-syntax", "not-a-mapping", "unreadable"]
