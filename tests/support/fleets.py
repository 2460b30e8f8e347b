"""Build small fleet repositories in tmp dirs from dicts of file texts."""

from __future__ import annotations

import textwrap
from pathlib import Path

# What a fleet's CI installs fleetgen with (init --install): pinned to a commit, as init writes it.
PIN = "fleetgen @ git+https://git.example.com/platform/fleetgen@0123456789abcdef0123456789abcdef01234567"

VSPHERE_DEFAULTS = """\
managementCluster: mgmt-a
infrastructure: vsphere
namespace: dev
kubernetes: {version: v1.27.5+vmware.1-tkg.1}
vsphere:
  server: vc.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/ds1
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/c1/Resources/tkg
  network: /dc0/network/nodes
  identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}  # issue 15: credentials
"""

# A vSphere flat cluster config for `fleetgen import tkg` tests; lines a test appends start at 12.
VSPHERE_FLAT = """\
CLUSTER_NAME: web
CLUSTER_PLAN: dev
NAMESPACE: dev
INFRASTRUCTURE_PROVIDER: vsphere
VSPHERE_SERVER: vc.example.com
VSPHERE_DATACENTER: /dc0
VSPHERE_DATASTORE: /dc0/datastore/ds1
VSPHERE_FOLDER: /dc0/vm/tkg
VSPHERE_RESOURCE_POOL: /dc0/host/c1/Resources/tkg
VSPHERE_NETWORK: /dc0/network/nodes
VSPHERE_CONTROL_PLANE_ENDPOINT: 10.0.0.10
"""  # extra lines start at line 12


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path → text, dedented) below ``root``; returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def small_fleet(root: Path, **clusters: str) -> Path:
    """A fleet with the vSphere defaults above and the given cluster files (name → text)."""
    files = {"clusters/_defaults.yaml": VSPHERE_DEFAULTS}
    files.update({f"clusters/dev/{name}.yaml": text for name, text in clusters.items()})
    return write_tree(root, files)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root`` with its bytes and mtime (ns), to prove nothing changed."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}
