"""Issue 16, R1: each risk names the line that caused it. Per risk class, a `_defaults.yaml`
cause and an overlay cause: an overlay can cause a rollout (named at its patch entry); the
fields behind every other class are the inventory's alone, and an overlay that changes one is
refused at its patch entry, so it can never cause one unseen."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from support.cli import fleetgen
from support.fleets import write_tree
from test_r1_review import API, SSH_OVERLAY, edit, make_repo, risks_of


def test_rollout_from_a_defaults_nameserver_names_that_line_for_every_cluster(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "worker: [10.0.0.2]", "worker: [10.0.0.3]")
    assert risks_of(repo) == [("rollout", "clusters/_defaults.yaml:16:51")] * 2


def test_rollout_from_an_overlay_names_its_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/ssh/overlay.yaml": SSH_OVERLAY})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [ssh]\n")
    assert risks_of(repo) == [("rollout", "overlays/ssh/overlay.yaml:2:3")]


def test_rollout_from_an_overlay_component_names_the_components_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/ssh/overlay.yaml": SSH_OVERLAY,
                      "overlays/ops/overlay.yaml": "components: [../ssh]\n"})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [ops]\n")
    assert risks_of(repo) == [("rollout", "overlays/ssh/overlay.yaml:2:3")]


def test_one_variable_changed_by_an_overlay_and_a_default_names_both(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/big/overlay.yaml": dedent("""\
        patches:
        - target: {kind: Cluster}
          patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                variables:
                - name: worker
                  value: {machine: {numCPUs: 8, memoryMiB: 32768, diskGiB: 80}}
        """)})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [big]\n")
    edit(repo, "clusters/_defaults.yaml", "worker: [10.0.0.2]", "worker: [10.0.0.3]")
    assert risks_of(repo) == [("rollout", "clusters/_defaults.yaml:16:51"),  # api
                              ("rollout", "clusters/_defaults.yaml:16:51"),  # web
                              ("rollout", "overlays/big/overlay.yaml:2:3")]


def test_immutable_field_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "network:\n  nameservers",
         "network:\n  pods: [100.100.0.0/16]\n  nameservers")
    assert set(risks_of(repo)) == {("immutable-field", "clusters/_defaults.yaml:16:9")}


def test_dhcp_to_ipam_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "network:\n  nameservers",
         "network:\n  nodes: {ipPool: nodes}\n  nameservers")
    assert ("dhcp-to-ipam", "clusters/_defaults.yaml:16:19") in risks_of(repo)


SOLO = {"clusters/dev/solo/_defaults.yaml": "controlPlane: {endpoint: 10.9.3.1}\n",
        "clusters/dev/solo/x.yaml": "kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n"}


def test_endpoint_change_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, SOLO)
    edit(repo, "clusters/dev/solo/_defaults.yaml", "10.9.3.1", "10.9.3.9")
    assert risks_of(repo) == [("endpoint-change", "clusters/dev/solo/_defaults.yaml:1:26")]


def test_endpoint_reused_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "clusters/dev/api.yaml").unlink()
    write_tree(repo, {"clusters/dev/solo/_defaults.yaml": "controlPlane: {endpoint: 10.9.0.2}\n",
                      "clusters/dev/solo/y.yaml": "kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n"})
    assert ("endpoint-reused", "clusters/dev/solo/_defaults.yaml:1:26") in risks_of(repo)


def test_ip_removed_in_use_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.12-10.0.0.40")
    assert risks_of(repo) == [("ip-removed-in-use", "clusters/_defaults.yaml:14:3")]


def test_overlap_and_capacity_from_defaults(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "network:\n  nameservers",
         "  db: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.40-10.0.0.41]}\n"
         "network:\n  nameservers")
    edit(repo, "clusters/dev/api.yaml", API, API + "network: {nodes: {ipPool: db}}\n")
    found = risks_of(repo)
    assert ("ip-overlap", "clusters/_defaults.yaml:15:3") in found
    assert ("pool-capacity", "clusters/_defaults.yaml:15:3") in found


def _patch(kind: str, body: str) -> str:
    return ("patches:\n- target: {kind: " + kind + "}\n  patch: |\n"
            + "\n".join("    " + line for line in body.splitlines()) + "\n")


CLUSTER = "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata: {name: any}\n"
REFUSED = {
    "endpoint-change / endpoint-reused": _patch("Cluster", CLUSTER + "spec:\n  topology:\n"
        "    variables:\n    - {name: apiServerEndpoint, value: 10.9.0.77}"),
    "immutable-field": _patch("Cluster", CLUSTER + "spec:\n  clusterNetwork:\n"
        "    pods: {cidrBlocks: [100.100.0.0/16]}"),
    "dhcp-to-ipam": _patch("Cluster", CLUSTER + "spec:\n  topology:\n    variables:\n"
        "    - name: network\n      value: {addressesFromPools: [{apiGroup: "
        "ipam.cluster.x-k8s.io, kind: InClusterIPPool, name: nodes}]}"),
    "ip-removed-in-use / ip-overlap / pool-capacity": _patch(
        "InClusterIPPool", "apiVersion: ipam.cluster.x-k8s.io/v1alpha2\nkind: InClusterIPPool\n"
        "metadata: {name: nodes}\nspec:\n  addresses: [10.0.0.12-10.0.0.40]"),
}


@pytest.mark.parametrize("classes", sorted(REFUSED))
def test_an_overlay_cannot_cause_an_inventory_only_risk(tmp_path: Path, classes: str) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/x/overlay.yaml": REFUSED[classes]})
    if classes.startswith("ip-"):  # the pool's user takes the overlay
        edit(repo, "clusters/dev/web.yaml", "network:", "overlays: [x]\nnetwork:")
    else:
        edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [x]\n")
    result = fleetgen(repo, "diff", "--format", "json")
    assert result.exit_code == 2
    problems = json.loads(result.stdout)
    assert {(p["path"], p["line"], p["code"]) for p in problems} == {
        ("overlays/x/overlay.yaml", 2, "overlay-changes-checked-field")}


def test_one_patch_rolling_control_plane_and_workers_is_one_risk(tmp_path: Path) -> None:
    """One cause, one risk: a patch that sizes both roles names both in one risk per cluster."""
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/big/overlay.yaml": dedent("""\
        patches:
        - target: {kind: Cluster}
          patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                variables:
                - name: controlPlane
                  value: {machine: {numCPUs: 8, memoryMiB: 32768, diskGiB: 80}}
                - name: worker
                  value: {machine: {numCPUs: 8, memoryMiB: 32768, diskGiB: 80}}
        """)})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [big]\n")
    report = json.loads(fleetgen(repo, "diff", "--format", "json").stdout)
    assert [(r["class"], r["location"], r["message"]) for r in report["risks"]] == [
        ("rollout", "overlays/big/overlay.yaml:2:3",
         "Cluster dev/api: a change to control-plane machines or node network settings and worker "
         "machines or node network settings replaces machines")]


def test_base_head_names_the_overlay_patch_at_the_head_commit(tmp_path: Path) -> None:
    """--base/--head reads both commits through git; the cause is still the overlay's patch."""
    from support.gitrepo import commit_all, git
    repo = make_repo(tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()
    write_tree(repo, {"overlays/ssh/overlay.yaml": SSH_OVERLAY})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [ssh]\n")
    commit_all(repo, "ssh keys for api")
    assert risks_of(repo, "--base", base, "--head", "HEAD") == [
        ("rollout", "overlays/ssh/overlay.yaml:2:3")]


JSON6902_ADD = dedent("""\
    patches:
    - target: {kind: Cluster}
      patch: |
        - op: add
          path: /spec/topology/variables/-
          value: {name: user, value: {sshAuthorizedKeys: [ssh-ed25519 AAAA ops]}}
    """)


def test_rollout_from_a_json6902_patch_adding_a_variable_names_that_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_tree(repo, {"overlays/ssh/overlay.yaml": JSON6902_ADD})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [ssh]\n")
    assert risks_of(repo) == [("rollout", "overlays/ssh/overlay.yaml:2:3")]


def test_rollout_from_a_json6902_patch_replacing_by_index_names_that_patch(tmp_path: Path) -> None:
    """The index is named by the item it points at in the rendered Cluster (here: worker)."""
    repo = make_repo(tmp_path)
    cluster = (repo / "rendered/mgmt-a/dev/api/cluster.yaml").read_text()
    import re as _re
    names = _re.findall(r"^    - name: (\S+)$", cluster, _re.M)
    index = names.index("worker")
    write_tree(repo, {"overlays/big/overlay.yaml": dedent(f"""\
        patches:
        - target: {{kind: Cluster}}
          patch: |
            - op: replace
              path: /spec/topology/variables/{index}/value/machine/numCPUs
              value: 16
        """)})
    edit(repo, "clusters/dev/api.yaml", API, API + "overlays: [big]\n")
    assert risks_of(repo) == [("rollout", "overlays/big/overlay.yaml:2:3")]
