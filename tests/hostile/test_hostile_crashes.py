"""Inputs that crashed with exit 3 (issue 14, item 7) and are now located errors."""

from __future__ import annotations

from pathlib import Path

from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_refused, write


def test_an_empty_worker_list_is_refused_at_its_line(fleet: Path) -> None:
    # tanzu refuses a workload cluster without workers unless single-node clusters are enabled
    # (tanzu-framework release-0.29, tkg/client/cluster.go:1016); it crashed the views before.
    write(fleet, {WEB_FILE: WEB + "workers: []\n"})
    assert_refused(fleet, [
        "clusters/dev/web.yaml:3:10: error[invalid-value]: workers: a cluster needs at least one "
        "worker pool (tanzu refuses a cluster without workers); leave 'workers' out for the "
        "plan's default"])


def test_a_value_ruamel_cannot_construct_in_rendered_is_not_a_crash(fleet: Path) -> None:
    # A pull request's rendered/ is input too: `!!int '3'''` made ruamel's constructor raise a
    # ValueError, which diff reported as an internal error (exit 3).
    write(fleet, {"rendered/mgmt-a/dev/web/cluster.yaml": "x: !!int '3'''\n"})
    result = fleetgen(fleet, "diff")
    assert result.exit_code == 1, result.output
    assert "unexpected error" not in result.output
