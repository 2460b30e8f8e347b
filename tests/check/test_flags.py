"""The tanzu feature flags fleetgen derives (issue 15, item 6): custom node nameservers."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.check.run import check_fleet
from generator.load.inventory import load_inventory
from generator.problems import FleetError
from support.fleets import small_fleet

EP = "controlPlane: {endpoint: 10.0.0.10}\n"
NAMESERVERS = "network:\n  nameservers: {controlPlane: [10.0.0.53], worker: [10.0.0.53]}\n"


def flags(root: Path) -> dict[str, dict[str, dict[str, str]]]:
    return check_fleet(load_inventory(root)).flags


def test_node_nameservers_need_the_custom_nameservers_flag(tmp_path: Path) -> None:
    # tanzu-framework-release-0.29 tkg/client/validate.go:2115-2116: a workload cluster with
    # CONTROL_PLANE_NODE_NAMESERVERS / WORKER_NODE_NAMESERVERS is refused unless
    # features.cluster.custom-nameservers is "true" (default false:
    # cmd/cli/plugin/cluster/featureflags.go:15).
    small_fleet(tmp_path, web=EP + NAMESERVERS)
    assert flags(tmp_path) == {"mgmt-a": {"cluster": {"custom-nameservers": "true"}}}


def test_one_role_with_nameservers_is_enough(tmp_path: Path) -> None:
    # validate.go:2092-2097 checks each of the two variables the same way
    small_fleet(tmp_path, web=EP + "network:\n  nameservers: {worker: [10.0.0.53]}\n")
    assert flags(tmp_path) == {"mgmt-a": {"cluster": {"custom-nameservers": "true"}}}


def test_no_nameservers_no_flag(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP)
    assert flags(tmp_path) == {"mgmt-a": {}}


def test_flag_merges_with_the_dual_stack_flag(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + "network:\n  ipFamily: ipv4,ipv6\n"
                "  pods: [100.96.0.0/11, 'fd00:100:96::/48']\n"
                "  services: [100.64.0.0/13, 'fd00:100:64::/108']\n"
                "  nameservers: {controlPlane: [10.0.0.53]}\n")
    assert flags(tmp_path) == {"mgmt-a": {"cluster": {
        "custom-nameservers": "true", "dual-stack-ipv4-primary": "true"}}}


def test_custom_nameservers_cannot_be_switched_off(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=EP + NAMESERVERS
                + "features: {cluster: {custom-nameservers: \"false\"}}\n")
    with pytest.raises(FleetError) as info:
        check_fleet(load_inventory(tmp_path))
    assert [f"{p.location}: {p.code}: {p.message}" for p in info.value.problems] == [
        "clusters/dev/web.yaml:4:42: flag-conflict: node nameservers (network.nameservers) need "
        "cluster.custom-nameservers \"true\""]
