"""Issue 17, "Round trip, proven": for every case of the parity corpus, flat → import → render
gives a ``cluster-config.yaml`` equal to the input up to spelling (defined in
tests/tkg/test_i_faithful.py), whatever the ``_defaults.yaml`` of the folders it is imported into.

tests/tkg/test_parity.py ``test_reimport_round_trip`` already proves that the rendered flat
config, re-imported, gives the same inventory (in a folder without defaults). This file proves
the other direction under hostile folders: the flat config the user had comes back, variable by
variable, and nothing the folders say leaks in.

- ``test_every_case_comes_back``: all 45 cases in one bulk run into a folder whose defaults
  differ everywhere they can, compared case by case with the baseline (the same cases imported
  into a folder without defaults);
- ``test_random_subsets_into_random_folders``: hypothesis picks a subset of the corpus, spreads
  it over up to three folders (nested or not, each of its own management cluster) with
  random differing ``_defaults.yaml``, imports it in one run and renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.cli import fleetgen
from support.fleets import write_tree
from test_i_faithful import (
    FLEET,
    PARITY,
    SITE_DEFAULTS,
    flat_of,
    ok,
    rendered,
    spelling_differences,
)

CASES = sorted(p.name for p in PARITY.iterdir() if p.is_dir())


def export(folder: Path, cases: dict[str, str]) -> Path:
    """The cases' flat configs (and pools) as a bulk import folder: case → sub-folder."""
    files = {}
    for case, sub in cases.items():
        files[f"{sub}/{case}.yaml"] = (PARITY / case / "cluster-config.yaml").read_text("utf-8")
        if (PARITY / case / "pool.yaml").is_file():
            files[f"{sub}/{case}-pool.yaml"] = (PARITY / case / "pool.yaml").read_text("utf-8")
    return write_tree(folder, files)


def bulk(root: Path, source: Path, *args: str) -> dict[str, str]:
    """Import ``source`` in one run, render; the warnings (stderr) of each flat config."""
    result = ok(fleetgen(root, "import", "tkg", str(source), *args), "bulk import")
    ok(fleetgen(root, "render"), "render")
    lines = result.stderr.splitlines()
    return {case: "\n".join(line for line in lines if f"/{case}.yaml:" in line)
            for case in CASES}


def skipped(stderr: str) -> set[str]:
    return {line.split("]: ", 1)[1].split()[0] for line in stderr.splitlines()
            if "warning[not-imported]" in line or "warning[unknown-variable]" in line}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case imported into a folder without defaults and rendered: R0 per case."""
    tmp = tmp_path_factory.mktemp("baseline")
    root = write_tree(tmp / "fleet", {**FLEET, "clusters/plain/.keep": ""})
    bulk(root, export(tmp / "export", {case: "all" for case in CASES}), "--to", "clusters/plain")
    return {case: rendered(root, str(flat_of(case)["CLUSTER_NAME"]))[0] for case in CASES}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Every case imported in one run into a folder whose defaults differ everywhere."""
    tmp = tmp_path_factory.mktemp("hostile")
    root = write_tree(tmp / "fleet", {**FLEET, "clusters/site/_defaults.yaml": SITE_DEFAULTS})
    warnings = bulk(root, export(tmp / "export", {case: "all" for case in CASES}),
                    "--to", "clusters/site")
    return root, warnings


def check(root: Path, case: str, stderr: str, base: dict[str, Any]) -> None:
    flat = flat_of(case)
    config, cluster = rendered(root, str(flat["CLUSTER_NAME"]))
    assert spelling_differences(flat, config, cluster, skipped(stderr)) == {}, case
    assert config == base, case


@pytest.mark.parametrize("case", CASES)
def test_every_case_comes_back(case: str, hostile: tuple[Path, dict[str, str]],
                               baseline: dict[str, dict[str, Any]]) -> None:
    root, warnings = hostile
    check(root, case, warnings[case], baseline[case])


def test_the_baseline_is_the_input(baseline: dict[str, dict[str, Any]],
                                   tmp_path: Path) -> None:
    """R0 itself holds every variable the input sets (part 1 of "up to spelling")."""
    root = write_tree(tmp_path / "fleet", {**FLEET, "clusters/plain/.keep": ""})
    warnings = bulk(root, export(tmp_path / "export", {case: "all" for case in CASES}),
                    "--to", "clusters/plain")
    for case in CASES:
        check(root, case, warnings[case], baseline[case])


# Settings a folder may hold that differ from the corpus's flat configs; any subset of them,
# for clusters of any infrastructure (what does not apply is overridden with null).
SNIPPETS = {
    "namespace": "namespace: elsewhere\n",
    "plan": "plan: prod\n",
    "kubernetes": "kubernetes: {version: v1.26.8+vmware.1-tkg.1, class: tkg-x-v1.0.0}\n",
    "os": "os: {name: photon, version: '5', arch: arm64}\n",
    "controlPlane": "controlPlane: {replicas: 5, endpoint: 10.9.9.9, endpointProvider: nsx-alb}\n",
    "cni": "cni: calico\n",
    "network": ("network:\n  pods: [10.10.0.0/16]\n  services: [10.11.0.0/16]\n"
                "  nameservers: {controlPlane: [10.0.0.53], worker: [10.0.0.54]}\n"
                "  searchDomains: {worker: [corp.example]}\n"),
    "vsphere": ("vsphere:\n  server: vc-other.example.com\n  template: /dc0/vm/other\n"
                "  tlsThumbprint: 'AA:BB'\n  network: /dc0/network/other\n"
                "  datastore: /dc0/datastore/other\n  cloneMode: linkedClone\n"),
    "aws": "aws: {bastion: false}\n",
    "azure": "azure: {environment: AzureUSGovernmentCloud}\n",
    "ntpServers": "ntpServers: [ntp.example.com]\n",
    "auditLogging": "auditLogging: true\n",
    "proxy": ("proxy: {httpProxy: 'http://p.example.com:3128', "
              "httpsProxy: 'http://p.example.com:3128'}\n"),
    "podSecurityStandard": "podSecurityStandard: {audit: restricted, enforce: baseline}\n",
    "imageRepository": "imageRepository: {host: registry.example.com}\n",
    "machine": "machine: {numCPUs: 8, memoryMiB: 16384}\n",
    "workers": "workers: [{name: md-x, replicas: 5}]\n",
    "antrea": ("antrea: {proxyAll: true, trafficEncapMode: hybrid, "
               "egressExceptCIDRs: [10.0.0.0/8]}\n"),
    "additionalImageRegistries": "additionalImageRegistries: [{host: extra.example.com}]\n",
    "sshAuthorizedKeys": "sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther']\n",
}
FOLDERS = ["clusters/a", "clusters/a/b", "clusters/c"]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cases=st.lists(st.sampled_from(CASES), min_size=1, max_size=6, unique=True),
       data=st.data())
def test_random_subsets_into_random_folders(cases: list[str], data: st.DataObject,
                                            baseline: dict[str, dict[str, Any]],
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("random")
    files = dict(FLEET)
    for index, folder in enumerate(FOLDERS):
        chosen = data.draw(st.lists(st.sampled_from(sorted(SNIPPETS)), unique=True), folder)
        files[f"{folder}/_defaults.yaml"] = (f"managementCluster: m{index}\n"
                                             + "".join(SNIPPETS[key] for key in chosen))
    root = write_tree(tmp / "fleet", files)
    places = {case: data.draw(st.sampled_from(range(len(FOLDERS))), case) for case in cases}
    mapping = "".join(f"- {{managementCluster: m{i}, to: {folder}}}\n"
                      for i, folder in enumerate(FOLDERS))
    write_tree(tmp, {"map.yaml": mapping})
    source = export(tmp / "export", {case: f"m{place}" for case, place in places.items()})
    warnings = bulk(root, source, "--map", str(tmp / "map.yaml"))
    for case in cases:
        check(root, case, warnings[case], baseline[case])
