"""``fleetgen ipam plan``: per node pool its size, users, need, headroom and the addresses the
provider will hand out next; with a live export, the real allocations and what a merge would break.

A live export is the output of ``kubectl get clusters.cluster.x-k8s.io,ipaddresses,
ipaddressclaims,inclusterippools,globalinclusterippools -A -o yaml`` (a ``kind: List``) taken on
one management cluster; a file may hold several, one YAML document each. Each export is recognised
by its objects: its Cluster objects' namespaces and names, and its pools, matched against the
fleet's (``source_cluster``); ``combine`` joins one export per management cluster.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from generator.check.fleet import Fleet, PoolUse
from generator.net.addresses import AddressSet, PoolAddresses, parse_entry
from generator.check.pools import capacity, demand, surge
from generator.load.model import POOL_KINDS
from generator.problems import FleetError, Location, Problem, plural
from generator.yaml.fast import load_fast



@dataclass(frozen=True)
class LiveAddress:
    name: str
    namespace: str
    address: str
    pool_kind: str
    pool_name: str
    claim: str


@dataclass
class Live:
    """What one management cluster has allocated, from a ``kubectl get … -o yaml`` export."""

    file: str
    addresses: list[LiveAddress] = field(default_factory=list)
    claims: set[tuple[str, str]] = field(default_factory=set)  # (namespace, name)
    pools: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, namespace, name)
    clusters: set[tuple[str, str]] = field(default_factory=set)  # Cluster objects (ns, name)
    # Every object with a spec (a whole object, not a reference), by (API group, kind, namespace,
    # name): what ``diff --live`` compares the render with (generator/review/live.py)
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    line: int = 1  # where the export's YAML document starts in ``file``
    # Several exports combined (``combine``): each one by the management cluster it came from
    parts: dict[str, Live] = field(default_factory=dict)

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, 1)

    def of(self, management_cluster: str) -> Live | None:
        """The export taken on ``management_cluster``: None when none was given (its pools then
        keep the allocation prediction); an export not combined stands for any."""
        return self.parts.get(management_cluster) if self.parts else self


@dataclass
class LiveUse:
    allocated: AddressSet
    removed_in_use: AddressSet
    orphans: list[str]


@dataclass
class PoolPlan:
    pool: PoolUse
    addresses: PoolAddresses
    needed: int
    next_addresses: AddressSet
    live: LiveUse | None = None

    @property
    def allocatable(self) -> int:
        return self.addresses.allocatable.size

    @property
    def headroom(self) -> int:
        return self.allocatable - self.needed

    @property
    def blocked(self) -> bool:
        return self.headroom < 0 or bool(self.live and self.live.removed_in_use)


@dataclass
class Plan:
    pools: list[PoolPlan]
    management_cluster: str | None = None  # the one the live export came from
    unknown_pools: list[str] = field(default_factory=list)  # live pools with allocations, gone

    @property
    def blocked(self) -> bool:
        return any(p.blocked for p in self.pools) or bool(self.unknown_pools)


_DOCUMENT_MARK = re.compile(r"^(---|\.\.\.)(?=[ \t]|$)")


def read_exports(path: Path) -> list[Live]:
    """Every export in ``path``: one per YAML document (``---`` between them)."""
    rel = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(Location(rel), "live-export", f"cannot read: {exc}")]) from None
    documents: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        mark = _DOCUMENT_MARK.match(line)
        if mark is None:
            documents[-1][1].append(line)
        elif mark.group(1) == "---":  # what follows the mark on its line belongs to the document
            documents.append((number, [" " * 3 + line[3:]]))
        else:
            documents.append((number + 1, []))
    exports = [_read_document(rel, first, "".join(lines), first + index)
               for first, lines in documents
               for index in [next((i for i, x in enumerate(lines) if not _comment(x)), -1)]
               if index >= 0]
    if not exports:
        raise FleetError([Problem(Location(rel, 1, 1), "live-export",
                                  "expected a 'kind: List' with 'items'", _EXPORT_HINT)])
    return exports


def _comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


_EXPORT_HINT = ("export with kubectl get clusters.cluster.x-k8s.io,ipaddresses,ipaddressclaims,"
                "inclusterippools,globalinclusterippools -A -o yaml")


def _read_document(rel: str, first: int, text: str, start: int) -> Live:
    """The export in ``text``, which starts at line ``first`` of ``rel`` (its content at
    ``start``)."""
    try:
        doc = load_fast("\n" * (first - 1) + text)  # line numbers as in the file
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FleetError([Problem(Location(rel, mark.line + 1 if mark else start,
                                           mark.column + 1 if mark else 1), "live-export",
                                  f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise FleetError([Problem(Location(rel, start, 1), "live-export",
                                  "expected a 'kind: List' with 'items'", _EXPORT_HINT)])
    live = Live(rel, line=start)
    for item in items:
        _add_item(live, item if isinstance(item, dict) else {})
    return live


def read_live(path: Path) -> Live:
    """The one export in ``path`` (``ipam plan`` plans one management cluster)."""
    exports = read_exports(path)
    if len(exports) > 1:
        raise FleetError([Problem(exports[1].location, "live-export",
                                  f"this file holds {len(exports)} exports; ipam plan reads one "
                                  "management cluster's")])
    return exports[0]


def _add_item(live: Live, item: dict[str, Any]) -> None:
    kind, meta, spec = item.get("kind"), item.get("metadata"), item.get("spec")
    meta = meta if isinstance(meta, dict) else {}  # an export is input: any shape may come
    spec = spec if isinstance(spec, dict) else {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    if kind == "IPAddress":
        pool_ref, claim_ref = spec.get("poolRef"), spec.get("claimRef")
        pool_ref = pool_ref if isinstance(pool_ref, dict) else {}
        claim_ref = claim_ref if isinstance(claim_ref, dict) else {}
        live.addresses.append(LiveAddress(name, namespace, str(spec.get("address", "")),
                                          str(pool_ref.get("kind", "")),
                                          str(pool_ref.get("name", "")),
                                          str(claim_ref.get("name", ""))))
    elif kind == "IPAddressClaim":
        live.claims.add((namespace, name))
    elif kind in POOL_KINDS:
        live.pools.add((str(kind), namespace, name))
    elif kind == "Cluster" and str(item.get("apiVersion", "")).startswith("cluster.x-k8s.io/"):
        live.clusters.add((namespace, name))
    if isinstance(item.get("spec"), dict) and kind not in ("IPAddress", "IPAddressClaim"):
        group = str(item.get("apiVersion", "")).rpartition("/")[0]
        live.objects[(group, str(kind), namespace, name)] = item


def _live_key(kind: str, namespace: str, name: str) -> tuple[str, str, str]:
    return (kind, "" if kind == "GlobalInClusterIPPool" else namespace, name)


def _fleet_key(pool: PoolUse) -> tuple[str, str, str]:
    return _live_key(pool.kind, pool.namespace or "", pool.name)


def source_cluster(fleet: Fleet, live: Live,
                   more_clusters: Iterable[tuple[str, str, str]] = ()) -> str:
    """The management cluster an export came from: the only one its Cluster objects and pools
    all fit (``more_clusters``: other (management cluster, namespace, name) the fleet had)."""
    clusters: dict[tuple[str, str], set[str]] = {}
    for mgmt, namespace, name in [*(c.key for c in fleet.clusters), *more_clusters]:
        clusters.setdefault((namespace, name), set()).add(mgmt)
    pools: dict[tuple[str, str, str], set[str]] = {}
    for pool in fleet.pools:
        pools.setdefault(_fleet_key(pool), set()).add(pool.management_cluster)
    evidence = [(f"Cluster {ns}/{name}", clusters.get((ns, name), set()))
                for ns, name in sorted(live.clusters)]
    used = {_live_key(*p) for p in live.pools} | {
        _live_key(a.pool_kind, a.namespace, a.pool_name) for a in live.addresses}
    evidence += [(f"{kind} {ns + '/' if ns else ''}{name}", pools.get((kind, ns, name), set()))
                 for kind, ns, name in sorted(used)]
    evidence = [(what, mgmts) for what, mgmts in evidence if mgmts]
    if not evidence:
        raise FleetError([Problem(live.location, "live-export",
                                  "this export matches none of the inventory's management "
                                  "clusters", "none of its Cluster objects or pools is in the "
                                  "inventory; " + _EXPORT_HINT)])
    common = set.intersection(*(mgmts for _what, mgmts in evidence))
    if len(common) == 1:
        return common.pop()
    if common:
        raise FleetError([Problem(live.location, "live-export",
                                  "cannot tell which management cluster this export is from: "
                                  f"it fits {', '.join(sorted(common))} alike",
                                  "include the Cluster objects: " + _EXPORT_HINT)])
    seen: dict[str, str] = {}
    for what, mgmts in evidence:
        for mgmt in mgmts if len(mgmts) == 1 else ():
            seen.setdefault(mgmt, what)
    raise FleetError([Problem(live.location, "live-export",
                              "this export holds objects of several management clusters: "
                              + ", ".join(f"{m} ({w})" for m, w in sorted(seen.items())),
                              "give one export per management cluster (--live a.yaml --live "
                              "b.yaml, or one YAML document each)")])


def combine(fleet: Fleet, exports: list[Live],
            more_clusters: Iterable[tuple[str, str, str]] = ()) -> Live:
    """Several exports as one ``Live`` whose ``of(management cluster)`` gives each; every export
    must be recognised, and at most one per management cluster."""
    more = list(more_clusters)
    problems: list[Problem] = []
    parts: dict[str, Live] = {}
    for export in exports:
        try:
            mgmt = source_cluster(fleet, export, more)
        except FleetError as exc:
            problems += exc.problems
            continue
        if mgmt in parts:
            problems.append(Problem(export.location, "live-export",
                                    f"a second export of management cluster {mgmt} (the first "
                                    f"is {parts[mgmt].location})"))
        else:
            parts[mgmt] = export
    if problems:
        raise FleetError(problems)
    return Live(", ".join(str(e.location) for e in exports),
                [a for e in exports for a in e.addresses],
                {c for e in exports for c in e.claims}, {p for e in exports for p in e.pools},
                {c for e in exports for c in e.clusters}, parts=parts)


def _live_use(pool: PoolUse, addresses: PoolAddresses, live: Live) -> LiveUse:
    mine = [a for a in live.addresses
            if _live_key(a.pool_kind, a.namespace, a.pool_name) == _fleet_key(pool)]
    allocated = AddressSet.of(parse_entry(a.address) for a in mine if _parses(a.address))
    orphans = sorted(f"{a.namespace}/{a.name} ({a.address}): claim {a.claim or '?'} not found"
                     for a in mine if (a.namespace, a.claim) not in live.claims)
    return LiveUse(allocated, allocated.difference(addresses.addresses), orphans)


def _parses(text: str) -> bool:
    try:
        parse_entry(text)
    except ValueError:
        return False
    return True


def make_plan(fleet: Fleet, live: Live | None = None) -> Plan:
    mgmt = source_cluster(fleet, live) if live is not None else None
    plans = []
    for pool in fleet.pools:
        addresses = pool.addresses
        assert addresses is not None, "check_fleet fails on a pool that does not parse"
        needed = capacity(pool, addresses).needed
        use = _live_use(pool, addresses, live) if live and pool.management_cluster == mgmt else None
        free = addresses.allocatable.difference(use.allocated) if use else addresses.allocatable
        wanted = max(needed - (use.allocated.size if use else 0), 0)
        plans.append(PoolPlan(pool, addresses, needed, free.take(wanted), use))
    unknown: list[str] = []
    if live is not None:
        known = {_fleet_key(p) for p in fleet.pools if p.management_cluster == mgmt}
        in_use = Counter(_live_key(a.pool_kind, a.namespace, a.pool_name) for a in live.addresses)
        unknown = sorted(f"{kind} {ns + '/' if ns else ''}{name} ({count} addresses allocated)"
                         for (kind, ns, name), count in in_use.items()
                         if (kind, ns, name) not in known and kind in POOL_KINDS)
    return Plan(plans, mgmt, unknown)


# --- output ----------------------------------------------------------------------------------

def _ranges(s: AddressSet) -> list[str]:
    return [str(r) for r in s.ranges]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part // whole}%" if whole else "-"


def as_json(plan: Plan) -> dict[str, Any]:
    pools = []
    for p in plan.pools:
        entry: dict[str, Any] = {
            "managementCluster": p.pool.management_cluster, "kind": p.pool.kind,
            "namespace": p.pool.namespace, "name": p.pool.name,
            "declaredAt": str(p.pool.declared_at), "addresses": _ranges(p.addresses.addresses),
            "size": p.addresses.addresses.size, "allocatable": p.allocatable,
            "needed": p.needed, "headroom": p.headroom,
            "users": [{"cluster": u.folder, "controlPlane": u.spec.control_plane_replicas,
                       "workers": u.spec.worker_replicas, "surge": surge(u), "needs": demand(u)}
                      for u in p.pool.users],
            "next": _ranges(p.next_addresses), "blocked": p.blocked,
        }
        if p.live is not None:
            entry["live"] = {"allocated": _ranges(p.live.allocated),
                             "allocatedCount": p.live.allocated.size,
                             "removedInUse": _ranges(p.live.removed_in_use),
                             "orphans": p.live.orphans}
        pools.append(entry)
    return {"pools": pools, "liveManagementCluster": plan.management_cluster,
            "unknownPoolsInUse": plan.unknown_pools, "blocked": plan.blocked}


def as_text(plan: Plan) -> str:
    out: list[str] = []
    for p in plan.pools:
        pool = p.pool
        where = f"{pool.namespace}/" if pool.namespace else ""
        out.append(f"{pool.management_cluster}  {pool.kind} {where}{pool.name}  "
                   f"({pool.declared_at})")
        out.append(f"  addresses  {p.addresses.addresses}  ({p.addresses.addresses.size} "
                   f"addresses, {p.allocatable} allocatable)")
        users = ", ".join(f"{u.spec.name} {demand(u)} ({u.spec.control_plane_replicas} cp + "
                          f"{plural(u.spec.worker_replicas, 'worker')} + {surge(u)} surge)"
                          for u in pool.users)
        out.append(f"  users      {users}")
        status = "SHORT" if p.headroom < 0 else "ok"
        out.append(f"  needed     {p.needed}, headroom {p.headroom} "
                   f"({_pct(p.headroom, p.allocatable)} of allocatable) {status}")
        if p.live is not None:
            out.append(f"  allocated  {p.live.allocated.size}: {p.live.allocated or '-'}")
            if p.live.removed_in_use:
                out.append(f"  IN USE BUT REMOVED  {p.live.removed_in_use}")
            out += [f"  orphan     {o}" for o in p.live.orphans]
        out.append(f"  next       {p.next_addresses or '-'}")
    out += [f"in use on {plan.management_cluster} but not in the inventory: {u}"
            for u in plan.unknown_pools]
    if plan.blocked:
        out.append("blocked: a pool is short, or an address in use would leave its pool")
    return "\n".join(out)
