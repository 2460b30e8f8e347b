"""The pool and address checks, recomputed only for the part of the fleet a change touches
(issue 20: incremental load).

Every pool and address rule relates items that share a management cluster or a node network:
a pool belongs to one management cluster and draws on its node network; endpoints, VIPs, DHCP
reservations and pod or service CIDRs collide only within their management cluster or node
network (``pools.Placed.scopes``); DHCP ranges are matched to pools by node network. So the
fleet falls into parts, the connected groups of management clusters and node networks, and a
part's problems and collisions are a function of its clusters alone: of their inventory chains
(``ClusterInventory.chain_key``), which hold every pool declaration too. Each part's result is
kept in the cache under its clusters' chain keys; a change recomputes the parts it touches.

The collisions are kept as plain records and made problems over the whole fleet at once, so
one cause is still one problem: a pod CIDR in a shared ``_defaults.yaml`` that collides in
several parts is one error naming every place.
"""

from __future__ import annotations

import json
from typing import Any

from generator.cache.store import RenderCache, entry_digest
from generator.check.fleet import Cluster, PoolUse
from generator.check.known import problem_entry, problem_from
from generator.check.pools import Collision, check_pools, overlap_problems, pool_part
from generator.problems import Location, Problem


def parts(clusters: list[Cluster], pools: list[PoolUse]
          ) -> list[tuple[list[Cluster], list[PoolUse]]]:
    """The clusters and pools of each part (in the order given), parts by their first cluster."""
    parent: dict[str, str] = {}

    def find(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    def join(labels: list[str]) -> str:
        root = find(labels[0])
        for label in labels[1:]:
            other = find(label)
            if other != root:
                parent[other] = root
        return root

    def cluster_labels(c: Cluster) -> list[str]:
        nets = set(c.spec.node_networks)
        if c.spec.network.nodes.node_network:
            nets.add(c.spec.network.nodes.node_network)
        return [f"mgmt:{c.spec.management_cluster}", *sorted(f"net:{n}" for n in nets)]

    def pool_labels(p: PoolUse) -> list[str]:
        net = [f"net:{p.spec.node_network}"] if p.spec.node_network else []
        return [f"mgmt:{p.management_cluster}", *net]

    for c in clusters:
        join(cluster_labels(c))
    for p in pools:
        join(pool_labels(p))
    grouped: dict[str, tuple[list[Cluster], list[PoolUse]]] = {}
    for c in clusters:
        grouped.setdefault(find(cluster_labels(c)[0]), ([], []))[0].append(c)
    for p in pools:
        grouped.setdefault(find(pool_labels(p)[0]), ([], []))[1].append(p)
    return list(grouped.values())


def _collision_entry(c: Collision) -> list[Any]:
    return [c.where.path, c.where.line, c.where.col, c.code, c.hint, c.what, c.label, c.cluster,
            c.other_where.path, c.other_where.line, c.other_where.col, c.other]


def _collision_from(e: Any) -> Collision:
    path, line, col, code, hint, what, label, cluster, opath, oline, ocol, other = e
    return Collision(Location(str(path), int(line), int(col)), str(code), str(hint), str(what),
                     str(label), str(cluster), Location(str(opath), int(oline), int(ocol)),
                     str(other))


def check_pool_parts(clusters: list[Cluster], pools: list[PoolUse],
                     store: RenderCache | None) -> list[Problem]:
    """``pools.check_pools``, part by part, each part's result taken from ``store`` while its
    clusters' inventory chains are unchanged; without a store, over the whole fleet at once
    (which tests/test_incremental.py holds the parts to)."""
    if store is None:
        return check_pools(clusters, pools)
    found: list[tuple[list[Problem], list[Collision]]] = []
    todo: list[tuple[int, str | None, list[Cluster], list[PoolUse]]] = []
    divided = parts(clusters, pools)
    keys: list[str | None] = []
    for members, own in divided:
        chains = sorted(c.inventory.chain_key for c in members)
        keys.append(RenderCache.key("pool-checks", *chains) if all(chains) else None)
    kept = store.read_many([k for k in keys if k])
    for index, ((members, own), key) in enumerate(zip(divided, keys)):
        hit = _read(kept.get(key or ""))
        found.append(hit if hit is not None else ([], []))
        if hit is None:
            todo.append((index, key, members, own))
    for index, key, members, own in todo:
        problems, records = pool_part(members, own)
        found[index] = (problems, records)
        if key is not None:
            content = [[problem_entry(p) for p in problems],
                       [_collision_entry(r) for r in records]]
            store.write(key, json.dumps({"content": content, "digest": entry_digest(content)}))
    records = [r for _problems, part in found for r in part]
    return [*(p for problems, _part in found for p in problems), *overlap_problems(records)]


def _read(text: str | None) -> tuple[list[Problem], list[Collision]] | None:
    """A kept part's problems and collisions, or None for a missing or damaged entry."""
    if not text:
        return None
    try:
        entry = json.loads(text)
        content = entry["content"]
        if entry["digest"] != entry_digest(content):
            return None
        problems, records = content
        return [problem_from(p) for p in problems], [_collision_from(r) for r in records]
    except (ValueError, KeyError, TypeError):
        return None
