"""Stage 3, one cluster at a time: rules across the fields of a single cluster.

Each rule is a small function that yields located problems; ``CLUSTER_RULES`` lists them all (the
importer and the scaffold run them too).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Callable, Iterator

from generator.check.flags import CUSTOM_NAMESERVERS_FLAG, conflicts, workload_flags
from generator.check.fleet import Cluster
from generator.check.catalog_rules import CATALOG_RULES
from generator.check.gitops_rules import GITOPS_RULES
from generator.check.parity_rules import PARITY_RULES
from generator.check.tkg_rules import TKG_RULES
from generator.load.infra import AZURE_DEFAULT_SUBNETS
from generator.load.model import MACHINE_FIELDS, Machine, cidr_family, networks
from generator.net.ip import IPAddress, family_of, parse_ip, zone_note
from generator.problems import Problem, path_text
from generator.yaml.load import Path_

Rule = Callable[[Cluster], Iterator[Problem]]

MAX_SERVICE_HOST_BITS = 20
INFRA_NAMES = {"vsphere": "vSphere", "aws": "AWS", "azure": "Azure"}


def infrastructure_block(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    for infra in ("vsphere", "aws", "azure"):
        given = getattr(spec, infra) is not None
        if infra == spec.infrastructure and not given:
            yield c.problem(("infrastructure",), "missing-key",
                            f"{INFRA_NAMES[infra]} clusters need a '{infra}:' section",
                            f"add '{infra}:' with its settings here or in a _defaults.yaml")
        elif infra != spec.infrastructure and given:
            yield c.problem((infra,), "wrong-infrastructure",
                            f"'{infra}:' does not apply to {INFRA_NAMES[spec.infrastructure]} "
                            "clusters",
                            f"remove it, or set 'infrastructure: {infra}'", key=True)


def control_plane_endpoint(c: Cluster) -> Iterator[Problem]:
    spec, cp = c.spec, c.spec.control_plane
    path = ("controlPlane", "endpoint")
    if spec.infrastructure != "vsphere":
        if cp.endpoint is not None:
            yield c.problem(path, "endpoint-not-allowed",
                            f"{INFRA_NAMES[spec.infrastructure]} clusters get their endpoint from a "
                            "cloud load balancer", "remove controlPlane.endpoint", key=True)
        if cp.endpoint_provider != "kube-vip" and "endpointProvider" in _given(c, ("controlPlane",)):
            yield c.problem(("controlPlane", "endpointProvider"), "endpoint-not-allowed",
                            "endpointProvider applies to vSphere clusters only")
        return
    if cp.endpoint is None and cp.endpoint_provider == "kube-vip":
        yield c.problem(("controlPlane",), "endpoint-required",
                        "a vSphere cluster with kube-vip needs controlPlane.endpoint",
                        "set a free static IP (or a DNS name) for the API server, or use "
                        "endpointProvider: nsx-alb", key=True)
    if cp.endpoint is not None and spec.vsphere is not None and same_host(cp.endpoint,
                                                                          spec.vsphere.server):
        # tanzu-framework-release-0.29 tkg/client/validate.go:815-826: equal as text, or as
        # addresses (net.IP.Equal), so fd00:50:0::5 is fd00:50::5.
        yield c.problem(path, "endpoint-is-vcenter",
                        "the control-plane endpoint must not be the vCenter server "
                        f"({spec.vsphere.server})")
    address = parse_ip(cp.endpoint) if cp.endpoint else None
    if address is not None and family_of(address) not in spec.network.families:
        yield c.problem(path, "family-mismatch",
                        f"endpoint {cp.endpoint} is {family_of(address)}, the cluster is "
                        f"{spec.network.ip_family}")
    if spec.network.ip_family == "ipv6" and cp.endpoint is not None and address is None:
        yield c.problem(path, "ipv6-endpoint", "an IPv6 cluster needs a static IPv6 endpoint address",
                        "TKG does not resolve a DNS name for IPv6-only endpoints")


def same_host(first: str, second: str) -> bool:
    """Two endpoints name one host: equal addresses (``fd00:50:0::5`` is ``fd00:50::5``), or
    equal DNS names (case and a final dot aside)."""
    a, b = (_unmapped(parse_ip(text)) for text in (first, second))
    if a is not None or b is not None:
        return a == b
    return first.lower().rstrip(".") == second.lower().rstrip(".")


def _unmapped(address: IPAddress | None) -> IPAddress | None:
    """``::ffff:10.0.0.5`` as ``10.0.0.5``, as Go's net.IP.Equal compares them."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def cluster_cidrs(c: Cluster) -> Iterator[Problem]:
    net = c.spec.network
    families = net.families
    for key, cidrs in (("pods", net.pod_cidrs), ("services", net.service_cidrs)):
        path: Path_ = ("network", key)
        found = [cidr_family(x) for x in cidrs]
        if len(families) == 2 and found != families:
            yield c.problem(path, "family-mismatch",
                            f"ipFamily {net.ip_family} needs exactly two {key} CIDRs, "
                            f"{families[0]} first, then {families[1]}")
        elif len(families) == 1 and set(found) != set(families):
            yield c.problem(path, "family-mismatch",
                            f"with ipFamily {net.ip_family} every {key} CIDR must be "
                            f"{families[0]}")
        elif len(cidrs) > 2:
            yield c.problem(path, "too-many-cidrs", f"at most two {key} CIDRs are allowed")
    for index, network in enumerate(networks(net.service_cidrs)):
        host_bits = network.max_prefixlen - network.prefixlen
        if host_bits > MAX_SERVICE_HOST_BITS:
            smallest = network.max_prefixlen - MAX_SERVICE_HOST_BITS
            yield c.problem(("network", "services", index), "service-cidr-too-large",
                            f"service CIDR {network} has {host_bits} host bits; at most "
                            f"{MAX_SERVICE_HOST_BITS} are allowed",
                            f"use a /{smallest} or longer prefix")


def ip_family_support(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    family = spec.network.ip_family
    if family == "ipv4":
        return
    path = ("network", "ipFamily")
    what = "dual-stack" if spec.network.dual_stack else "IPv6"
    if spec.infrastructure != "vsphere":
        yield c.problem(path, "family-unsupported", f"{what} clusters are supported on vSphere only")
    if spec.os.name != "ubuntu":
        yield c.problem(path, "family-unsupported", f"{what} clusters need Ubuntu nodes, not "
                        f"{spec.os.name}")
    if spec.control_plane.endpoint_provider == "nsx-alb":
        yield c.problem(path, "family-unsupported", f"{what} clusters cannot use NSX ALB",
                        "use endpointProvider: kube-vip")
    if spec.windows_workers:
        yield c.problem(path, "family-unsupported", f"{what} clusters cannot have Windows workers")


def node_ipam(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    if spec.network.nodes.ip_pool is None:
        return
    path = ("network", "nodes", "ipPool")
    if spec.infrastructure != "vsphere":
        yield c.problem(path, "ipam-unsupported", "node IPAM is available on vSphere only")
    if spec.network.dual_stack:
        yield c.problem(path, "ipam-unsupported", "node IPAM cannot be combined with dual-stack")
    if spec.windows_workers:
        yield c.problem(path, "ipam-unsupported", "node IPAM does not support Windows workers")
    for role in ("controlPlane", "worker"):
        if not getattr(spec.network.nameservers, "control_plane" if role == "controlPlane"
                       else "worker"):
            yield c.problem(path, "nameservers-required",
                            f"with node IPAM DHCP is off, so {role} nodes need nameservers",
                            f"set network.nameservers.{role}", key=True)


def nameserver_family(c: Cluster) -> Iterator[Problem]:
    net = c.spec.network
    for role, servers in (("controlPlane", net.nameservers.control_plane),
                          ("worker", net.nameservers.worker)):
        for index, server in enumerate(servers):
            address = parse_ip(server)
            path = ("network", "nameservers", role, index)
            if address is None:
                yield c.problem(path, "invalid-value",
                                f"nameserver '{server}' is not an IP address{zone_note(server)}")
            elif family_of(address) not in net.families:
                yield c.problem(path, "family-mismatch",
                                f"nameserver {server} is {family_of(address)}, the cluster is "
                                f"{net.ip_family}")


def machine_fields(c: Cluster) -> Iterator[Problem]:
    infra = c.spec.infrastructure
    allowed = MACHINE_FIELDS[infra]
    machines: list[tuple[Path_, Machine | None]] = [(("controlPlane", "machine"),
                                                     c.spec.control_plane.machine)]
    machines += [(("workers", i, "machine"), md.machine) for i, md in enumerate(c.spec.workers or [])]
    for path, machine in machines:
        for key in sorted(machine.model_dump(by_alias=True, exclude_none=True) if machine else {}):
            if key not in allowed:
                yield c.problem((*path, key), "wrong-infrastructure",
                                f"'{key}' is not a machine setting on {INFRA_NAMES[infra]}",
                                f"{INFRA_NAMES[infra]} machines take: {', '.join(allowed)}",
                                key=True)


def plan_sizes(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    if spec.plan == "prod" and spec.worker_replicas < 3:
        yield c.problem(("workers",) if spec.workers is not None else ("plan",), "prod-workers",
                        f"the prod plan needs at least 3 workers, this cluster has "
                        f"{spec.worker_replicas}")
    names = [md.name for md in spec.machine_deployments]
    for index, name in enumerate(names):
        if name in names[:index]:
            yield c.problem(("workers", index, "name"), "duplicate-name",
                            f"machine deployment '{name}' is listed twice")
    # AWS prod with fewer than three subnets: tanzu fills them in for a new VPC
    # (AWS.tanzu_subnets); an existing VPC needs three subnet IDs (parity_rules.aws_existing_vpc).


def aws_cidrs(c: Cluster) -> Iterator[Problem]:
    aws = c.spec.aws
    if aws is None:
        return
    vpc = ipaddress.ip_network(aws.vpc_cidr) if aws.vpc_cidr else None
    seen: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = []
    # Every subnet tanzu builds, the prod defaults too (reported at aws.subnets: not written).
    for index in range(len(aws.tanzu_subnets(c.spec.plan))):
        for side in ("private", "public"):
            text = aws.subnet_cidr(index, side)
            if text is None:
                continue
            cidr = ipaddress.ip_network(text)
            path: Path_ = (("aws", "subnets", index, side, "cidr") if index < len(aws.subnets)
                           else ("aws", "subnets"))
            if vpc is not None and not cidr.subnet_of(vpc):  # type: ignore[arg-type]
                yield c.problem(path, "subnet-outside-vpc",
                                f"{side} node CIDR {cidr} is not inside the VPC CIDR {vpc}")
            for other, other_label in seen:
                if cidr.overlaps(other):
                    yield c.problem(path, "subnet-overlap", f"{side} node CIDR {cidr} overlaps "
                                    f"{other} ({other_label})")
            seen.append((cidr, path_text(path[:-1]) if index < len(aws.subnets) else
                         f"the default of aws.subnets[{index}].{side}"))


def azure_cidrs(c: Cluster) -> Iterator[Problem]:
    azure = c.spec.azure
    if azure is None:
        return
    vnet = networks(azure.vnet.cidr_blocks)
    subnets = (("controlPlaneSubnet", azure.control_plane_subnet, "controlPlane"),
               ("workerSubnet", azure.worker_subnet, "worker"))
    cidrs: list[str | None] = []
    for key, subnet, role in subnets:
        # Neither a CIDR nor a name: a new subnet of tanzu's default CIDR, as tanzu builds it.
        cidr = subnet.cidr or (AZURE_DEFAULT_SUBNETS[role] if subnet.name is None else None)
        cidrs.append(cidr)
        where = ("azure", key, "cidr") if subnet.cidr else ("azure", key)
        if cidr and not any(ipaddress.ip_network(cidr).subnet_of(v)  # type: ignore[arg-type]
                            for v in vnet if v.version == 4):
            yield c.problem(where, "subnet-outside-vnet",
                            f"subnet {cidr} is not inside the VNet ({', '.join(map(str, vnet))})"
                            + ("" if subnet.cidr else " (tanzu's default CIDR for this subnet)"))
    cp, worker = cidrs
    if cp and worker and ipaddress.ip_network(cp).overlaps(ipaddress.ip_network(worker)):
        yield c.problem(("azure", "workerSubnet", "cidr"), "subnet-overlap",
                        f"worker subnet {worker} overlaps control-plane subnet {cp}")


def feature_flags(c: Cluster) -> Iterator[Problem]:
    family = c.spec.network.ip_family
    for plugin, flag in conflicts(c.spec.features, workload_flags(c.spec)):
        if flag == CUSTOM_NAMESERVERS_FLAG:  # tanzu-framework-release-0.29 tkg/client/validate.go:2115
            yield c.problem(("features", plugin, flag), "flag-conflict",
                            f"node nameservers (network.nameservers) need {plugin}.{flag} \"true\"",
                            "remove the flag: fleetgen sets it for clusters with node nameservers")
            continue
        yield c.problem(("features", plugin, flag), "flag-conflict",
                        f"ipFamily {family} needs {plugin}.{flag} \"true\"",
                        "remove the flag: fleetgen sets it for dual-stack clusters")


def dhcp_reservations(c: Cluster) -> Iterator[Problem]:
    nodes = c.spec.network.nodes
    if not nodes.dhcp_reservations:
        return
    base: Path_ = ("network", "nodes", "dhcpReservations")
    if nodes.ip_pool is not None:
        yield c.problem(base, "reservation-with-ipam",
                        "DHCP reservations apply to DHCP clusters; this cluster uses node IPAM",
                        "remove the reservations or the ipPool", key=True)
        return
    network = c.spec.node_networks.get(nodes.node_network or "")
    if network is None or network.cidr is None:
        yield c.problem(base, "reservation-network",
                        "DHCP reservations need network.nodes.nodeNetwork naming a nodeNetworks "
                        "entry with a cidr", "declare nodeNetworks.<name>.cidr and reference it",
                        key=True)
        return
    subnet = ipaddress.ip_network(network.cidr)
    seen: dict[str, dict[str, int]] = {"node": {}, "mac": {}}
    for index, r in enumerate(nodes.dhcp_reservations):
        address = ipaddress.ip_address(r.ip)
        if address.version != subnet.version or address not in subnet:
            yield c.problem((*base, index, "ip"), "reservation-outside-network",
                            f"reservation {r.ip} for node '{r.node}' is outside node network "
                            f"'{nodes.node_network}' ({subnet})")
        for key in ("node", "mac"):
            value = getattr(r, key)
            first = seen[key].setdefault(value, index)
            if first != index:
                yield c.problem((*base, index, key), "duplicate-reservation",
                                f"{key} {value} is already reserved by entry {first}")


def node_network_refs(c: Cluster) -> Iterator[Problem]:
    known = sorted(c.spec.node_networks)
    refs: list[tuple[Path_, str | None]] = [(("network", "nodes", "nodeNetwork"),
                                             c.spec.network.nodes.node_network)]
    refs += [(("ipPools", name, "nodeNetwork"), pool.node_network)
             for name, pool in c.spec.ip_pools.items()]
    for path, name in refs:
        if name is not None and name not in known:
            match = difflib.get_close_matches(name, known, n=1)
            yield c.problem(path, "unknown-node-network", f"no node network '{name}' is declared",
                            f"did you mean '{match[0]}'?" if match else
                            "declare it under 'nodeNetworks:'")


def load_balancer_vip(c: Cluster) -> Iterator[Problem]:
    cp = c.spec.control_plane
    if cp.vip is None:
        return
    path = ("controlPlane", "vip")
    if cp.endpoint_provider != "nsx-alb" or cp.endpoint is None or c.spec.endpoint_is_ip:
        yield c.problem(path, "vip-not-applicable",
                        "a recorded VIP is for NSX ALB clusters with an FQDN endpoint",
                        "remove it: the endpoint address itself is the VIP", key=True)
    address = parse_ip(cp.vip)
    if address is not None and family_of(address) not in c.spec.network.families:
        yield c.problem(path, "family-mismatch", f"VIP {cp.vip} is {family_of(address)}, the "
                        f"cluster is {c.spec.network.ip_family}")


# What a YAML 1.1 reader takes as a line break besides LF and CR (which every writer escapes):
# inside a quoted scalar it is folded into a space, so `"az\u0085b"` would read back as `az b`.
YAML11_BREAKS = re.compile("[\x85\u2028\u2029]")


def yaml11_line_breaks(c: Cluster) -> Iterator[Problem]:
    """No inventory key or value holds U+0085, U+2028 or U+2029 (see ``YAML11_BREAKS``)."""
    def walk(node: object, path: Path_) -> Iterator[Problem]:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            for text, is_key in ((key, True), (value, False)):
                bad = YAML11_BREAKS.search(text) if isinstance(text, str) else None
                if bad is not None:
                    yield c.problem((*path, key), "invalid-value",
                                    f"{path_text((*path, key))} holds the character "
                                    f"U+{ord(bad.group()):04X}, which YAML 1.1 readers take as a "
                                    "line break", "remove it (or write the text on one line)",
                                    key=is_key)
            yield from walk(value, (*path, key))

    yield from walk(c.inventory.data, ())


CLUSTER_RULES: tuple[Rule, ...] = (
    infrastructure_block, control_plane_endpoint, cluster_cidrs, ip_family_support, node_ipam,
    nameserver_family, machine_fields, plan_sizes, aws_cidrs, azure_cidrs, feature_flags,
    dhcp_reservations, node_network_refs, load_balancer_vip, yaml11_line_breaks,
    *TKG_RULES,  # workers and node sizes (issue 15, helper A)
    *PARITY_RULES,  # the tanzu CLI's other checks (issue 15, helper D)
    *CATALOG_RULES,  # the TKG option keys (issue 15, helper B)
    *GITOPS_RULES,  # deletionPolicy: delete only in a cluster's own file (issue 18)
)


def _given(c: Cluster, path: Path_) -> dict[str, object]:
    node: object = c.inventory.data
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}
