"""The benchmark's fleets (bench/synth.py) and its plain-fleet kustomize tree (bench/fleet.py):
what the benchmark times must be a fleet fleetgen accepts without a warning, and kustomize's side
must build the objects it claims to (issue 20). No timing here: speed is bench/'s business."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from support.cli import fleetgen
from support.kubectl import kubectl

REPO = Path(__file__).resolve().parents[2]
IMPORT_CORPUS = REPO / "tests" / "tkg" / "import_corpus" / "vsphere-dhcp-dev"


def _bench() -> ModuleType:
    """bench/fleet.py as a module (bench/ is scripts, not a package); it imports bench/synth.py."""
    spec = importlib.util.spec_from_file_location("bench_fleet", REPO / "bench" / "fleet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fleet"] = module
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
SYNTH = BENCH.synth


def _validate(root: Path, clusters: int) -> None:
    result = fleetgen(root, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{clusters} clusters"), result.stdout
    assert "warning[" not in result.stderr, result.stderr


def test_plain_fleet_validates_without_warnings(tmp_path: Path) -> None:
    fleet = SYNTH.generate_plain(tmp_path, 12)
    assert fleet.clusters == 12
    files = sorted(tmp_path.joinpath(*SYNTH.PLAIN_FOLDER).glob("*.yaml"))
    assert [p.stem for p in files] == [SYNTH.plain_name(i) for i in range(12)]
    _validate(tmp_path, 12)


def test_plain_fleet_endpoints_stay_unique_past_one_subnet() -> None:
    endpoints = [SYNTH.plain_endpoint(i) for i in range(600)]
    assert len(set(endpoints)) == 600
    assert not any(e.endswith((".0", ".1", ".255")) for e in endpoints)


def test_plain_cluster_is_what_import_tkg_writes(tmp_path: Path) -> None:
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "_defaults.yaml").write_text(SYNTH.PLAIN_DEFAULTS)
    (tmp_path / "fleetgen.yaml").write_text(SYNTH.PLAIN_FLEETGEN)
    result = fleetgen(tmp_path, "import", "tkg", str(IMPORT_CORPUS / "cluster-config.yaml"),
                      "--to", str(tmp_path.joinpath(*SYNTH.PLAIN_FOLDER)))
    assert result.exit_code == 0, result.stderr
    written = tmp_path.joinpath(*SYNTH.PLAIN_FOLDER, "web-dev.yaml").read_text()
    assert written == SYNTH.PLAIN_CLUSTER.format(endpoint="10.20.0.21")


def test_synthetic_fleet_validates_without_warnings(tmp_path: Path) -> None:
    # 40 clusters hold every kind, dev and prod DHCP and IPAM clusters, AWS and Azure
    fleet = SYNTH.generate(tmp_path, 40)
    assert all(fleet.kinds.values()), fleet.kinds
    _validate(tmp_path, 40)


@pytest.mark.parametrize("cluster_only", [False, True])
def test_plain_kustomize_tree_builds_fleetgens_clusters(tmp_path: Path,
                                                        cluster_only: bool) -> None:
    n = 3
    plain, seed, kz = tmp_path / "plain", tmp_path / "seed", tmp_path / "kz"
    SYNTH.generate_plain(plain, n)
    SYNTH.generate_plain(seed, 1, base=True)
    for root in (plain, seed):
        assert fleetgen(root, "render", "-q").exit_code == 0
    per_cluster = BENCH.build_plain_kustomize_tree(seed / "rendered", kz, n,
                                                   cluster_only=cluster_only)
    # the Cluster alone, or the Cluster and its add-on configs
    assert per_cluster == 1 if cluster_only else per_cluster >= 2
    built = subprocess.run([kubectl(), "kustomize", str(kz)], capture_output=True, check=True)
    out = tmp_path / "out.yaml"
    out.write_bytes(built.stdout)
    same, detail = BENCH.compare_plain(plain / "rendered", out, n, cluster_only=cluster_only)
    assert same, detail
    assert detail.startswith(f"{n * per_cluster} objects")
    # and the check can fail: a Cluster whose endpoint the patch missed
    out.write_text(out.read_text().replace(SYNTH.plain_endpoint(2), "10.99.0.9"))
    same, detail = BENCH.compare_plain(plain / "rendered", out, n, cluster_only=cluster_only)
    assert not same and "differ" in detail
