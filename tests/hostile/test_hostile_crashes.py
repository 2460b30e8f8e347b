"""Inputs that crashed with exit 3 (issue 14, item 7) and are now located errors."""

from __future__ import annotations

from pathlib import Path

from support.hostile import WEB, WEB_FILE, assert_refused, write


def test_an_empty_worker_list_is_refused_at_its_line(fleet: Path) -> None:
    # tanzu refuses a workload cluster without workers unless single-node clusters are enabled
    # (tanzu-framework release-0.29, tkg/client/cluster.go:1016); it crashed the views before.
    write(fleet, {WEB_FILE: WEB + "workers: []\n"})
    assert_refused(fleet, [
        "clusters/dev/web.yaml:3:10: error[invalid-value]: workers: a cluster needs at least one "
        "worker pool (tanzu refuses a cluster without workers); leave 'workers' out for the "
        "plan's default"])
