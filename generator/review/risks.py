"""Risk classes of a change: stable names for ``--fail-on``, each pointing at the inventory
file:line that caused it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from generator.review.diff import Change, items_of
from generator.check.fleet import Cluster, Fleet, PoolUse
from generator.net.addresses import AddressSet, pool_addresses
from generator.ipam.plan import Live
from generator.load.model import POOL_KINDS
from generator.review.classes import RISK_CLASSES as RISK_CLASSES  # re-exported for the reports



@dataclass(frozen=True)
class Risk:
    cls: str
    subject: str         # what is at risk: "Cluster dev/web", a pool, or "" for fleet findings
    what: str            # the risk itself, the same words for the same risk on many subjects
    where: str           # inventory file:line (or the rendered file of something removed)
    cluster: str | None  # mgmt/ns/name, when the risk belongs to one cluster

    @property
    def message(self) -> str:
        return f"{self.subject}: {self.what}" if self.subject else self.what


# Cluster fields whose change makes Cluster API replace machines, with the inventory key behind it.
ROLLOUT: tuple[tuple[str, tuple[str, ...], str], ...] = (("spec.topology.version", ("kubernetes", "version"), "the Kubernetes version"),
           ("spec.topology.class", ("kubernetes", "class"), "the ClusterClass"),
           ("spec.topology.variables[vcenter]", ("vsphere",), "the vCenter placement"),
           ("spec.topology.variables[controlPlane]", ("controlPlane", "machine"),
            "control-plane machines or node network settings"),
           ("spec.topology.variables[worker]", ("workers",), "worker machines or node network"),
           ("spec.topology.variables[network]", ("network", "nodes"), "the node network"),
           ("spec.topology.workers.machineDeployments", ("workers",), "a machine deployment"),
           ("spec.topology.variables[region]", ("aws", "region"), "the AWS region"),
           ("spec.topology.variables[location]", ("azure", "location"), "the Azure location"))
IMMUTABLE: tuple[tuple[str, tuple[str, ...], str], ...] = (("spec.clusterNetwork.pods", ("network", "pods"), "pod CIDRs or IP family"),
             ("spec.clusterNetwork.services", ("network", "services"),
              "service CIDRs or IP family"),
             ("spec.topology.variables[network].value.ipv6Primary", ("network", "ipFamily"),
              "the primary IP family"))
ENDPOINT: tuple[tuple[str, tuple[str, ...]], ...] = (("spec.topology.variables[apiServerEndpoint]", ("controlPlane", "endpoint")),
            ("spec.topology.variables[aviAPIServerHAProvider]",
             ("controlPlane", "endpointProvider")),
            ("metadata.annotations.tkg.tanzu.vmware.com/cluster-controlplane-endpoint",
             ("controlPlane", "endpoint")))


def _where(cluster: Cluster | None, path: tuple[str, ...], fallback: str) -> str:
    return str(cluster.inventory.locate(path)) if cluster else f"rendered/{fallback}"


def _starts(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _pools_of(cluster_doc: Any) -> list[dict[str, Any]]:
    for var in ((cluster_doc or {}).get("spec", {}).get("topology", {}).get("variables") or []):
        if isinstance(var, dict) and var.get("name") == "network":
            return list((var.get("value") or {}).get("addressesFromPools") or [])
    return []


def cluster_risks(change: Change, cluster: Cluster | None) -> Iterator[Risk]:
    if change.object_kind != "Cluster":
        return
    name = change.cluster
    if change.kind == "removed":
        yield Risk("cluster-removed", change.title, "deleted with all its machines",
                   f"rendered/{change.file}", name)
        return
    if change.kind != "changed":
        return
    paths = [f.path for f in change.fields]
    for prefix, key, what in IMMUTABLE:
        if any(_starts(p, prefix) for p in paths):
            yield Risk("immutable-field", change.title, f"{what} cannot change on an existing "
                       "cluster", _where(cluster, key, change.file), name)
            break
    for prefix, key in ENDPOINT:
        if any(_starts(p, prefix) for p in paths):
            yield Risk("endpoint-change", change.title, "the control-plane endpoint changes",
                       _where(cluster, key, change.file), name)
            break
    if not _pools_of(change.old) and _pools_of(change.new):
        yield Risk("dhcp-to-ipam", change.title, "an existing DHCP cluster cannot be switched to "
                   "node IPAM", _where(cluster, ("network", "nodes", "ipPool"), change.file), name)
    # Scaling a machine deployment adds or removes machines; it replaces none.
    replacing = [p for p in paths if not p.endswith(".replicas")]
    for prefix, key, what in ROLLOUT:
        if any(_starts(p, prefix) for p in replacing):
            yield Risk("rollout", change.title, f"{what} changes, so machines are replaced",
                       _where(cluster, key, change.file), name)


def _old_needs(old_files: dict[str, bytes]) -> dict[tuple[str, str], int]:
    """Per (management cluster, pool name), the machines the old Clusters run from it."""
    needs: dict[tuple[str, str], int] = {}
    for item in items_of(old_files).values():
        doc = item.content
        if not (isinstance(doc, dict) and doc.get("kind") == "Cluster"):
            continue
        topology = doc.get("spec", {}).get("topology", {})
        machines = int(topology.get("controlPlane", {}).get("replicas") or 0) + sum(
            int(md.get("replicas") or 0)
            for md in (topology.get("workers", {}).get("machineDeployments") or []))
        mgmt = item.file.split("/", 1)[0]
        for ref in _pools_of(doc):
            key = (mgmt, str(ref.get("name")))
            needs[key] = needs.get(key, 0) + machines
    return needs


def in_use(change: Change, old_files: dict[str, bytes], live: Live | None) -> AddressSet:
    """The old pool's addresses in use: from the live export, else the allocation prediction
    (the lowest allocatable addresses, one per machine the old Clusters run)."""
    old = change.old or {}
    spec = old.get("spec") or {}
    name = old.get("metadata", {}).get("name", "")
    if live is not None:
        return AddressSet.parse(a.address for a in live.addresses
                                if a.pool_name == name and a.pool_kind == old.get("kind"))
    try:
        pool = pool_addresses(spec.get("addresses") or [], int(spec.get("prefix") or 0),
                              spec.get("gateway"), spec.get("excludedAddresses"),
                              bool(spec.get("allocateReservedIPAddresses")))
    except ValueError:
        return AddressSet()
    needed = _old_needs(old_files).get((change.file.split("/", 1)[0], name), 0)
    return pool.allocatable.take(needed)


def pool_risks(change: Change, replacement: Change | None, pool: PoolUse | None,
               old_files: dict[str, bytes], live: Live | None) -> Iterator[Risk]:
    """Risks of a changed or removed pool; ``replacement`` is a pool of the same name added on
    the same management cluster (a kind change shows as remove + add)."""
    where = str(pool.declared_at) if pool else f"rendered/{change.file}"
    removed = change.addresses.removed if change.addresses else AddressSet()
    if replacement is not None:
        removed = removed.difference(replacement.addresses.added if replacement.addresses
                                     else AddressSet())
        yield Risk("immutable-field", change.title, "a pool's kind cannot change", where,
                   change.cluster)
    lost = removed.intersection(in_use(change, old_files, live)) if removed else AddressSet()
    if lost:
        source = "the live export" if live else "the allocation prediction"
        yield Risk("ip-removed-in-use", change.title,
                   f"{lost} leave the pool while in use (per {source})", where, change.cluster)


def _pool_id(change: Change) -> tuple[str, str]:
    return change.file.split("/", 1)[0], change.title.rsplit("/", 1)[-1].split(" ", 1)[-1]


def risks(changes: list[Change], fleet: Fleet, old_files: dict[str, bytes],
          live: Live | None = None) -> list[Risk]:
    clusters = {c.folder: c for c in fleet.clusters}
    pools = {(p.management_cluster, p.name): p for p in fleet.pools}
    found: list[Risk] = []
    pool_changes = [c for c in changes if c.object_kind in POOL_KINDS]
    added = {_pool_id(c): c for c in pool_changes if c.kind == "added"}
    for change in changes:
        found += cluster_risks(change, clusters.get(change.cluster or ""))
    for change in pool_changes:
        if change.kind != "added":
            replacement = added.get(_pool_id(change)) if change.kind == "removed" else None
            found += pool_risks(change, replacement, pools.get(_pool_id(change)), old_files, live)
    for warning in fleet.warnings:
        cls = {"pool-overlap": "ip-overlap", "pool-capacity": "pool-capacity"}.get(warning.code)
        if cls:
            found.append(Risk(cls, "", warning.message, str(warning.location), None))
    return sorted(set(found), key=lambda r: (RISK_CLASSES.index(r.cls), r.where, r.message))
