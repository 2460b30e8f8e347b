"""Synthetic fleets for ``bench/fleet.py``: N clusters as inventory files in a temporary folder.

The mix (by share of N): vSphere with DHCP nodes and kube-vip endpoints 35 %, vSphere with node
IPAM 30 % (pools declared in ``_defaults.yaml`` and shared by 2-4 clusters each; every fourth pool
a ``GlobalInClusterIPPool`` shared across namespaces), IPv6-only vSphere 5 %, dual-stack vSphere
5 %, AWS prod across three AZs 15 %, Azure 10 %. vSphere clusters spread round-robin over
``ceil(vsphere / 500)`` (at least 2) management clusters, AWS over two regions, Azure over
``ceil(azure / 500)`` management clusters; namespaces per kind (dev, web, batch, prod, data, edge,
lab, shop, payments, crm, erp). Every cluster name is unique in the fleet, as is every endpoint and
every pool's /24, so the whole fleet's objects can also be built by one kustomization.

Every cluster lists the two overlays written under ``overlays/`` (``sizing`` and ``labels``,
inherited from the root ``_defaults.yaml``) unless ``overlays=False``. Both overlays mean the same
to fleetgen and to kustomize (no list in a patch: fleetgen merges topology variables by name where
kustomize replaces the list), so their outputs can be compared object by object.

The synthetic clusters declare only machine deployments that ``tanzu cluster create --file`` can
also build (md-0 on dev, md-0, md-1, md-2 on prod, one worker size, no labels), so ``fleetgen
validate`` passes with no warning at every size.

``generate_plain`` writes the other fleet of issue 20: N copies of one imported vSphere DHCP
cluster, no overlays, differing only in name and endpoint.

The same arguments always give the same files.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from pathlib import Path

KINDS = (("vsphere-dhcp", 35), ("vsphere-ipam", 30), ("ipv6", 5), ("dual-stack", 5),
         ("aws", 15), ("azure", 10))
PREFIX = {"vsphere-dhcp": "vs-dhcp", "vsphere-ipam": "vs-ipam", "ipv6": "v6", "dual-stack": "ds",
          "aws": "aws", "azure": "az"}
OVERLAYS = ("sizing", "labels")
SSH_KEY = ("c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUVYYW1wbGVLZXlGb3JGbGVldGdlbkRvY3Mg"
           "cGxhdGZvcm1AZXhhbXBsZS5jb20=")

SIZING_PATCH = """\
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: any
  annotations:
    fleet.example.com/sizing: ha-control-plane
spec:
  topology:
    controlPlane:
      replicas: 3
"""

# (overlay name, fields shared by fleetgen's overlay.yaml and kustomize's Component)
OVERLAY_TEXT = {
    "sizing": """\
# Benchmark sizing overlay: a highly available control plane (a strategic-merge patch on every
# Cluster; no list is patched, so fleetgen and kustomize agree).
patches:
- target:
    kind: Cluster
  patch: |
""" + "".join(f"    {line}\n" for line in SIZING_PATCH.splitlines()),
    "labels": """\
# Benchmark labels overlay: cost accounting labels and an on-call annotation on every object.
labels:
- pairs:
    fleet.example.com/cost-center: cc-4711
    fleet.example.com/tier: standard
commonAnnotations:
  fleet.example.com/contact: platform-oncall
""",
}

ROOT_DEFAULTS = """\
# Inherited by every cluster of the synthetic fleet.
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
os:
  name: ubuntu
  version: "22.04"
  arch: amd64
cni: antrea
labels:
  fleet.example.com/owner: platform-team
"""


@dataclass
class Fleet:
    """What was written, for the benchmark's bookkeeping."""

    root: Path
    clusters: int = 0
    management_clusters: set[str] = field(default_factory=set)
    namespaces: set[tuple[str, str]] = field(default_factory=set)
    pools: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    edit_target: Path | None = None  # a DHCP cluster file whose md-0 replicas can be changed


def counts(n: int) -> dict[str, int]:
    """Clusters per kind for a fleet of n (largest remainder, so they add up to n)."""
    total = sum(w for _, w in KINDS)
    exact = {k: n * w / total for k, w in KINDS}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:n - sum(out.values())]:
        out[k] += 1
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _endpoint(k: int) -> str:
    """The k-th IPv4 kube-vip endpoint, in 10.128.0.0/9 (apart from every pool)."""
    return str(ipaddress.IPv4Address("10.128.0.0") + (k // 250) * 256 + k % 250 + 2)


def _pool_subnet(j: int) -> ipaddress.IPv4Address:
    """The network address of the j-th pool's /24, in 10.0.0.0/9."""
    if j >= 1 << 15:
        raise ValueError("more than 32768 node pools do not fit the address plan")
    return ipaddress.IPv4Address("10.0.0.0") + (j << 8)


def _vsphere_block(m: int) -> str:
    return f"""\
vsphere:
  server: vc{m:02d}.example.com
  datacenter: /dc{m}
  datastore: /dc{m}/datastore/vsanDatastore
  folder: /dc{m}/vm/tkg
  resourcePool: /dc{m}/host/cluster0/Resources/tkg
  network: /dc{m}/network/tkg-nodes
  template: /dc{m}/vm/templates/ubuntu-2204-kube-v1.27.5
  identityRef: {{kind: VSphereClusterIdentity, name: vc{m:02d}}}
"""


def _workers(i: int, plan: str) -> tuple[str, int, int]:
    """A workers block, its total replicas and its number of machine deployments. Only what
    ``tanzu cluster create --file`` can also build (no ``flat-inexpressible`` warning, so
    ``validate`` stays silent): md-0 on dev, md-0, md-1 and md-2 on prod, all of class
    tkg-worker with the one worker size, no labels; the replicas vary per cluster."""
    if plan == "prod":
        counts = [3 + i % 3, 1 + (i + 1) % 3, 1 + (i + 2) % 3]
    else:
        counts = [1 + i % 3]
    text = "workers:\n" + "".join(f"- name: md-{k}\n  replicas: {r}\n"
                                   for k, r in enumerate(counts))
    return text, sum(counts), len(counts)


def generate(root: Path, n: int, *, overlays: bool = True) -> Fleet:
    """Write a fleet of n clusters under root (clusters/, overlays/)."""
    fleet = Fleet(root)
    per_kind = counts(n)
    fleet.kinds = dict(per_kind)
    defaults = ROOT_DEFAULTS + (f"overlays: [{', '.join(OVERLAYS)}]\n" if overlays else "")
    _write(root / "clusters" / "_defaults.yaml", defaults)
    for name, text in OVERLAY_TEXT.items():
        _write(root / "overlays" / name / "overlay.yaml", text)

    def add(path: Path, text: str, mgmt: str, namespace: str) -> None:
        _write(path, text)
        fleet.clusters += 1
        fleet.management_clusters.add(mgmt)
        fleet.namespaces.add((mgmt, namespace))

    # --- vSphere -----------------------------------------------------------------------------
    vsphere_kinds = ("vsphere-dhcp", "vsphere-ipam", "ipv6", "dual-stack")
    vsphere_total = sum(per_kind[k] for k in vsphere_kinds)
    vs_mgmts = max(2, math.ceil(vsphere_total / 500))
    base = root / "clusters" / "vsphere"
    _write(base / "_defaults.yaml", "# Every vSphere cluster.\ninfrastructure: vsphere\n")
    for m in range(vs_mgmts):
        _write(base / f"mgmt-vs-{m:02d}" / "_defaults.yaml",
               f"# vCenter {m}, managed by mgmt-vs-{m:02d}.\n"
               f"managementCluster: mgmt-vs-{m:02d}\n" + _vsphere_block(m))
    # interleave the vSphere kinds so every management cluster gets every kind
    order = [(k, i) for k in vsphere_kinds for i in range(per_kind[k])]
    order.sort(key=lambda ki: (ki[1] / max(per_kind[ki[0]], 1), ki[0]))
    endpoint = 0
    ipam_by_mgmt: dict[int, list[int]] = {m: [] for m in range(vs_mgmts)}
    written_folders: set[Path] = set()

    def folder_defaults(folder: Path, text: str) -> None:
        if folder not in written_folders:
            written_folders.add(folder)
            _write(folder / "_defaults.yaml", text)

    for g, (kind, i) in enumerate(order):
        m = g % vs_mgmts
        mgmt = f"mgmt-vs-{m:02d}"
        site = base / mgmt
        name = f"{PREFIX[kind]}-{i:05d}"
        if kind == "vsphere-ipam":
            ipam_by_mgmt[m].append(i)
            continue
        if kind == "vsphere-dhcp":
            namespace = ("dev", "web", "batch", "prod")[i % 4]
            plan = "prod" if namespace == "prod" else "dev"
            folder = site / "dhcp" / namespace
            folder_defaults(folder, f"namespace: {namespace}\nplan: {plan}\n")
            workers, _, _ = _workers(i, plan)
            text = (f"# vSphere, DHCP node addresses, kube-vip endpoint.\n"
                    f"controlPlane:\n  endpoint: {_endpoint(endpoint)}\n" + workers)
            if i % 5 == 0:
                text += "vsphere:\n  cloneMode: linkedClone\n"
            if i % 6 == 0:
                text += f"labels:\n  fleet.example.com/team: team-{i % 13}\n"
            endpoint += 1
            path = folder / f"{name}.yaml"
            if fleet.edit_target is None and i >= per_kind[kind] // 2:
                fleet.edit_target = path
            add(path, text, mgmt, namespace)
        elif kind == "ipv6":
            folder = site / "ipv6"
            folder_defaults(folder, "namespace: edge\nplan: dev\nnetwork:\n  ipFamily: ipv6\n")
            address = ipaddress.IPv6Address(f"fd00:20:{m:x}::") + 0x10 + i
            dns = ipaddress.IPv6Address(f"fd00:20:{m:x}::53")
            workers, _, _ = _workers(i, "dev")
            text = (f"# IPv6-only, static IPv6 kube-vip endpoint.\n"
                    f"controlPlane:\n  endpoint: \"{address}\"\n" + workers +
                    f"network:\n  nameservers:\n    controlPlane: [\"{dns}\"]\n"
                    f"    worker: [\"{dns}\"]\n")
            add(folder / f"{name}.yaml", text, mgmt, "edge")
        else:  # dual-stack
            folder = site / "dual-stack"
            folder_defaults(folder, "namespace: lab\nplan: dev\nnetwork:\n  ipFamily: ipv4,ipv6\n"
                                    "  pods: [100.96.0.0/11, \"fd00:100:96::/48\"]\n"
                                    "  services: [100.64.0.0/13, \"fd00:100:64::/108\"]\n")
            workers, _, _ = _workers(i, "dev")
            text = (f"# Dual-stack, IPv4 primary.\ncontrolPlane:\n"
                    f"  endpoint: {_endpoint(endpoint)}\n" + workers)
            endpoint += 1
            add(folder / f"{name}.yaml", text, mgmt, "lab")

    # node IPAM: groups of 2-4 clusters per pool, within one management cluster
    pool = 0
    for m, indexes in ipam_by_mgmt.items():
        mgmt = f"mgmt-vs-{m:02d}"
        start = 0
        while start < len(indexes):
            size = 2 + pool % 3
            group = indexes[start:start + size]
            start += size
            subnet = _pool_subnet(pool)
            global_pool = pool % 4 == 3
            pool_name = f"pool-{pool:05d}"
            folder = base / mgmt / "ipam" / pool_name
            users = []
            need = 0
            for slot, i in enumerate(group):
                namespace = ("prod", "data")[slot % 2] if global_pool else \
                    ("prod", "data")[pool % 2]
                plan = "prod" if namespace == "prod" else "dev"
                workers, replicas, mds = _workers(i, plan)
                need += 3 + replicas + 1 + mds  # 3: the sizing overlay's HA control plane
                users.append((i, namespace, plan, workers, slot))
            count = max(16, math.ceil(need * 1.5))
            first, last = subnet + 10, subnet + 10 + count - 1
            kind_line = "GlobalInClusterIPPool" if global_pool else "InClusterIPPool"
            header = "" if global_pool else f"namespace: {users[0][1]}\n"
            header += "" if global_pool else f"plan: {users[0][2]}\n"
            resolver = subnet + 53
            folder_defaults(folder, f"""\
# Node IPAM: {kind_line} {pool_name}, shared by {len(group)} cluster(s).
{header}network:
  nameservers:
    controlPlane: [{resolver}]
    worker: [{resolver}]
ipPools:
  {pool_name}:
    kind: {kind_line}
    gateway: {subnet + 1}
    prefix: 24
    addresses:
    - {first}-{last}
""")
            for i, namespace, plan, workers, slot in users:
                name = f"vs-ipam-{i:05d}"
                text = (f"# vSphere node IPAM from {pool_name}.\n"
                        + (f"namespace: {namespace}\nplan: {plan}\n" if global_pool else "")
                        + f"controlPlane:\n  endpoint: {subnet + 200 + slot}\n" + workers
                        + f"network:\n  nodes:\n    ipPool: {pool_name}\n")
                if i % 4 == 0:
                    text += "  searchDomains:\n    controlPlane: [example.com]\n" \
                            "    worker: [example.com]\n"
                add(folder / f"{name}.yaml", text, mgmt, namespace)
            pool += 1
    fleet.pools = pool

    # --- AWS: prod, three AZs, over two regions ------------------------------------------------
    regions = (("us-east-1", "mgmt-aws-use1"), ("eu-west-1", "mgmt-aws-euw1"))
    for region, mgmt in regions:
        _write(root / "clusters" / "aws" / mgmt / "_defaults.yaml", f"""\
managementCluster: {mgmt}
infrastructure: aws
plan: prod
aws:
  region: {region}
  sshKeyName: tkg-fleet
  identityRef: {{kind: AWSClusterRoleIdentity, name: tkg-workloads}}
""")
    for i in range(per_kind["aws"]):
        region, mgmt = regions[i % 2]
        namespace = ("shop", "payments")[i // 2 % 2]
        name = f"aws-{i:05d}"
        zones = "".join(f"  - az: {region}{z}\n" for z in "abc")
        if i % 2:  # explicit VPC and subnet CIDRs
            octet = 16 + i % 200
            zones = "".join(
                f"  - az: {region}{z}\n"
                f"    private: {{cidr: 10.{octet}.{16 * k}.0/20}}\n"
                f"    public: {{cidr: 10.{octet}.{128 + k}.0/24}}\n" for k, z in enumerate("abc"))
            vpc = f"  vpc:\n    cidr: 10.{octet}.0.0/16\n"
        else:
            vpc = ""
        text = (f"# AWS prod across three AZs.\nnamespace: {namespace}\n"
                f"aws:\n{vpc}  subnets:\n{zones}")
        if i % 3 == 0:
            text += "controlPlane:\n  machine: {instanceType: m5.xlarge, rootVolumeGiB: 120}\n"
        add(root / "clusters" / "aws" / mgmt / namespace / f"{name}.yaml", text, mgmt, namespace)

    # --- Azure -------------------------------------------------------------------------------
    az_mgmts = max(1, math.ceil(per_kind["azure"] / 500))
    for m in range(az_mgmts):
        mgmt = f"mgmt-azure-{m:02d}"
        _write(root / "clusters" / "azure" / mgmt / "_defaults.yaml", f"""\
managementCluster: {mgmt}
infrastructure: azure
plan: prod
azure:
  location: westeurope
  subscriptionID: 3f0c8e52-6d1a-4b7e-9c2f-1a2b3c4d5e6f
  sshPublicKey: {SSH_KEY}
  identityRef: {{name: tkg-azure-identity, namespace: tkg-system}}
workers:
- name: md-0
  replicas: 1
- name: md-1
  replicas: 1
- name: md-2
  replicas: 1
""")
    for i in range(per_kind["azure"]):
        mgmt = f"mgmt-azure-{i % az_mgmts:02d}"
        namespace = ("crm", "erp")[i // az_mgmts % 2]
        name = f"az-{i:05d}"
        text = f"""\
# Azure, a new VNet with new subnets.
namespace: {namespace}
azure:
  resourceGroup: rg-{name}
  vnet:
    name: vnet-{name}
    cidrBlocks: [10.60.0.0/16]
  controlPlaneSubnet: {{name: {name}-cp, cidr: 10.60.0.0/24}}
  workerSubnet: {{name: {name}-nodes, cidr: 10.60.4.0/22}}
"""
        add(root / "clusters" / "azure" / mgmt / namespace / f"{name}.yaml", text, mgmt,
            namespace)
    return fleet


# --- the plain fleet: one cluster shape, no overlays (issue 20) ---------------------------------

PLAIN_BASE = "web"  # the name of the one cluster kustomize's plain-fleet base holds
PLAIN_MANAGEMENT = "mgmt-a"
PLAIN_NAMESPACE = "dev"
PLAIN_FOLDER = ("clusters", "site-a", "dev")

PLAIN_FLEETGEN = """\
# The benchmark's plain fleet: every vSphere cluster's credentials come from one identity.
credentials:
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: vc01}
"""

PLAIN_DEFAULTS = """\
# The plain fleet: what a flat config does not say (fleetgen import tkg asks for both).
managementCluster: mgmt-a
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
"""

# The inventory `fleetgen import tkg` writes for tests/tkg/import_corpus/vsphere-dhcp-dev (a
# vSphere cluster with DHCP node addresses, dev plan) under the defaults above, word for word;
# {endpoint} is the one value that differs between clusters.
PLAIN_CLUSTER = """\
# Imported from the TKG flat config cluster-config.yaml by fleetgen import tkg.
# Not imported (the flat config's value is not part of this inventory):
#   line 9: ENABLE_CEIP_PARTICIPATION not imported: management cluster only: it configures the \
management cluster itself (providers/config_default.yaml:56)
#   line 10: IDENTITY_MANAGEMENT_TYPE not imported: management cluster only: Pinniped is set up \
on the management cluster and its workload clusters use it
#   line 20: VSPHERE_USERNAME not imported: belongs to the management cluster's credentials, not \
to a workload cluster
#   line 29: VSPHERE_INSECURE not imported: fleetgen always pins vCenter by VSPHERE_TLS_THUMBPRINT
#   line 39: ENABLE_MHC not imported: management cluster only: tanzu writes machine health \
checks into the ClusterClass (providers/infrastructure-*/cconly/overlay.yaml), which the \
management cluster installs; a workload cluster's value changes nothing
#   line 40: MHC_UNKNOWN_STATUS_TIMEOUT not imported: management cluster only: tanzu writes \
machine health checks into the ClusterClass (providers/infrastructure-*/cconly/overlay.yaml), \
which the management cluster installs; a workload cluster's value changes nothing
#   line 41: TKG_HTTP_PROXY_ENABLED not imported: fleetgen writes TKG_HTTP_PROXY_ENABLED: true \
exactly when proxy.httpProxy is set
namespace: dev
infrastructure: vsphere
controlPlane:
  endpoint: {endpoint}
workers:
- name: md-0
  replicas: 2
network:
  ipFamily: ipv4
vsphere:
  server: vc01.site-a.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/vsanDatastore
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/cluster0/Resources/tkg
  network: /dc0/network/tkg-nodes
  template: /dc0/vm/templates/ubuntu-2204-kube-v1.27.5
  tlsThumbprint: 5D:12:9A:0F:44:C2:8B:1E:77:D3:60:AA:19:E4:5B:2C:09:F1:3E:88
sshAuthorizedKeys:
- ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForFleetgenDocs platform@example.com
auditLogging: true
"""


def plain_name(i: int) -> str:
    """The i-th plain-fleet cluster's name: kustomize's ``namePrefix`` ``c{i:05d}-`` on the
    base cluster ``web`` gives the same name, so the two tools' Clusters can be compared."""
    return f"c{i:05d}-{PLAIN_BASE}"


def plain_endpoint(i: int) -> str:
    """The i-th plain-fleet cluster's kube-vip endpoint in 10.20.0.0/16 (250 per /24, never
    a .0, .1 or .255), unique so the fleet validates."""
    if i >= 250 * 256:
        raise ValueError("more than 64,000 plain-fleet clusters do not fit 10.20.0.0/16")
    return str(ipaddress.IPv4Address("10.20.0.0") + (i // 250) * 256 + i % 250 + 2)


def generate_plain(root: Path, n: int, *, base: bool = False) -> Fleet:
    """Write the plain fleet: n copies of one imported vSphere DHCP cluster (``PLAIN_CLUSTER``),
    no overlays, differing only in name (``plain_name``) and endpoint (``plain_endpoint``), the
    fleet issue 20 measured kustomize against. With ``base`` the one cluster is named
    ``PLAIN_BASE`` instead: what kustomize's overlays start from."""
    fleet = Fleet(root)
    fleet.kinds = {"plain": n}
    _write(root / "fleetgen.yaml", PLAIN_FLEETGEN)
    _write(root / "clusters" / "_defaults.yaml", PLAIN_DEFAULTS)
    folder = root.joinpath(*PLAIN_FOLDER)
    for i in range(n):
        name = PLAIN_BASE if base else plain_name(i)
        path = folder / f"{name}.yaml"
        _write(path, PLAIN_CLUSTER.format(endpoint=plain_endpoint(i)))
        fleet.clusters += 1
        fleet.management_clusters.add(PLAIN_MANAGEMENT)
        fleet.namespaces.add((PLAIN_MANAGEMENT, PLAIN_NAMESPACE))
    return fleet
