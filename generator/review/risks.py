"""Risk classes of a change: stable names for ``--fail-on``, each pointing at the inventory
file:line that caused it.

Cluster risks come from the old and new Cluster objects through the rules of
``generator.review.classes`` (data naming ClusterClass variables), so a fleet's own
``cluster.yaml.j2`` or an overlay that adds a variable is judged like the built-in template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Iterator

from generator.review.diff import Change, FieldChange, as_list, as_map, dig, items_of
from generator.check.fleet import Cluster, Fleet, PoolUse
from generator.net.addresses import AddressSet, pool_addresses
from generator.ipam.plan import Live
from generator.load.model import POOL_KINDS
from generator.review.classes import RISK_CLASSES as RISK_CLASSES  # re-exported for the reports
from generator.review.classes import RULES, Rule
from generator.review.cause import Provenance, causes
from generator.review.history import Removal
from generator.render.gitops import removal_outcome


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


WORDS = {"immutable-field": "{} cannot change on an existing cluster",
         "endpoint-change": "the control-plane endpoint changes",
         "rollout": "a change to {} replaces machines"}


def _words(cls: str, whats: list[str]) -> str:
    """The risk in words, for every rule of one class that one cause fired ("a and b"); the
    words agree with any noun phrase, singular or plural (issue 19: no "settings changes")."""
    if len(whats) == 1:
        return WORDS[cls].format(whats[0])
    return WORDS[cls].format(f"{', '.join(whats[:-1])} and {whats[-1]}")
_END = r"(?=$|[.\[])"
_MD_ITEM = re.compile(r"spec\.topology\.workers\.machineDeployments\[[^\]]*\]$")


def _pattern(rule: Rule) -> re.Pattern[str]:
    return re.compile(re.escape(rule.path).replace(r"\[\*\]", r"\[[^\]]*\]") + _END)


PATTERNS: tuple[tuple[Rule, re.Pattern[str]], ...] = tuple((r, _pattern(r)) for r in RULES)
PATTERN_OF = dict(PATTERNS)


def _paths(prefix: str, value: Any) -> Iterator[str]:
    """``prefix`` and every path below it in ``value`` (a compared, by-name value)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(prefix + (str(key) if str(key).startswith("[") else f".{key}"),
                              child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(f"{prefix}[{index}]", child)


def _touched(field: FieldChange) -> set[str]:
    """The paths a field change touches: itself and, for an added or removed map, what it held.
    Scaling (``replicas``) adds or removes machines and replaces none, so it touches nothing."""
    if field.path.endswith(".replicas"):
        return set()
    return {p for p in (*_paths(field.path, field.old), *_paths(field.path, field.new))
            if not p.endswith(".replicas")}


def matched_rules(fields: list[FieldChange]) -> list[Rule]:
    """The rules the changed fields of a Cluster fire, in rule order."""
    paths: set[str] = set()
    for field in fields:
        if _MD_ITEM.match(field.path) and field.old is None:
            continue  # a new machine deployment adds machines; it replaces none
        paths |= _touched(field)
    return [rule for rule, pattern in PATTERNS if any(pattern.match(p) for p in paths)]


def _where(cluster: Cluster | None, path: tuple[str, ...], fallback: str) -> str:
    return str(cluster.inventory.locate(path)) if cluster else f"rendered/{fallback}"


def _pools_of(cluster_doc: Any) -> list[dict[str, Any]]:
    for var in as_list(dig(cluster_doc, "spec", "topology", "variables")):
        if isinstance(var, dict) and var.get("name") == "network":
            return [p for p in as_list(dig(var, "value", "addressesFromPools"))
                    if isinstance(p, dict)]
    return []


def endpoint_of(cluster_doc: Any) -> str | None:
    """The control-plane endpoint a Cluster object asks for (variable, else annotation)."""
    for var in as_list(dig(cluster_doc, "spec", "topology", "variables")):
        if isinstance(var, dict) and var.get("name") == "apiServerEndpoint" and var.get("value"):
            return str(var["value"])
    value = as_map(dig(cluster_doc, "metadata", "annotations")).get(
        "tkg.tanzu.vmware.com/cluster-controlplane-endpoint")
    return str(value) if value else None


def cluster_risks(change: Change, cluster: Cluster | None,
                  provenance: Provenance | None = None,
                  removal: Removal | None = None) -> Iterator[Risk]:
    if change.object_kind != "Cluster":
        return
    name = change.cluster
    if change.kind == "removed":
        what = removal_outcome(as_map(change.old))
        yield Risk("cluster-removed", change.title,
                   f"{what}; {removal.note}" if removal else what,
                   removal.where if removal else f"rendered/{change.file}", name)
        return
    if change.kind != "changed":
        return
    if change.removes:  # diff --live: what the live Cluster has and the render lacks
        yield Risk("adoption-removes", change.title, "a sync removes what the live Cluster has "
                   f"and the render lacks: {'; '.join(change.removes)}",
                   _where(cluster, (), change.file), name)
    endpoint = False
    by_cause: dict[tuple[str, str], list[str]] = {}  # one risk per class and cause
    for rule in matched_rules(change.fields):
        if rule.cls == "endpoint-change":
            if endpoint:
                continue
            endpoint = True
        for where in causes(cluster, rule, PATTERN_OF[rule], change.fields, change.file,
                            provenance, change.new):
            whats = by_cause.setdefault((rule.cls, where), [])
            if rule.what not in whats:
                whats.append(rule.what)
    for (cls, where), whats in by_cause.items():
        yield Risk(cls, change.title, _words(cls, whats), where, name)
    for field in change.fields:
        if _MD_ITEM.match(field.path) and field.new is None and field.old is not None:
            yield Risk("rollout", change.title, "a machine deployment is deleted with its machines",
                       _where(cluster, ("workers",), change.file), name)
            break
    if not _pools_of(change.old) and _pools_of(change.new):
        yield Risk("dhcp-to-ipam", change.title, "an existing DHCP cluster cannot be switched to "
                   "node IPAM", _where(cluster, ("network", "nodes", "ipPool"), change.file), name)


class OldUse:
    """What the old Clusters draw from each pool, read once per review and only from the old
    files that name a changed pool (so the cost grows with the change, not with the fleet).
    Clusters removed by the change are left out: their addresses go with them."""

    def __init__(self, old_files: Mapping[str, bytes], pool_names: set[str],
                 removed: set[tuple[str, str]]) -> None:
        self._files = old_files
        self._names = sorted(pool_names)
        self._removed = removed  # (file, title) of Clusters the change deletes

    @cached_property
    def _table(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """Per (management cluster, pool): machines of the Clusters that stay, and how many
        old Clusters (staying or not) draw from it."""
        needs: dict[tuple[str, str], int] = {}
        users: dict[tuple[str, str], int] = {}
        names = [n.encode() for n in self._names]
        wanted = {p: d for p, d in self._files.items()
                  if b"addressesFromPools" in d and any(n in d for n in names)}
        for item in items_of(wanted).values():
            doc = item.content
            if not (isinstance(doc, dict) and doc.get("kind") == "Cluster"):
                continue
            mgmt = item.file.split("/", 1)[0]
            refs = [(mgmt, str(ref.get("name"))) for ref in _pools_of(doc)]
            for key in refs:
                users[key] = users.get(key, 0) + 1
            if (item.file, item.title) in self._removed:
                continue
            topology = dig(doc, "spec", "topology")
            machines = _count(dig(topology, "controlPlane", "replicas")) + sum(
                _count(dig(md, "replicas"))
                for md in as_list(dig(topology, "workers", "machineDeployments")))
            for key in refs:
                needs[key] = needs.get(key, 0) + machines
        return needs, users

    def needs(self, mgmt: str, pool: str) -> int:
        """Machines the old Clusters that stay run from the pool."""
        return self._table[0].get((mgmt, pool), 0)

    def only_removed_users(self, mgmt: str, pool: str) -> bool:
        """Whether the pool had old Clusters and the change deletes every one of them."""
        return (mgmt, pool) in self._table[1] and (mgmt, pool) not in self._table[0]


def _count(value: Any) -> int:
    """A replica count as written, 0 where it is none (a hand-edited file may hold anything)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def in_use(change: Change, old: OldUse, live: Live | None) -> AddressSet:
    """The old pool's addresses in use: from the live export, else the allocation prediction
    (the lowest allocatable addresses, one per machine the old Clusters run)."""
    doc = as_map(change.old)
    spec = as_map(doc.get("spec"))
    name = dig(doc, "metadata", "name") or ""
    try:
        if live is not None:
            return AddressSet.parse(a.address for a in live.addresses
                                    if a.pool_name == name and a.pool_kind == doc.get("kind"))
        pool = pool_addresses(spec.get("addresses") or [], int(spec.get("prefix") or 0),
                              spec.get("gateway"), spec.get("excludedAddresses"),
                              bool(spec.get("allocateReservedIPAddresses")))
    except (ValueError, TypeError):  # what a live export or a hand edit holds may not parse
        return AddressSet()
    return pool.allocatable.take(old.needs(change.file.split("/", 1)[0], name))


def pool_risks(change: Change, replacement: Change | None, pool: PoolUse | None,
               old: OldUse, live: Live | None) -> Iterator[Risk]:
    """Risks of a changed or removed pool; ``replacement`` is a pool of the same name added on
    the same management cluster (a kind change shows as remove + add)."""
    live = live.of(change.file.split("/", 1)[0]) if live else None  # (issue 16 R3) its mgmt's
    where = str(pool.declared_at) if pool else f"rendered/{change.file}"
    removed = change.addresses.removed if change.addresses else AddressSet()
    if replacement is not None:
        removed = removed.difference(replacement.addresses.added if replacement.addresses
                                     else AddressSet())
        yield Risk("immutable-field", change.title, "a pool's kind cannot change", where,
                   change.cluster)
    mgmt, name = _pool_id(change)
    if change.kind == "removed" and replacement is None and old.only_removed_users(mgmt, name):
        return  # the pool goes with every cluster that used it
    lost = removed.intersection(in_use(change, old, live)) if removed else AddressSet()
    if lost:
        source = "the live export" if live else "the allocation prediction"
        yield Risk("ip-removed-in-use", change.title,
                   f"{lost} leave the pool while in use (per {source})", where, change.cluster)


def _pool_id(change: Change) -> tuple[str, str]:
    return change.file.split("/", 1)[0], change.title.rsplit("/", 1)[-1].split(" ", 1)[-1]


def endpoint_reuse(changes: list[Change], clusters: dict[str, Cluster]) -> Iterator[Risk]:
    """A Cluster that takes the endpoint of a Cluster removed in the same change: during the
    overlap Cluster API and kube-vip hand the one VIP to both."""
    freed = {ep: c for c in changes if c.object_kind == "Cluster" and c.kind == "removed"
             and (ep := endpoint_of(c.old))}
    for change in changes:
        if change.object_kind != "Cluster" or change.kind == "removed":
            continue
        endpoint = endpoint_of(change.new)
        if endpoint is None or endpoint not in freed or (
                change.kind == "changed" and endpoint_of(change.old) == endpoint):
            continue
        yield Risk("endpoint-reused", change.title,
                   f"takes the endpoint {endpoint} of {freed[endpoint].title}, removed in the same "
                   "change: both hold it until the old cluster is gone",
                   _where(clusters.get(change.cluster or ""), ("controlPlane", "endpoint"),
                          change.file), change.cluster)


def risks(changes: list[Change], fleet: Fleet, old_files: Mapping[str, bytes],
          live: Live | None = None, root: Path | None = None,
          removals: dict[str, Removal] | None = None) -> list[Risk]:
    """Every risk of ``changes``; ``root`` (the fleet the new render came from) lets a risk
    name the overlay patch that caused it."""
    clusters = {c.folder: c for c in fleet.clusters}
    provenance = Provenance(fleet, root) if root is not None else None
    pools = {(p.management_cluster, p.name): p for p in fleet.pools}
    found: list[Risk] = []
    pool_changes = [c for c in changes if c.object_kind in POOL_KINDS]
    added = {_pool_id(c): c for c in pool_changes if c.kind == "added"}
    removed_clusters = {(c.file, c.title) for c in changes
                        if c.object_kind == "Cluster" and c.kind == "removed"}
    old = OldUse(old_files, {_pool_id(c)[1] for c in pool_changes if c.kind != "added"},
                 removed_clusters)
    for change in changes:
        found += cluster_risks(change, clusters.get(change.cluster or ""), provenance,
                               (removals or {}).get(change.title))
    found += endpoint_reuse(changes, clusters)
    for change in pool_changes:
        if change.kind != "added":
            replacement = added.get(_pool_id(change)) if change.kind == "removed" else None
            found += pool_risks(change, replacement, pools.get(_pool_id(change)), old, live)
    for warning in fleet.warnings:
        cls = {"pool-overlap": "ip-overlap", "pool-capacity": "pool-capacity"}.get(warning.code)
        if cls:
            found.append(Risk(cls, "", warning.message, str(warning.location), None))
    renames = rename_candidates(changes)
    found = [_with_rename_hint(r, renames) if r.cls == "cluster-removed" else r for r in found]
    return sorted(set(found), key=lambda r: (RISK_CLASSES.index(r.cls), r.where, r.message))


def rename_candidates(changes: list[Change]) -> dict[str, list[str]]:
    """For each Cluster removed in ``changes`` (by title), the Clusters added on the same
    management cluster that share its endpoint or one of its node pools: a rename shows as a
    removal plus an addition, and the reviewer should see that it is likely one cluster."""
    def marks(doc: Any) -> set[str]:
        out = {f"pool {p.get('name')}" for p in _pools_of(doc)}
        endpoint = endpoint_of(doc)
        return out | ({f"endpoint {endpoint}"} if endpoint else set())

    added = [(c.file.split("/", 1)[0], c.title, marks(c.new)) for c in changes
             if c.object_kind == "Cluster" and c.kind == "added"]
    found: dict[str, list[str]] = {}
    for c in changes:
        if c.object_kind != "Cluster" or c.kind != "removed":
            continue
        mgmt, own = c.file.split("/", 1)[0], marks(c.old)
        found[c.title] = [f"{title} (same {', '.join(sorted(own & theirs))})"
                          for m, title, theirs in added if m == mgmt and own & theirs]
    return found


def _with_rename_hint(risk: Risk, renames: dict[str, list[str]]) -> Risk:
    hints = renames.get(risk.subject) or []
    if not hints:
        return risk
    return Risk(risk.cls, risk.subject, f"{risk.what}; perhaps renamed to {'; '.join(hints)}",
                risk.where, risk.cluster)
