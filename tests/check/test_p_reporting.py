"""Issue 19, problem reporting: problems in a shared file name the clusters they break, one run
reports every problem the input allows, one cause is one problem, and a duplicate is reported
at both places (so a pull request's annotation lands on the file it changed)."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import fleetgen
from support.fleets import VSPHERE_DEFAULTS, small_fleet, snapshot, write_tree

AWS_WITH_VSPHERE = """\
managementCluster: mgmt-aws
infrastructure: aws
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
aws:
  region: eu-west-1
  sshKeyName: k
  vpc: {cidr: 10.0.0.0/16}
vsphere:
  server: vc.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/ds1
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/c1/Resources/tkg
  network: /dc0/network/nodes
"""


def aws_fleet(root: Path) -> Path:
    """Two AWS clusters named shop (namespaces dev and prod) inheriting a stray vsphere:."""
    return write_tree(root, {"clusters/_defaults.yaml": AWS_WITH_VSPHERE,
                             "clusters/dev/shop.yaml": "namespace: dev\n",
                             "clusters/prod/shop.yaml": "namespace: prod\n"})


def test_a_problem_in_a_defaults_file_names_the_clusters_once(tmp_path: Path) -> None:
    result = fleetgen(aws_fleet(tmp_path), "validate")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        ("clusters/_defaults.yaml:8:1: error[wrong-infrastructure]: 'vsphere:' does not apply to "
         "AWS clusters (in clusters dev/shop, prod/shop)"),
        "  hint: remove it, or set 'infrastructure: vsphere'",
        "1 error"]


def test_json_and_github_carry_the_clusters(tmp_path: Path) -> None:
    aws_fleet(tmp_path)
    found = json.loads(fleetgen(tmp_path, "validate", "--format", "json").stdout)
    assert [(p["path"], p["line"], p["code"], p["clusters"]) for p in found] == [
        ("clusters/_defaults.yaml", 8, "wrong-infrastructure", ["dev/shop", "prod/shop"])]
    assert fleetgen(tmp_path, "validate", "--format", "github").stdout.strip() == (
        "::error file=clusters/_defaults.yaml,line=8,col=1,title=wrong-infrastructure::"
        "'vsphere:' does not apply to AWS clusters (in clusters dev/shop, prod/shop) "
        "(hint: remove it, or set 'infrastructure: vsphere')")


def test_a_problem_in_a_cluster_file_names_no_cluster(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane: {endpoint: 10.0.0.10}\ncni: flannel\n")
    found = json.loads(fleetgen(tmp_path, "validate", "--format", "json").stdout)
    assert [(p["path"], p["clusters"]) for p in found] == [("clusters/dev/web.yaml", [])]


def test_many_clusters_are_counted_and_the_first_few_named(tmp_path: Path) -> None:
    small_fleet(tmp_path, **{f"c{i}": f"controlPlane: {{endpoint: 10.0.0.1{i}}}\n"
                             for i in range(1, 8)})
    write_tree(tmp_path, {"clusters/dev/_defaults.yaml": "cni: flannel\n"})
    lines = fleetgen(tmp_path, "validate").stderr.splitlines()
    assert lines[0] == (
        "clusters/dev/_defaults.yaml:1:6: error[invalid-value]: cni: 'flannel' is not allowed "
        "(in 7 clusters: dev/c1, dev/c2, dev/c3, dev/c4, dev/c5 and 2 more)")
    assert lines[-2:] == ["1 error", "7 clusters could not be checked (they have errors above)"]


def test_yaml_schema_and_fleet_problems_in_one_run(tmp_path: Path) -> None:
    small_fleet(tmp_path,
                a="controlPlane: {endpoint: 10.0.0.10}\n",
                b="controlPlane: {endpoint: 10.0.0.10}\n",  # a fleet check: duplicate endpoint
                c="controlPlane: {endpoint: 10.0.0.12}\ncni: flannel\n",  # the schema
                d="controlPlane: {endpoint: [10.0.0.13\n")  # YAML
    before = snapshot(tmp_path)
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert snapshot(tmp_path) == before
    lines = [line for line in result.stderr.splitlines() if not line.startswith("  hint")]
    assert [line.split(": ")[0] + " " + line.split("[")[1].split("]")[0]
            for line in lines[:-2]] == [
        "clusters/dev/a.yaml:1:26 duplicate-endpoint",
        "clusters/dev/b.yaml:1:26 duplicate-endpoint",
        "clusters/dev/c.yaml:2:6 invalid-value",
        "clusters/dev/d.yaml:2:1 yaml-syntax"]
    assert lines[-2:] == ["4 errors; nothing was written",
                          "2 clusters could not be checked (they have errors above)"]


def test_one_broken_cluster_leaves_the_note_singular(tmp_path: Path) -> None:
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.10}\n",
                b="controlPlane: {endpoint: 10.0.0.11}\ncni: flannel\n")
    lines = fleetgen(tmp_path, "validate").stderr.splitlines()
    assert lines[-2:] == ["1 error", "1 cluster could not be checked (it has errors above)"]


def test_a_fleet_of_one_gets_no_note(tmp_path: Path) -> None:
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.10}\ncni: flannel\n")
    assert fleetgen(tmp_path, "validate").stderr.splitlines()[-1] == "1 error"


def test_a_valid_fleet_is_still_valid(tmp_path: Path) -> None:
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.10}\n")
    result = fleetgen(tmp_path, "validate")
    assert (result.exit_code, result.stdout.strip()) == (0, "1 cluster, 0 node pools: valid")


ENDPOINTS = {f"c{i}": f"controlPlane: {{endpoint: 10.0.0.1{i}}}\n" for i in range(1, 8)}


def test_one_pod_cidr_over_many_endpoints_is_one_problem(tmp_path: Path) -> None:
    small_fleet(tmp_path, **ENDPOINTS,
                wide="controlPlane: {endpoint: 10.1.0.1}\nnetwork: {pods: [10.0.0.0/16]}\n")
    lines = fleetgen(tmp_path, "validate").stderr.splitlines()
    assert lines == [
        ("clusters/dev/wide.yaml:2:18: error[cidr-overlap]: pods CIDR 10.0.0.0/16 of cluster "
         "'wide' overlaps 7 others: "
         "the endpoint of cluster 'c1' (clusters/dev/c1.yaml:1:26) in 10.0.0.11; "
         "the endpoint of cluster 'c2' (clusters/dev/c2.yaml:1:26) in 10.0.0.12; "
         "the endpoint of cluster 'c3' (clusters/dev/c3.yaml:1:26) in 10.0.0.13; "
         "the endpoint of cluster 'c4' (clusters/dev/c4.yaml:1:26) in 10.0.0.14; "
         "the endpoint of cluster 'c5' (clusters/dev/c5.yaml:1:26) in 10.0.0.15; and 2 more"),
        "  hint: choose pod and service CIDRs that do not cover a control-plane endpoint",
        "1 error"]


def test_an_inherited_pod_cidr_is_one_problem_naming_its_clusters(tmp_path: Path) -> None:
    small_fleet(tmp_path, c1=ENDPOINTS["c1"], c2=ENDPOINTS["c2"])
    write_tree(tmp_path, {"clusters/_defaults.yaml":
                          VSPHERE_DEFAULTS + "network: {pods: [10.0.0.0/16]}\n"})
    lines = fleetgen(tmp_path, "validate").stderr.splitlines()
    assert lines == [
        ("clusters/_defaults.yaml:13:18: error[cidr-overlap]: pods CIDR 10.0.0.0/16 overlaps 2 "
         "others: the endpoint of cluster 'c1' (clusters/dev/c1.yaml:1:26) in 10.0.0.11; "
         "the endpoint of cluster 'c2' (clusters/dev/c2.yaml:1:26) in 10.0.0.12 "
         "(in clusters dev/c1, dev/c2)"),
        "  hint: choose pod and service CIDRs that do not cover a control-plane endpoint",
        "1 error"]


def test_a_duplicate_endpoint_is_annotated_in_both_files(tmp_path: Path) -> None:
    small_fleet(tmp_path, old="controlPlane: {endpoint: 10.0.0.10}\n",
                new="controlPlane: {endpoint: 10.0.0.10}\n",
                third="controlPlane: {endpoint: 10.0.0.10}\n")
    result = fleetgen(tmp_path, "validate", "--format", "github")
    assert result.stdout.splitlines() == [
        ("::error file=clusters/dev/new.yaml,line=1,col=26,title=duplicate-endpoint::endpoint "
         "10.0.0.10 is also used by cluster 'old' (clusters/dev/old.yaml:1:26) and cluster "
         "'third' (clusters/dev/third.yaml:1:26)"),
        ("::error file=clusters/dev/old.yaml,line=1,col=26,title=duplicate-endpoint::endpoint "
         "10.0.0.10 is also used by cluster 'new' (clusters/dev/new.yaml:1:26) and cluster "
         "'third' (clusters/dev/third.yaml:1:26)"),
        ("::error file=clusters/dev/third.yaml,line=1,col=26,title=duplicate-endpoint::endpoint "
         "10.0.0.10 is also used by cluster 'new' (clusters/dev/new.yaml:1:26) and cluster "
         "'old' (clusters/dev/old.yaml:1:26)")]


AZURE = """\
managementCluster: mgmt-az
infrastructure: azure
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
azure:
  location: westeurope
  subscriptionID: s
  sshPublicKey: a2V5
  vnet: {name: shared, resourceGroup: rg-net, cidrBlocks: [10.60.0.0/16]}
"""


def test_one_subnet_over_several_clusters_subnets_is_one_problem(tmp_path: Path) -> None:
    def subnets(cp: str, workers: str) -> str:
        return f"azure:\n  controlPlaneSubnet: {{cidr: {cp}}}\n  workerSubnet: {{cidr: {workers}}}\n"
    write_tree(tmp_path, {"clusters/_defaults.yaml": AZURE,
                          "clusters/a.yaml": subnets("10.60.0.0/24", "10.60.1.0/24"),
                          "clusters/b.yaml": subnets("10.60.2.0/24", "10.60.3.0/24"),
                          "clusters/c.yaml": subnets("10.60.8.0/24", "10.60.0.0/22")})
    lines = fleetgen(tmp_path, "validate").stderr.splitlines()
    assert lines == [
        ("clusters/c.yaml:3:24: error[subnet-overlap]: subnet 10.60.0.0/22 overlaps 4 subnets in "
         "Azure VNet rg-net/shared: 10.60.0.0/24 of cluster 'a' (clusters/a.yaml:2:30); "
         "10.60.1.0/24 of cluster 'a' (clusters/a.yaml:3:24); 10.60.2.0/24 of cluster 'b' "
         "(clusters/b.yaml:2:30); 10.60.3.0/24 of cluster 'b' (clusters/b.yaml:3:24)"),
        "1 error"]


def test_one_pod_cidr_over_an_endpoint_and_a_pool_is_one_problem_with_one_hint(
        tmp_path: Path) -> None:
    small_fleet(tmp_path, a="""\
        controlPlane: {endpoint: 10.0.0.10}
        network:
          nodes: {ipPool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.16/29]}}
          nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
        """, wide="controlPlane: {endpoint: 10.1.0.1}\nnetwork: {pods: [10.0.0.0/16]}\n")
    assert fleetgen(tmp_path, "validate").stderr.splitlines() == [
        ("clusters/dev/wide.yaml:2:18: error[cidr-overlap]: pods CIDR 10.0.0.0/16 of cluster "
         "'wide' overlaps 2 others: the endpoint of cluster 'a' (clusters/dev/a.yaml:1:26) in "
         "10.0.0.10; pool 'a-pool' (clusters/dev/a.yaml:3:11) in 10.0.0.16-10.0.0.23"),
        ("  hint: choose pod and service CIDRs outside the node networks, pools, control-plane "
         "endpoints and VIPs"),
        "1 error"]


def test_duplicate_endpoint_leads_with_the_file_just_changed(tmp_path: Path) -> None:
    """Issue 19: reported at both clusters, the changed one first when git can tell."""
    from support.gitrepo import commit_all, init
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.10}\n",
                z="controlPlane: {endpoint: 10.0.0.11}\n")
    init(tmp_path)
    commit_all(tmp_path, "two clusters")
    (tmp_path / "clusters/dev/z.yaml").write_text("controlPlane: {endpoint: 10.0.0.10}\n")
    index = tmp_path / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    text = [line for line in fleetgen(tmp_path, "validate").stderr.splitlines()
            if "error[" in line]
    assert [line.split(": ")[0] for line in text] == ["clusters/dev/z.yaml:1:26",
                                                       "clusters/dev/a.yaml:1:26"]
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before  # read-only, git too
    github = fleetgen(tmp_path, "validate", "--format", "github").stdout.splitlines()
    assert [line.split(",")[0] for line in github] == ["::error file=clusters/dev/z.yaml",
                                                       "::error file=clusters/dev/a.yaml"]
    commit_all(tmp_path, "the change")  # git can no longer tell: by place
    text = [line for line in fleetgen(tmp_path, "validate").stderr.splitlines()
            if "error[" in line]
    assert [line.split(": ")[0] for line in text] == ["clusters/dev/a.yaml:1:26",
                                                       "clusters/dev/z.yaml:1:26"]
