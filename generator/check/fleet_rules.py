"""Stage 3, the fleet as a whole: rules across clusters (names, endpoints, shared cloud networks,
overlays) and the feature flags each management cluster's operators need.
"""

from __future__ import annotations

import difflib
import ipaddress
from typing import Iterator

from generator.check.flags import Flags, cluster_flags, derived_flags, merge
from generator.check.fleet import Cluster
from generator.load.model import ManagementClusterSpec
from generator.net.ip import parse_ip
from generator.paths import OVERLAYS_DIR
from generator.problems import SHOWN, Problem
from generator.yaml.load import Path_


def unique_clusters(clusters: list[Cluster]) -> Iterator[Problem]:
    seen: dict[tuple[str, str, str], Cluster] = {}
    for c in clusters:
        first = seen.setdefault(c.key, c)
        if first is not c:
            yield c.problem(("name",), "duplicate-cluster",
                            f"cluster '{c.spec.name}' in namespace '{c.spec.namespace}' of "
                            f"'{c.spec.management_cluster}' is also defined by {first.inventory.file}",
                            "rename one of the files or set 'name:'")


def unique_endpoints(clusters: list[Cluster]) -> Iterator[Problem]:
    """Each cluster whose endpoint another uses too: one problem at each place, naming the
    others, so a pull request's annotation lands on the file it changed, whichever that is."""
    users: dict[str, list[Cluster]] = {}
    for c in clusters:
        endpoint = c.spec.control_plane.endpoint
        if endpoint is not None:
            canonical = str(parse_ip(endpoint) or endpoint.lower().rstrip("."))
            users.setdefault(canonical, []).append(c)
    for shared in users.values():
        if len(shared) < 2:
            continue
        for c in shared:
            others = " and ".join(f"cluster '{o.spec.name}' "
                                  f"({o.inventory.locate(('controlPlane', 'endpoint'))})"
                                  for o in shared if o is not c)
            yield c.problem(("controlPlane", "endpoint"), "duplicate-endpoint",
                            f"endpoint {c.spec.control_plane.endpoint} is also used by {others}")


def overlays_exist(clusters: list[Cluster], overlays: tuple[str, ...]) -> Iterator[Problem]:
    """Every overlay a cluster names is one of ``overlays`` (the load stage lists them)."""
    available = sorted(overlays)
    for c in clusters:
        for index, name in enumerate(c.spec.overlays):
            if name not in available:
                match = difflib.get_close_matches(name, available, n=1)
                yield c.problem(("overlays", index), "unknown-overlay",
                                f"no overlay '{name}' in {OVERLAYS_DIR}/",
                                f"did you mean '{match[0]}'?" if match else
                                f"create {OVERLAYS_DIR}/{name}/ or remove it from the list")


def management_flags(clusters: list[Cluster]) -> tuple[dict[str, Flags], list[Problem]]:
    """Per management cluster, every flag its operators' machines need: the flags of all its
    workload clusters, plus its own (declared under ``managementClusters`` or derived from its IP
    family). Two clusters asking for different values of one flag is an error."""
    flags: dict[str, Flags] = {}
    origin: dict[tuple[str, str, str], Cluster] = {}
    declared: dict[str, tuple[Cluster, ManagementClusterSpec]] = {}
    problems: list[Problem] = []
    for c in sorted(clusters, key=lambda c: c.key):
        mgmt = c.spec.management_cluster
        own = c.spec.management_clusters.get(mgmt)
        if own is not None:
            first = declared.setdefault(mgmt, (c, own))
            if first[1] != own:
                problems.append(c.problem(("managementClusters", mgmt), "management-conflict",
                                          f"management cluster '{mgmt}' is described differently "
                                          f"for cluster '{first[0].spec.name}'", key=True))
        layers: list[tuple[Path_, Flags]] = [(("features",), cluster_flags(c.spec))]
        if own is not None:
            layers.append((("managementClusters", mgmt, "features"), own.features))
            layers.append((("managementClusters", mgmt, "ipFamily"),
                           derived_flags("management-cluster", own.ip_family)))
        merged = flags.setdefault(mgmt, {})
        for path, layer in layers:
            for plugin, values in layer.items():
                for flag, value in values.items():
                    have = merged.setdefault(plugin, {}).setdefault(flag, value)
                    owner = origin.setdefault((mgmt, plugin, flag), c)
                    if have != value:
                        problems.append(c.problem(
                            (*path, plugin, flag) if path[-1] == "features" else path,
                            "flag-conflict", f"{plugin}.{flag} is \"{value}\" here but "
                            f"\"{have}\" for cluster '{owner.spec.name}' on '{mgmt}'",
                            "operators of one management cluster share one tanzu config"))
    return {m: merge([f]) for m, f in sorted(flags.items())}, problems


def _cloud_subnets(c: Cluster) -> tuple[str | None, list[tuple[Path_, str]]]:
    """The shared cloud network a cluster's node subnets are carved from (an existing AWS VPC or
    a named Azure VNet), and those subnets' CIDRs with where they were written."""
    if c.spec.aws is not None and c.spec.aws.vpc.existing_id:
        aws = c.spec.aws
        return f"AWS VPC {aws.vpc.existing_id}", [
            (("aws", "subnets", i, side, "cidr"), cidr) for i in range(len(aws.subnets))
            for side in ("private", "public") if (cidr := aws.subnet_cidr(i, side))]
    if c.spec.azure is not None and c.spec.azure.vnet.name:
        azure = c.spec.azure
        group = azure.vnet.resource_group or azure.resource_group or ""
        return f"Azure VNet {group}/{azure.vnet.name}", [
            (("azure", key, "cidr"), subnet.cidr) for key, subnet in
            (("controlPlaneSubnet", azure.control_plane_subnet),
             ("workerSubnet", azure.worker_subnet)) if subnet.cidr]
    return None, []


def shared_cloud_networks(clusters: list[Cluster]) -> Iterator[Problem]:
    """Clusters carving node subnets from one existing VPC / VNet must not overlap each other."""
    seen: dict[str, list[tuple[Cluster, Path_, ipaddress.IPv4Network | ipaddress.IPv6Network]]] = {}
    for c in sorted(clusters, key=lambda c: c.key):
        network, subnets = _cloud_subnets(c)
        if network is None:
            continue
        earlier = seen.setdefault(network, [])
        for path, cidr in subnets:
            mine = ipaddress.ip_network(cidr)
            hits = [f"{theirs} of cluster '{other.spec.name}' "
                    f"({other.inventory.locate(other_path)})"
                    for other, other_path, theirs in earlier
                    if other is not c and mine.overlaps(theirs)]
            if len(hits) == 1:  # one problem per subnet, however many it overlaps
                yield c.problem(path, "subnet-overlap",
                                f"subnet {mine} overlaps {hits[0]} in {network}")
            elif hits:
                more = f"; and {len(hits) - SHOWN} more" if len(hits) > SHOWN else ""
                yield c.problem(path, "subnet-overlap",
                                f"subnet {mine} overlaps {len(hits)} subnets in {network}: "
                                f"{'; '.join(hits[:SHOWN])}{more}")
        earlier.extend((c, path, ipaddress.ip_network(cidr)) for path, cidr in subnets)


FLEET_RULES = (unique_clusters, unique_endpoints, shared_cloud_networks)
