"""allocateReservedIPAddresses (issue 15, item 7): the rendered pool, `ipam plan` and the capacity
check agree with what the in-cluster IPAM provider hands out.

The provider removes from a pool's addresses the excluded ones, the gateway, and, unless
allocateReservedIPAddresses is true, the network address of (lowest address)/prefix and for IPv4
its broadcast address (cluster-api-ipam-provider-in-cluster v0.1.0
internal/poolutil/pool.go:105-141 PoolSpecToIPSet, lines 123-130 for the reserved addresses;
the field: ../shared/crds/ipam-in-cluster-v0.1.0/ipam.cluster.x-k8s.io_inclusterippools.yaml:179-185).
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from generator.yaml.fast import load_fast
from support.cli import fleetgen
from support.crds import validate_object
from support.fleets import VSPHERE_DEFAULTS, write_tree

FLEETGEN_YAML = """\
credentials:
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}
"""


def fleet(root: Path, allocate: bool | None) -> Path:
    """One cluster on an inline /29 pool: 8 addresses, the gateway .1 among them."""
    flag = "" if allocate is None else f", allocateReservedIPAddresses: {str(allocate).lower()}"
    return write_tree(root, {
        "fleetgen.yaml": FLEETGEN_YAML,
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS,
        "clusters/dev/web.yaml": dedent(f"""\
            controlPlane: {{endpoint: 10.9.0.1}}
            network:
              nodes: {{ipPool: {{gateway: 10.0.0.1, prefix: 29, addresses: [10.0.0.0/29]{flag}}}}}
              nameservers: {{controlPlane: [10.0.0.53], worker: [10.0.0.53]}}
            """)})


def plan(root: Path) -> dict[str, object]:
    result = fleetgen(root, "ipam", "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    [pool] = json.loads(result.stdout)["pools"]
    assert isinstance(pool, dict)
    return pool


def rendered_pool(root: Path) -> dict[str, object]:
    result = fleetgen(root, "render")
    assert result.exit_code == 0, result.output
    [path] = (root / "rendered").rglob("ippool*.yaml")
    doc = load_fast(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize(("allocate", "allocatable", "next_four"), [
    # 8 addresses − gateway .1 − network .0 − broadcast .7 (pool.go:123-130, 132-138)
    (None, 5, ["10.0.0.2-10.0.0.5"]),
    (False, 5, ["10.0.0.2-10.0.0.5"]),
    # allocateReservedIPAddresses: only the gateway is left out (pool.go:132-138)
    (True, 7, ["10.0.0.0", "10.0.0.2-10.0.0.4"]),
])
def test_plan_counts_what_the_provider_hands_out(tmp_path: Path, allocate: bool | None,
                                                  allocatable: int, next_four: list[str]) -> None:
    pool = plan(fleet(tmp_path, allocate))
    assert (pool["size"], pool["allocatable"]) == (8, allocatable)
    # 1 cp + 1 worker + 2 surge = 4: the lowest addresses the provider hands out
    assert pool["next"] == next_four


def test_render_writes_the_flag_the_plan_counted(tmp_path: Path) -> None:
    pool = rendered_pool(fleet(tmp_path, True))
    spec = pool["spec"]
    assert isinstance(spec, dict)
    assert spec["allocateReservedIPAddresses"] is True
    assert validate_object(pool) == []  # the v0.1.0 schema has the field (crds.py IPAM_POOL_DIR)


@pytest.mark.parametrize("allocate", [None, False])
def test_the_default_is_not_written(tmp_path: Path, allocate: bool | None) -> None:
    # false is the provider's default; a pre-v0.1.0 build has no such field (domain.md §2: emit
    # only addresses/prefix/gateway unless asked for more)
    spec = rendered_pool(fleet(tmp_path, allocate))["spec"]
    assert isinstance(spec, dict) and "allocateReservedIPAddresses" not in spec


def test_capacity_check_counts_the_reserved_addresses_only_with_the_flag(tmp_path: Path) -> None:
    # 3 workers + 1 cp + 2 surge = 6: short without the flag (5), fits with it (7)
    for allocate, code in ((False, 2), (True, 0)):
        root = fleet(tmp_path / str(allocate), allocate)
        web = root / "clusters/dev/web.yaml"
        web.write_text(web.read_text() + "workers: [{name: md-0, replicas: 3}]\n")
        result = fleetgen(root, "validate")
        assert result.exit_code == code, result.output
        if code:
            assert "error[pool-capacity]: pool 'web-pool' is short by 1: 5 allocatable" in \
                result.stderr


def test_no_reserved_address_warning_when_they_are_meant_to_be_handed_out(tmp_path: Path) -> None:
    result = fleetgen(fleet(tmp_path / "a", True), "validate")
    assert "pool-reserved-address" not in result.output
    result = fleetgen(fleet(tmp_path / "b", False), "validate")
    assert "warning[pool-reserved-address]" in result.output
