"""Stage 3: check the loaded inventory, one cluster and the whole fleet at a time.

``check_fleet`` runs every rule (cluster_rules, fleet_rules, pools) and returns the ``Fleet`` the
renderer needs (clusters plus resolved node pools), or raises with every problem at once. The
checks read no files and change nothing they are given: what they compute is returned as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from generator.check.cluster_rules import CLUSTER_RULES
from generator.check.fleet import Cluster, Fleet, for_cluster
from generator.check.known import CheckedClusters
from generator.check.fleet_rules import FLEET_RULES, management_flags, overlays_exist
from generator.check.pool_parts import check_pool_parts
from generator.check.pools import resolve_pools
from generator.load.inventory import ClusterInventory, Inventory
from generator.load.validation import to_spec
from generator.problems import FleetError, Problem, has_errors


def check_cluster(inv: ClusterInventory) -> tuple[Cluster | None, list[Problem]]:
    """One cluster on its own: validated, then its own rules (CLUSTER_RULES)."""
    spec, found = to_spec(inv)
    problems = [for_cluster(inv, p) for p in found]
    if spec is None:
        return None, problems
    cluster = Cluster(spec, inv)
    return cluster, [*problems, *(p for rule in CLUSTER_RULES for p in rule(cluster))]


def checked_clusters(inventory: Inventory, checked: CheckedClusters | None = None
                     ) -> tuple[list[Cluster], list[Problem]]:
    """Every cluster that validates and the problems of each on its own; a cluster whose chain
    ``checked`` knows is taken from it (the same spec and problems, see check.known)."""
    clusters: list[Cluster] = []
    problems: list[Problem] = []
    for inv in inventory.clusters:
        hit = checked.get(inv.chain_key) if checked is not None else None
        if hit is not None:
            spec, found = hit
            cluster = None if spec is None else Cluster(spec, inv)
        else:
            cluster, found = check_cluster(inv)
            if checked is not None:
                checked.put(inv.chain_key, None if cluster is None else cluster.spec, found)
        problems += found
        if cluster is not None:
            clusters.append(cluster)
    return clusters, problems


def check_fleet(inventory: Inventory, *, relaxed: frozenset[str] = frozenset(),
                earlier: Sequence[Problem] = (), unread: int = 0,
                checked: CheckedClusters | None = None) -> Fleet:
    """Validate every cluster and the fleet as a whole; raise FleetError with all problems.

    ``relaxed``: problem codes reported as warnings instead (for commands that report them).
    ``earlier``: the problems of the stages before (reading the files, fleetgen.yaml), and
    ``unread`` the clusters they kept out of ``inventory``: the clusters that validate are
    checked all the same, so one run reports every problem the input allows. ``checked`` holds
    the clusters checked before, by inventory chain (issue 20)."""
    clusters, own = checked_clusters(inventory, checked)
    unchecked = unread + len(inventory.clusters) - len(clusters)
    problems = [*earlier, *own]
    problems += [p for rule in FLEET_RULES for p in rule(clusters)]
    problems += overlays_exist(clusters, inventory.overlays)
    flags, found = management_flags(clusters)
    problems += found
    pools, found = resolve_pools(clusters)
    problems += found
    problems += check_pool_parts(clusters, pools, None if checked is None else checked.store)
    # `ipam plan` and `diff` report these themselves, as exit-4 policy findings and risks.
    problems = [replace(p, severity="warning") if p.code in relaxed else p for p in problems]
    if has_errors(problems):
        # In a fleet of one, its problems plainly are that cluster's: no note then.
        raise FleetError(problems, unchecked=unchecked if len(clusters) + unchecked > 1 else 0)
    # by place: the pool checks of the parts of the fleet come in no fixed order (pool_parts)
    warnings = tuple(sorted((p for p in problems if p.severity == "warning"),
                            key=lambda p: (*p.sort_key(), p.hint, p.severity, p.clusters)))
    return Fleet(tuple(sorted(clusters, key=lambda c: c.key)), tuple(pools), warnings, flags)
