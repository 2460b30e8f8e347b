"""`fleetgen ipam plan` and `fleetgen ipam migrate` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

from ruamel.yaml import YAML

from generator.ipam.migrate import convert_spec, inventory_pool
from support.cli import fleetgen
from support.crds import validate_object
from support.fleets import VSPHERE_DEFAULTS, write_tree

REPO = Path(__file__).resolve().parents[2]


def address(name: str, ip: str, pool: str = "payments-pool", kind: str = "InClusterIPPool",
            claim: str | None = None, namespace: str = "prod") -> dict[str, object]:
    return {"apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "IPAddress",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"address": ip, "prefix": 24, "gateway": "10.10.10.1",
                     "claimRef": {"name": claim or name},
                     "poolRef": {"apiGroup": "ipam.cluster.x-k8s.io", "kind": kind, "name": pool}}}


def claim(name: str, namespace: str = "prod") -> dict[str, object]:
    return {"apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "IPAddressClaim",
            "metadata": {"name": name, "namespace": namespace}}


def export(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def test_plan_of_the_example_fleet_as_json() -> None:
    result = fleetgen(REPO, "ipam", "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    payments = next(p for p in plan["pools"] if p["name"] == "payments-pool")
    assert payments["addresses"] == ["10.10.10.2-10.10.10.100", "10.10.10.102", "10.10.10.104"]
    # prod without `workers`: tanzu's md-0/md-1/md-2 of one worker each, and each machine
    # deployment rolls (and surges) on its own, as the control plane does: 3 + 3 + 4.
    assert (payments["size"], payments["allocatable"], payments["needed"]) == (101, 101, 10)
    assert payments["users"] == [{"cluster": "mgmt-site-a/prod/payments", "controlPlane": 3,
                                  "workers": 3, "surge": 4, "needs": 10}]
    assert payments["next"] == ["10.10.10.2-10.10.10.11"]
    assert plan["blocked"] is False


def test_plan_with_live_allocations_predicts_the_next_free_addresses(tmp_path: Path) -> None:
    items = [address(f"m{i}", f"10.10.10.{i}") for i in (2, 3, 5)] + \
            [claim(f"m{i}") for i in (2, 3, 5)]
    live = export(tmp_path / "live.yaml", items)
    result = fleetgen(REPO, "ipam", "plan", "--live", str(live), "--format", "json")
    assert result.exit_code == 0, result.output
    payments = next(p for p in json.loads(result.stdout)["pools"] if p["name"] == "payments-pool")
    assert payments["live"] == {"allocated": ["10.10.10.2-10.10.10.3", "10.10.10.5"],
                                "allocatedCount": 3, "removedInUse": [], "orphans": []}
    # 10 needed, 3 allocated: the provider hands out the 7 lowest free addresses next
    assert payments["next"] == ["10.10.10.4", "10.10.10.6-10.10.10.11"]


def test_plan_exits_4_when_an_in_use_address_would_leave_its_pool(tmp_path: Path) -> None:
    items = [address("m1", "10.10.10.2"), claim("m1"), address("m2", "10.10.10.103"),
             address("m3", "10.20.30.20", pool="gone", kind="GlobalInClusterIPPool",
                     namespace="data"), claim("m3", "data")]
    live = export(tmp_path / "live.yaml", items)
    result = fleetgen(REPO, "ipam", "plan", "--live", str(live))
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    assert "  IN USE BUT REMOVED  10.10.10.103" in lines
    assert "  orphan     prod/m2 (10.10.10.103): claim m2 not found" in lines
    assert ("in use on mgmt-site-a but not in the inventory: GlobalInClusterIPPool gone "
            "(1 addresses allocated)") in lines
    assert lines[-1] == "blocked: a pool is short, or an address in use would leave its pool"


def test_plan_exits_4_for_a_short_pool_but_render_refuses_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS,
        "clusters/dev/a.yaml": dedent("""\
            controlPlane: {endpoint: 10.9.0.1}
            network:
              nodes: {ipPool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.10-10.0.0.11]}}
              nameservers: {controlPlane: [10.0.0.2], worker: [10.0.0.2]}
            """)})
    result = fleetgen(tmp_path, "ipam", "plan")
    assert result.exit_code == 4
    assert "  needed     4, headroom -2 (-100% of allocatable) SHORT" in result.stdout
    render = fleetgen(tmp_path, "render")
    assert render.exit_code == 2
    assert "error[pool-capacity]: pool 'a-pool' is short by 2" in render.stderr


def test_live_export_that_is_not_a_list(tmp_path: Path) -> None:
    bad = tmp_path / "live.yaml"
    bad.write_text("kind: Pod\n")
    result = fleetgen(REPO, "ipam", "plan", "--live", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:1:1: error[live-export]: expected a 'kind: List' with 'items'" in result.stderr


V1ALPHA1 = """\
apiVersion: ipam.cluster.x-k8s.io/v1alpha1
kind: InClusterIPPool
metadata: {name: old, namespace: default}
spec: {subnet: 10.10.10.0/24, gateway: 10.10.10.1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched}
data: {mode: "on"}
"""


def test_migrate_prints_converted_pools_and_keeps_other_documents(tmp_path: Path) -> None:
    source = tmp_path / "pools.yaml"
    source.write_text(V1ALPHA1)
    result = fleetgen(None, "ipam", "migrate", str(source))
    assert result.exit_code == 0, result.output
    docs = list(YAML(typ="safe").load_all(result.stdout))
    assert docs[0] == {"apiVersion": "ipam.cluster.x-k8s.io/v1alpha2", "kind": "InClusterIPPool",
                       "metadata": {"name": "old", "namespace": "default"},
                       "spec": {"addresses": ["10.10.10.1-10.10.10.254"], "prefix": 24,
                                "gateway": "10.10.10.1"}}
    assert validate_object(docs[0]) == []
    assert docs[1]["data"] == {"mode": "on"}
    assert source.read_text() == V1ALPHA1, "without --write nothing is rewritten"


def test_migrate_write_rewrites_in_place(tmp_path: Path) -> None:
    source = tmp_path / "pools.yaml"
    source.write_text(V1ALPHA1)
    result = fleetgen(None, "ipam", "migrate", "--write", str(source))
    assert result.exit_code == 0
    assert f"{source}: 1 pool converted" in result.stderr
    assert "v1alpha2" in source.read_text() and "subnet" not in source.read_text()


def test_migrate_reports_a_bad_subnet_at_its_line(tmp_path: Path) -> None:
    source = tmp_path / "pools.yaml"
    source.write_text(V1ALPHA1.replace("10.10.10.0/24", "10.10.10.0/33"))
    result = fleetgen(None, "ipam", "migrate", "--write", str(source))
    assert result.exit_code == 2
    assert f"{source}:4:16: error[pool-address]: subnet '10.10.10.0/33' is not a CIDR" in \
        result.stderr
    assert "/33" in source.read_text()


def test_conversion_rules_of_the_provider() -> None:
    # start/end given: kept; prefix kept even when the subnet says otherwise
    assert convert_spec({"subnet": "10.0.0.0/24", "start": "10.0.0.10", "end": "10.0.0.20",
                         "prefix": 25, "gateway": "10.0.0.1"}) == {
        "addresses": ["10.0.0.10-10.0.0.20"], "prefix": 25, "gateway": "10.0.0.1"}
    # no subnet: start-end as they are
    assert convert_spec({"start": "10.0.0.10", "end": "10.0.0.20", "prefix": 24}) == {
        "addresses": ["10.0.0.10-10.0.0.20"], "prefix": 24}
    # IPv6 subnet
    assert convert_spec({"subnet": "fd00::/120"}) == {"addresses": ["fd00::1-fd00::fe"],
                                                      "prefix": 120}


def test_upstream_pool_object_becomes_an_inventory_pool() -> None:
    name, pool = inventory_pool({
        "apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "InClusterIPPool",
        "metadata": {"name": "wl1-pool"},
        "spec": {"start": "10.10.10.2", "end": "10.10.10.100", "prefix": 24,
                 "gateway": "10.10.10.1"}})
    assert (name, pool) == ("wl1-pool", {"kind": "InClusterIPPool", "prefix": 24,
                                         "addresses": ["10.10.10.2-10.10.10.100"],
                                         "gateway": "10.10.10.1"})


def test_readme_shows_the_real_plan_of_the_example_fleet() -> None:
    readme = (REPO / "README.md").read_text()
    shown = readme.split("$ fleetgen ipam plan\n", 1)[1].split("```", 1)[0]
    assert fleetgen(REPO, "ipam", "plan").stdout == shown
