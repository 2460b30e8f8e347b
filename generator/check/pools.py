"""Node IPAM rules: which pool each cluster draws from, each pool as the provider's webhook sees
it, plus what nobody else checks — overlap between pools, endpoints and CIDRs inside pools, DHCP
ranges, and capacity.

Every problem points at the pool's declaration (or the cluster setting) to edit.
"""

from __future__ import annotations

import difflib
import heapq
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from generator.check.fleet import Cluster, PoolUse, cluster_id, inherited
from generator.load.inventory import ClusterInventory
from generator.load.model import IPPool
from generator.net.addresses import (AddressSet, PoolAddresses, Range, address_text, parse_entry,
                                     pool_addresses, single)
from generator.net.ip import parse_ip
from generator.problems import SHOWN, Location, Problem
from generator.yaml.load import Path_

HEADROOM_WARNING = 0.10


def _pool_path(c: Cluster, name: str) -> Path_:
    return ("network", "nodes", "ipPool") if name == f"{c.spec.name}-pool" and isinstance(
        c.spec.network.nodes.ip_pool, IPPool) else ("ipPools", name)


def resolve_pools(clusters: list[Cluster]) -> tuple[list[PoolUse], list[Problem]]:
    """Bind every node-IPAM cluster to its pool, one PoolUse per (management cluster, pool), and
    parse each pool once: a pool that parses carries its ``addresses``."""
    uses: dict[tuple[str, str], PoolUse] = {}
    users: dict[tuple[str, str], list[Cluster]] = {}
    problems: list[Problem] = []
    for c in clusters:
        name = c.spec.pool_ref
        if name is None:
            continue
        pools = c.spec.pools_in_scope()
        if name not in pools:
            match = difflib.get_close_matches(name, list(pools), n=1)
            problems.append(c.problem(("network", "nodes", "ipPool"), "unknown-pool",
                                      f"no IP pool '{name}' is declared for this cluster",
                                      f"did you mean '{match[0]}'?" if match else
                                      "declare it under 'ipPools:' in this file or a _defaults.yaml"))
            continue
        path = _pool_path(c, name)
        source = c.inventory.source_of(path)
        key = (c.spec.management_cluster, name)
        use = uses.setdefault(key, PoolUse(name, c.spec.management_cluster, pools[name], source,
                                           (c,), path=path))
        if use.spec != pools[name] or use.source != source:
            problems.append(c.problem(_pool_path(c, name), "pool-conflict",
                                      f"pool '{name}' on '{use.management_cluster}' is declared "
                                      f"differently at {use.declared_at}",
                                      "give one of the pools another name", key=True))
            continue
        members = users.setdefault(key, [])
        if c not in members:
            members.append(c)
    resolved = []
    for key in sorted(uses):
        use = replace(uses[key], users=tuple(users[key]))
        addresses, found = parse_pool(use)
        problems += found
        resolved.append(replace(use, addresses=addresses))
    return resolved, problems


def parse_pool(pool: PoolUse) -> tuple[PoolAddresses | None, list[Problem]]:
    """The pool's addresses, or the problems that stop the provider from accepting it."""
    spec, problems = pool.spec, []
    if not spec.addresses:
        return None, [pool.problem(("addresses",), "pool-empty",
                                   f"pool '{pool.name}' has no addresses")]
    for key, entries in (("addresses", spec.addresses), ("excludedAddresses",
                                                         spec.excluded_addresses or [])):
        for index, entry in enumerate(entries):
            try:
                AddressSet.parse([entry])
            except ValueError as exc:
                problems.append(Problem(pool.locate(key, index), "pool-address",
                                        f"pool '{pool.name}': {exc}"))
    if spec.gateway is not None and parse_ip(spec.gateway) is None:
        problems.append(pool.problem(("gateway",), "pool-address",
                                     f"pool '{pool.name}': gateway '{spec.gateway}' is not an IP "
                                     "address"))
    if problems:
        return None, problems
    families = {("ipv4" if r.version == 4 else "ipv6") for entries in (
        spec.addresses, spec.excluded_addresses or [], [spec.gateway] if spec.gateway else [])
        for r in AddressSet.parse(entries).ranges}
    if len(families) > 1:
        return None, [pool.problem((), "pool-family",
                                   f"pool '{pool.name}' mixes IPv4 and IPv6 in its addresses, "
                                   "gateway and exclusions")]
    bits = 32 if families == {"ipv4"} else 128
    if not 1 <= spec.prefix <= bits:
        return None, [pool.problem(("prefix",), "pool-prefix",
                                   f"pool '{pool.name}': prefix {spec.prefix} is out of range "
                                   f"(1..{bits} for {families.pop()})")]
    return pool_addresses(spec.addresses, spec.prefix, spec.gateway, spec.excluded_addresses,
                          spec.allocate_reserved_ip_addresses), []


def _subnet_text(subnet: Range, prefix: int) -> str:
    return f"{address_text(subnet.version, subnet.first)}/{prefix}"


def subnet_rule(pool: PoolUse, addresses: PoolAddresses) -> Iterator[Problem]:
    """The webhook's rule: every entry lies in (lowest address)/prefix."""
    assert addresses.subnet is not None
    subnet = AddressSet((addresses.subnet,))
    for index, entry in enumerate(pool.spec.addresses):
        if AddressSet.parse([entry]).difference(subnet):
            yield Problem(pool.locate("addresses", index), "pool-subnet",
                          f"pool '{pool.name}': {entry} is outside "
                          f"{_subnet_text(addresses.subnet, pool.spec.prefix)}, the subnet of its "
                          "lowest address", "every entry must lie in one subnet of the pool's prefix")


def gateway_rules(pool: PoolUse, addresses: PoolAddresses) -> Iterator[Problem]:
    assert addresses.subnet is not None
    gateway, subnet = pool.spec.gateway, addresses.subnet
    if gateway is None:
        if subnet.version == 4:
            yield pool.problem((), "pool-gateway-required",
                               f"IPv4 pool '{pool.name}' needs a gateway",
                               "CAPV refuses an IPv4 address without a gateway")
        return
    if not AddressSet((subnet,)).intersection(addresses.gateway):
        yield pool.problem(("gateway",), "pool-gateway-subnet",
                           f"gateway {gateway} is outside the pool's subnet "
                           f"{_subnet_text(subnet, pool.spec.prefix)}")
    if addresses.addresses.intersection(addresses.gateway):
        yield pool.problem(("gateway",), "pool-gateway-in-range",
                           f"gateway {gateway} is inside the pool's addresses; it is never "
                           "handed out", "leave the gateway out of 'addresses'",
                           severity="warning")


def reserved_rule(pool: PoolUse, addresses: PoolAddresses) -> Iterator[Problem]:
    """Network (and IPv4 broadcast) addresses in a pool: older provider builds hand them out,
    newer ones skip them. With ``allocateReservedIPAddresses`` (rendered) every build hands them
    out, so they count and there is nothing to warn about."""
    subnet = addresses.subnet
    assert subnet is not None
    if pool.spec.allocate_reserved_ip_addresses:
        return
    edges = [Range(subnet.version, subnet.first, subnet.first)]
    if subnet.version == 4:
        edges.append(Range(4, subnet.last, subnet.last))
    reserved = addresses.addresses.intersection(AddressSet.of(edges))
    if reserved:
        yield pool.problem(("addresses",), "pool-reserved-address",
                           f"pool '{pool.name}' contains the subnet's network or broadcast "
                           f"address ({reserved})", "older provider builds hand these out; leave "
                           "them out of 'addresses'", severity="warning")


def namespace_rule(pool: PoolUse) -> Iterator[Problem]:
    namespaces = sorted({u.spec.namespace for u in pool.users})
    if pool.kind == "InClusterIPPool" and len(namespaces) > 1:
        yield pool.problem((), "pool-namespace",
                           f"InClusterIPPool '{pool.name}' serves only its own namespace, but "
                           f"clusters in {', '.join(namespaces)} use it",
                           "use kind: GlobalInClusterIPPool to share a pool across namespaces")


def family_rule(pool: PoolUse, addresses: PoolAddresses) -> Iterator[Problem]:
    for user in pool.users:
        if not addresses.addresses.families <= set(user.spec.network.families):
            yield user.problem(("network", "nodes", "ipPool"), "family-mismatch",
                               f"pool '{pool.name}' is {'/'.join(sorted(addresses.addresses.families))}"
                               f", the cluster is {user.spec.network.ip_family}")


# --- capacity --------------------------------------------------------------------------------

def surge(cluster: Cluster) -> int:
    """Extra machines during a rolling update: one for the control plane, one (or maxSurge) per
    MachineDeployment, since CAPI creates the new machine before deleting the old one."""
    return 1 + sum(1 if md.max_surge is None else md.max_surge
                   for md in cluster.spec.machine_deployments)


def demand(cluster: Cluster) -> int:
    return cluster.spec.control_plane_replicas + cluster.spec.worker_replicas + surge(cluster)


@dataclass(frozen=True)
class Capacity:
    allocatable: int
    needed: int

    @property
    def headroom(self) -> int:
        return self.allocatable - self.needed


def capacity(pool: PoolUse, addresses: PoolAddresses) -> Capacity:
    return Capacity(addresses.allocatable.size, sum(demand(u) for u in pool.users))


def capacity_rule(pool: PoolUse, cap: Capacity) -> Iterator[Problem]:
    users = ", ".join(f"{u.spec.name} {demand(u)}" for u in pool.users)
    if cap.headroom < 0:
        yield pool.problem((), "pool-capacity",
                           f"pool '{pool.name}' is short by {-cap.headroom}: {cap.allocatable} "
                           f"allocatable, {cap.needed} needed ({users}, rollout surge included)",
                           "add addresses to the pool or move a cluster to another pool")
    elif cap.allocatable and cap.headroom < HEADROOM_WARNING * cap.allocatable:
        yield pool.problem((), "pool-headroom",
                           f"pool '{pool.name}' has {cap.headroom} spare of {cap.allocatable} "
                           f"allocatable ({cap.needed} needed: {users})",
                           "less than 10% headroom: the next scale-up may not fit",
                           severity="warning")


# --- across pools and clusters ---------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    """A set of addresses that something owns, with where to point when it collides."""

    kind: str  # "pool", "endpoint", "vip", "reservation" or "cidr"
    what: str
    # Where to point, or how to find out: locating means reading positions, which only the few
    # colliding items ever need.
    locator: Location | Callable[[], Location]
    addresses: AddressSet
    scopes: frozenset[str]  # management clusters and node networks it belongs to
    # A cluster's own item: ``what`` without the cluster ("pods CIDR 10.0.0.0/16"), and the
    # cluster's inventory, so one line of a _defaults.yaml is one problem naming the clusters.
    label: str = ""
    inventory: ClusterInventory | None = None

    @property
    def where(self) -> Location:
        return self.locator() if callable(self.locator) else self.locator


def collisions(items: list[Placed], relevant: Callable[[str, str], bool] = lambda a, b: True
               ) -> Iterator[tuple[Placed, Placed, AddressSet]]:
    """Every pair of items of ``relevant`` kinds that share a scope and an address, by one sweep
    over the ranges sorted by start.

    Each kind keeps its own heap of active ranges (expired by end), and an arriving range is only
    compared with the kinds it can collide with: a thousand clusters all using the default pod
    CIDR never compare their CIDRs with each other. The cost is O(n log n) plus the colliding
    pairs, so 10,000 disjoint pools take a fraction of a second.
    """
    kinds = sorted({item.kind for item in items})
    starts = sorted((r, index) for index, item in enumerate(items) for r in item.addresses.ranges)
    active: dict[str, list[tuple[int, int, int]]] = {kind: [] for kind in kinds}
    seen: set[tuple[int, int]] = set()
    for r, index in starts:
        kind = items[index].kind
        for other_kind in kinds:
            heap = active[other_kind]
            while heap and (heap[0][0], heap[0][1]) < (r.version, r.first):
                heapq.heappop(heap)
            if not relevant(kind, other_kind):
                continue
            for _version, _last, j in heap:
                pair = (min(j, index), max(j, index))
                if j != index and pair not in seen and items[j].scopes & items[index].scopes:
                    seen.add(pair)
                    first, second = items[pair[0]], items[pair[1]]
                    yield first, second, first.addresses.intersection(second.addresses)
        heapq.heappush(active[kind], (r.version, r.last, index))


RULES_BY_KINDS = {
    frozenset({"pool"}): ("pool-overlap", "two pools hand out one address twice: duplicate node IPs"),
    frozenset({"pool", "endpoint"}): ("endpoint-in-pool",
                                      "node IPAM never skips a control-plane endpoint; move it "
                                      "out of the pool or exclude it"),
    frozenset({"cidr", "pool"}): ("cidr-overlap", "choose pod and service CIDRs outside the node "
                                  "networks"),
    frozenset({"cidr", "endpoint"}): ("cidr-overlap", "choose pod and service CIDRs that do not "
                                      "cover a control-plane endpoint"),
    frozenset({"pool", "vip"}): ("vip-in-pool", "node IPAM would hand the load balancer's VIP to a "
                                 "node; exclude it from the pool"),
    frozenset({"pool", "reservation"}): ("reservation-in-pool", "a DHCP reservation inside a node "
                                         "pool gives two nodes one address"),
    frozenset({"cidr", "vip"}): ("cidr-overlap", "choose pod and service CIDRs that do not cover "
                                 "the VIP"),
    frozenset({"cidr", "reservation"}): ("cidr-overlap", "choose pod and service CIDRs outside the "
                                         "node network"),
    **{frozenset(kinds): ("address-conflict", "one address can have only one owner")
       for kinds in ({"vip"}, {"reservation"}, {"vip", "reservation"}, {"endpoint", "vip"},
                     {"endpoint", "reservation"})},
}


# The hint of one problem whose collisions are of several kinds.
MIXED_HINTS = {"cidr-overlap": "choose pod and service CIDRs outside the node networks, pools, "
                               "control-plane endpoints and VIPs"}

# Where a collision is reported: at the side whose fix is most likely.
REPORT_AT = {"cidr": 0, "reservation": 1, "vip": 2, "endpoint": 3, "pool": 4}


@dataclass(frozen=True)
class Collision:
    """One collision as the problems need it: where it is reported and what it names (plain
    values, so that the checks of a part of the fleet can be kept in the cache and the problems
    still made one per cause across the whole fleet)."""

    where: Location
    code: str
    hint: str
    what: str
    label: str  # the reported item's label, else its what
    cluster: str  # the cluster whose item is reported ("" for a pool)
    other_where: Location
    other: str  # "<what> (<where>) in <shared addresses>"


def collision_records(items: list[Placed]) -> list[Collision]:
    """Collisions between pools, fixed addresses (endpoints, VIPs, DHCP reservations) and pod or
    service CIDRs. A collision is reported where the fix most likely belongs (see REPORT_AT; of
    two of a kind, the one written later) and names the other place."""
    def relevant(a: str, b: str) -> bool:
        return frozenset({a, b}) in RULES_BY_KINDS

    out = []
    for first, second, shared in collisions(items, relevant):
        rule = RULES_BY_KINDS.get(frozenset({first.kind, second.kind}))
        if rule is None:
            continue
        code, hint = rule
        earlier, later = sorted((first, second), key=lambda p: (p.where, p.what))
        if REPORT_AT[earlier.kind] < REPORT_AT[later.kind]:
            reported, other = earlier, later
        else:
            reported, other = later, earlier
        out.append(Collision(reported.where, code, hint, reported.what,
                             reported.label or reported.what,
                             cluster_id(reported.inventory) if reported.inventory else "",
                             other.where, f"{other.what} ({other.where}) in {shared}"))
    return out


def overlap_problems(records: list[Collision]) -> Iterator[Problem]:
    """One problem per cause: a pod CIDR covering 17 endpoints is one error that lists them, and
    a CIDR written once in a _defaults.yaml is one error naming the clusters that inherit it."""
    causes: dict[tuple[Location, str], tuple[set[str], list[Collision], set[tuple[Location, str]],
                                             set[str]]] = {}
    for record in records:
        whats, reporters, others, hints = causes.setdefault((record.where, record.code),
                                                            (set(), [], set(), set()))
        whats.add(record.what)
        reporters.append(record)
        others.add((record.other_where, record.other))
        hints.add(record.hint)
    for (where, code), (whats, reporters, others, hints) in causes.items():
        hint = hints.pop() if len(hints) == 1 else MIXED_HINTS.get(code, "; ".join(sorted(hints)))
        yield _cause(where, code, hint, whats, reporters, [t for _w, t in sorted(others)])


def overlap_rules(items: list[Placed]) -> Iterator[Problem]:
    """The problems of the collisions between ``items`` (see collision_records)."""
    return overlap_problems(collision_records(items))


def _cause(where: Location, code: str, hint: str, whats: set[str], reporters: list[Collision],
           others: list[str]) -> Problem:
    clusters = tuple(sorted({r.cluster for r in reporters if r.cluster})) \
        if inherited(where) else ()
    what = next(iter(whats)) if len(whats) == 1 else min(r.label for r in reporters)
    if len(others) == 1:
        message = f"{what} overlaps {others[0]}"
    else:
        more = f"; and {len(others) - SHOWN} more" if len(others) > SHOWN else ""
        message = f"{what} overlaps {len(others)} others: {'; '.join(others[:SHOWN])}{more}"
    return Problem(where, code, message, hint, clusters=clusters)


def _declared(pool: PoolUse) -> Callable[[], Location]:
    return lambda: pool.declared_at


def _at(cluster: Cluster, path: tuple[str | int, ...]) -> Callable[[], Location]:
    return lambda: cluster.inventory.locate(path)


def placements(clusters: list[Cluster], pools: list[tuple[PoolUse, PoolAddresses]]
               ) -> list[Placed]:
    out = []
    for pool, addresses in pools:
        scopes = {f"mgmt:{pool.management_cluster}"}
        if pool.spec.node_network:
            scopes.add(f"net:{pool.spec.node_network}")
        # What a pool can hand out: an address it excludes (or its gateway) collides with nothing.
        out.append(Placed("pool", f"pool '{pool.name}'", _declared(pool), addresses.allocatable,
                          frozenset(scopes)))
    for c in clusters:
        mgmt = frozenset({f"mgmt:{c.spec.management_cluster}"})
        endpoint = c.spec.control_plane.endpoint
        if endpoint and parse_ip(endpoint) is not None:
            out.append(Placed("endpoint", f"the endpoint of cluster '{c.spec.name}'",
                              _at(c, ("controlPlane", "endpoint")), single(endpoint),
                              mgmt))
        vip = c.spec.control_plane.vip
        if vip is not None:
            out.append(Placed("vip", f"the VIP of cluster '{c.spec.name}'",
                              _at(c, ("controlPlane", "vip")), single(vip), mgmt))
        nodes = c.spec.network.nodes
        on_network = mgmt | frozenset([f"net:{nodes.node_network}"] if nodes.node_network else [])
        for index, reservation in enumerate(nodes.dhcp_reservations):
            out.append(Placed("reservation", f"the DHCP reservation of node '{reservation.node}'",
                              _at(c, ("network", "nodes", "dhcpReservations", index, "ip")),
                              single(reservation.ip), on_network))
        for key, cidrs in (("pods", c.spec.network.pod_cidrs),
                           ("services", c.spec.network.service_cidrs)):
            for index, cidr in enumerate(cidrs):
                out.append(Placed("cidr", f"{key} CIDR {cidr} of cluster '{c.spec.name}'",
                                  _at(c, ("network", key, index)),
                                  AddressSet((parse_entry(cidr),)),
                                  mgmt, f"{key} CIDR {cidr}", c.inventory))
    return out


def dhcp_rule(clusters: list[Cluster], pools: list[tuple[PoolUse, PoolAddresses]]
              ) -> Iterator[Problem]:
    declared: dict[str, tuple[Cluster, AddressSet]] = {}
    for c in clusters:
        for name, net in sorted(c.spec.node_networks.items()):
            if net.dhcp_ranges and name not in declared:
                declared[name] = (c, AddressSet.parse(net.dhcp_ranges))
    for pool, addresses in pools:
        network = pool.spec.node_network
        if network is None or network not in declared:
            continue
        owner, dhcp = declared[network]
        shared = dhcp.intersection(addresses.addresses)
        if shared:
            where = owner.inventory.locate(("nodeNetworks", network, "dhcpRanges"))
            yield pool.problem((), "dhcp-overlap",
                               f"pool '{pool.name}' overlaps the DHCP ranges of node network "
                               f"'{network}' ({where}) in {shared}",
                               "take those addresses out of the DHCP scope or out of the pool")


def check_pools(clusters: list[Cluster], pools: list[PoolUse]) -> list[Problem]:
    """Every pool and IP rule, on the pools ``resolve_pools`` returned (one that did not parse
    gets only the rules that need no addresses)."""
    problems, records = pool_part(clusters, pools)
    return [*problems, *overlap_problems(records)]


def pool_part(clusters: list[Cluster], pools: list[PoolUse]
              ) -> tuple[list[Problem], list[Collision]]:
    """check_pools on a part of the fleet that shares no management cluster or node network with
    the rest: its problems, and its collisions (made problems over the whole fleet at once)."""
    parsed: list[tuple[PoolUse, PoolAddresses]] = []
    problems: list[Problem] = []
    for pool in pools:
        problems += namespace_rule(pool)
        addresses = pool.addresses
        if addresses is None:
            continue
        problems += subnet_rule(pool, addresses)
        problems += gateway_rules(pool, addresses)
        problems += reserved_rule(pool, addresses)
        problems += family_rule(pool, addresses)
        problems += capacity_rule(pool, capacity(pool, addresses))
        parsed.append((pool, addresses))
    problems += dhcp_rule(clusters, parsed)
    return problems, collision_records(placements(clusters, parsed))
