"""What templates see: plain dicts with every default resolved.

Templates only lay values out; every decision (defaults, derived flags, which variables a
ClusterClass needs) is made here, in Python, where it is tested. The dicts hold only str, int,
bool, None, lists and dicts, so the sandboxed templates cannot reach anything else.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from generator.check.fleet import Cluster, GitOpsTarget, Management, PoolUse
from generator.check.flags import cluster_flags, set_commands
from generator.load.infra import AWS, Azure
from generator.load.model import DEFAULT_MACHINE, ClusterSpec, IPPool, Machine, MachineDeployment

Source = Cluster | PoolUse | Management | GitOpsTarget  # what one template renders

POOL_API_GROUP = "ipam.cluster.x-k8s.io"

def compact(value: Any) -> Any:
    """The ``compact`` filter: drop the None values of mappings, at any depth.

    >>> compact({"a": None, "b": [{"c": None, "d": 1}]})
    {'b': [{'d': 1}]}
    """
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def cluster_view(cluster: Cluster) -> dict[str, Any]:
    spec = cluster.spec
    return {
        "name": spec.name,
        "namespace": spec.namespace,
        "management_cluster": spec.management_cluster,
        "infrastructure": spec.infrastructure,
        "plan": spec.plan,
        "kubernetes_version": spec.kubernetes.version,
        "class": spec.cluster_class,
        "os": spec.os.model_dump(),
        "os_image_selector": _os_image_selector(spec),
        "labels": {**spec.labels, "tkg.tanzu.vmware.com/cluster-name": spec.name},
        "annotations": _annotations(spec),
        "cni": spec.cni,
        "control_plane": {
            "replicas": spec.control_plane_replicas,
            "endpoint": spec.control_plane.endpoint,
            "nsx_alb": spec.control_plane.endpoint_provider == "nsx-alb",
            "machine": _machine(spec, "controlPlane", spec.control_plane.machine),
        },
        "machine_deployments": [_machine_deployment(spec, md) for md in spec.machine_deployments],
        # The `worker` variable (and the flat config's single worker size) carry the first
        # machine deployment's machine; the others override it where they differ.
        "worker_machine": _machine(spec, "worker", spec.machine_deployments[0].machine),
        "worker_count": spec.worker_replicas,
        "network": {
            "ip_family": spec.network.ip_family,
            "ipv6_primary": spec.network.ip_family.startswith("ipv6"),
            "dual_stack": spec.network.dual_stack,
            "pods": spec.network.pod_cidrs,
            "services": spec.network.service_cidrs,
            "pool": _pool_ref(spec),
            "nameservers": spec.network.nameservers.model_dump(by_alias=True),
            "search_domains": spec.network.search_domains.model_dump(by_alias=True),
        },
        "vsphere": spec.vsphere.model_dump(by_alias=True) if spec.vsphere else None,
        "aws": _aws(spec.aws) if spec.aws else None,
        "azure": _azure(spec.azure) if spec.azure else None,
        "features": cluster_flags(spec),
        "dhcp": _dhcp(spec),
        "dns_record": dns_record(spec),
        **_catalog(spec),
    }


def _catalog(spec: ClusterSpec) -> dict[str, Any]:
    """What the TKG variable catalog adds: ``extra_variables``, topology variables appended after
    the class's own ({name, value} each), and ``flat_extra``, ``[KEY, value]`` lines appended to
    the flat config."""
    return {"extra_variables": [], "flat_extra": []}


DNS_TTL = 300


def dns_record(spec: ClusterSpec) -> dict[str, Any] | None:
    """The A/AAAA record of an NSX ALB FQDN endpoint whose VIP was recorded, else None."""
    cp = spec.control_plane
    if cp.vip is None or cp.endpoint is None or spec.endpoint_is_ip:
        return None
    version = ipaddress.ip_address(cp.vip).version
    return {"fqdn": cp.endpoint.rstrip("."), "ip": cp.vip, "type": "A" if version == 4 else "AAAA",
            "ttl": DNS_TTL, "cluster": spec.name, "namespace": spec.namespace}


def _dhcp(spec: ClusterSpec) -> dict[str, Any] | None:
    nodes = spec.network.nodes
    if not nodes.dhcp_reservations:
        return None
    network = spec.node_networks.get(nodes.node_network or "")
    reservations = [{"node": r.node, "mac": r.mac, "ip": r.ip,
                     "ipv6": ipaddress.ip_address(r.ip).version == 6}
                    for r in sorted(nodes.dhcp_reservations, key=lambda r: r.node)]
    kea = {"reservations": [
        {"hostname": r["node"], "hw-address": r["mac"],
         **({"ip-addresses": [r["ip"]]} if r["ipv6"] else {"ip-address": r["ip"]})}
        for r in reservations]}
    return {"network": nodes.node_network, "cidr": network.cidr if network else None,
            "reservations": reservations, "kea": kea}


def gitops_view(g: GitOpsTarget) -> dict[str, Any]:
    """One management cluster's Flux / Argo CD bootstrap: where its folder is in the repository."""
    settings = g.settings
    path = "/".join(part for part in (settings.path.strip("/"), "rendered", g.management_cluster)
                    if part)
    argocd = settings.argocd.model_dump() if settings.argocd else None
    if argocd is not None:
        argocd["destination"] = settings.argocd.destinations.get(  # type: ignore[union-attr]
            g.management_cluster, g.management_cluster)
    return {"management_cluster": g.management_cluster, "repository": settings.repository,
            "branch": settings.branch, "path": path,
            "flux": settings.flux.model_dump() if settings.flux else None, "argocd": argocd}


def management_view(m: Management) -> dict[str, Any]:
    records = [r for c in m.clusters if (r := dns_record(c.spec)) is not None]
    return {"name": m.name, "flags": m.flags, "set_commands": set_commands(m.flags),
            "records": sorted(records, key=lambda r: (r["fqdn"], r["ip"]))}


def _annotations(spec: ClusterSpec) -> dict[str, str]:
    os = spec.os
    notes = {"osInfo": f"{os.name},{os.version},{os.arch}", "tkg/plan": spec.plan}
    if spec.control_plane.endpoint:
        notes["tkg.tanzu.vmware.com/cluster-controlplane-endpoint"] = spec.control_plane.endpoint
    return {**notes, **spec.annotations}


def _os_image_selector(spec: ClusterSpec) -> str:
    """The TKr resolver's OSImage label query for this cluster's nodes."""
    if spec.aws is not None:
        return f"ami-region={spec.aws.region},os-name={spec.os.name}"
    if spec.azure is not None:
        return f"os-name={spec.os.name}"
    return f"image-type=ova,os-name={spec.os.name}"


def _machine(spec: ClusterSpec, role: str, machine: Machine | None) -> dict[str, Any]:
    given = machine.model_dump(by_alias=True, exclude_none=True) if machine else {}
    return {**DEFAULT_MACHINE[spec.infrastructure][role], **given}


def _machine_deployment(spec: ClusterSpec, md: MachineDeployment) -> dict[str, Any]:
    return {
        "name": md.name,
        "class": md.class_,
        "replicas": md.replicas,
        "failure_domain": md.failure_domain,
        "labels": md.labels,
        "max_surge": md.max_surge,
        "machine": _machine(spec, "worker", md.machine) if md.machine else None,
    }


def _pool_ref(spec: ClusterSpec) -> dict[str, str] | None:
    name = spec.pool_ref
    if name is None:
        return None
    pool = spec.pools_in_scope()[name]
    return {"apiGroup": POOL_API_GROUP, "kind": pool.kind, "name": name}


def _aws(aws: AWS) -> dict[str, Any]:
    subnets = [{"az": subnet.az, **{side: {"id": getattr(subnet, side).id,
                                            "cidr": aws.subnet_cidr(index, side)}
                                     for side in ("private", "public")}}
               for index, subnet in enumerate(aws.subnets)]
    vpc = {"existingID": aws.vpc.existing_id, "cidr": aws.vpc_cidr}
    return {"region": aws.region, "ssh_key_name": aws.ssh_key_name,
            "identity_ref": aws.identity_ref.model_dump(), "bastion": aws.bastion,
            "vpc": vpc, "subnets": subnets}


def _azure(azure: Azure) -> dict[str, Any]:
    def subnet(s: Any) -> dict[str, str | None]:
        return s.model_dump(by_alias=True)  # type: ignore[no-any-return]

    vnet = azure.vnet.model_dump(by_alias=True)
    return {"location": azure.location, "subscription_id": azure.subscription_id,
            "resource_group": azure.resource_group, "ssh_public_key": azure.ssh_public_key,
            "environment": azure.environment,
            "identity_ref": azure.identity_ref.model_dump() if azure.identity_ref else None,
            "vnet": vnet, "control_plane_subnet": subnet(azure.control_plane_subnet),
            "worker_subnet": subnet(azure.worker_subnet)}


def pool_view(pool: PoolUse) -> dict[str, Any]:
    spec: IPPool = pool.spec
    return {
        "name": pool.name,
        "kind": spec.kind,
        "namespace": pool.namespace,
        "addresses": spec.addresses,
        "prefix": spec.prefix,
        "gateway": spec.gateway,
        "excluded_addresses": spec.excluded_addresses,
        "users": sorted(u.spec.name for u in pool.users),
    }


def view_of(source: Source) -> dict[str, Any]:
    """The values a template rendering ``source`` sees, under its one-letter name."""
    if isinstance(source, Cluster):
        return {"c": cluster_view(source)}
    if isinstance(source, Management):
        return {"m": management_view(source)}
    if isinstance(source, GitOpsTarget):
        return {"g": gitops_view(source)}
    return {"p": pool_view(source)}
