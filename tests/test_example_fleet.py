"""The example fleet: its committed rendered/ is the golden output of every example cluster.

Refresh after an intended change with `fleetgen render` at the repository root, and review the
diff of rendered/ like code.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

import pytest

from generator.check.fleet import Cluster, Fleet
from generator.load.model import IPPool
from generator.pipeline import load_fleet, wanted_files
from generator.paths import MANIFEST, RENDERED_DIR

REPO = Path(__file__).resolve().parents[1]
REFRESH = "run `fleetgen render` at the repository root and review the diff of rendered/"


@cache
def fleet() -> Fleet:
    return load_fleet(REPO)


@cache
def wanted() -> dict[str, bytes]:
    return wanted_files(REPO, fleet())


def committed() -> dict[str, bytes]:
    base = REPO / RENDERED_DIR
    return {p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file() and p.name != MANIFEST}


@pytest.mark.parametrize("folder", sorted(c.folder for c in fleet().clusters))
def test_example_cluster_matches_committed_rendered(folder: str) -> None:
    mine = {p: b for p, b in wanted().items() if p.startswith(folder + "/")}
    theirs = {p: b for p, b in committed().items() if p.startswith(folder + "/")}
    assert sorted(mine) == sorted(theirs), REFRESH
    for path in mine:
        assert mine[path] == theirs[path], f"rendered/{path} is stale: {REFRESH}"


def test_no_other_file_in_rendered() -> None:
    assert sorted(committed()) == sorted(wanted()), REFRESH


def _by_name(name: str) -> Cluster:
    (hit,) = [c for c in fleet().clusters if c.spec.name == name and
              not (name == "sandbox" and c.spec.infrastructure != "vsphere")]
    return hit


def test_example_fleet_covers_the_documented_scenarios() -> None:
    clusters = fleet().clusters
    specs = [c.spec for c in clusters]
    assert len(clusters) >= 10
    assert len({s.management_cluster for s in specs}) >= 2
    vsphere = [s for s in specs if s.infrastructure == "vsphere"]
    assert any(s.network.nodes.ip_pool is None and s.control_plane.endpoint_provider == "kube-vip"
               for s in vsphere), "vSphere DHCP with kube-vip"
    assert any(s.control_plane.endpoint_provider == "nsx-alb" and not _is_ip(s.control_plane.endpoint)
               for s in vsphere), "NSX ALB with an FQDN endpoint"
    assert any(s.network.ip_family == "ipv6" for s in vsphere), "IPv6-only"
    assert any(s.network.dual_stack for s in vsphere), "dual-stack"
    aws = [s for s in specs if s.aws is not None]
    assert any(s.plan == "prod" and len({n.az for n in s.aws.subnets}) == 3 for s in aws)
    azure = [s.azure for s in specs if s.azure is not None]
    assert any(a.worker_subnet.cidr and a.control_plane_subnet.cidr for a in azure)
    assert any(a.worker_subnet.existing and a.control_plane_subnet.existing for a in azure)


def test_seed_document_pool_is_in_the_example() -> None:
    pools = {p.name: p for p in fleet().pools}
    seed = [p for p in pools.values() if p.spec == IPPool(
        kind="InClusterIPPool", gateway="10.10.10.1", prefix=24,
        addresses=["10.10.10.2-10.10.10.100", "10.10.10.102", "10.10.10.104"])]
    assert len(seed) == 1
    (user,) = seed[0].users
    assert user.spec.network.nameservers.control_plane == ["10.10.10.10", "10.10.10.11"]
    assert user.spec.network.nameservers.worker == ["10.10.10.10", "10.10.10.11"]
    shared = [p for p in pools.values() if p.kind == "GlobalInClusterIPPool"]
    assert any(len({u.spec.namespace for u in p.users}) >= 2 for p in shared)


def _is_ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
    except ValueError:
        return False
    return True
