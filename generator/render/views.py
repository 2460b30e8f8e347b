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
from generator.load.infra import AWS, AZURE_DEFAULT_SUBNETS, Azure
from generator.load.model import DEFAULT_MACHINE, ClusterSpec, IPPool, Machine, MachineDeployment
from generator.render.catalog import catalog_view
from generator.render.gitops import cluster_annotations, gitops_view, pool_annotations
from generator.render.addons import Companion, addons_view, companion_view
from generator.render.credentials import CredentialsFile, credentials_view
from generator.load.sizes import resolve
from generator.load.flat_workers import flat_output, rendered_workers

# what one template renders (Companion, CredentialsFile: issue 15, helper C)
Source = Cluster | PoolUse | Management | GitOpsTarget | Companion | CredentialsFile

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
        "annotations": cluster_annotations(cluster, _annotations(spec)),  # issue 18, helper G
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
        "flat_workers": _flat_workers(spec),  # issue 15, helper A
        "network": {
            "ip_family": spec.network.ip_family,
            "ipv6_primary": spec.network.ip_family == "ipv6,ipv4",
            "dual_stack": spec.network.dual_stack,
            "family_stated": spec.network.family_stated,
            "pods": spec.network.pod_cidrs,
            "services": spec.network.service_cidrs,
            "pool": _pool_ref(spec),
            "nameservers": spec.network.nameservers.model_dump(by_alias=True),
            "search_domains": spec.network.search_domains.model_dump(by_alias=True),
        },
        "vsphere": spec.vsphere.model_dump(by_alias=True) if spec.vsphere else None,
        "aws": _aws(spec.aws, spec.plan) if spec.aws else None,
        "azure": _azure(spec.azure) if spec.azure else None,
        "features": cluster_flags(spec),
        "dhcp": _dhcp(spec),
        "dns_record": dns_record(spec),
        **_catalog(spec),
        # issue 15, helper C: addons.yaml objects and flat lines, the credentials source
        "addons": addons_view(cluster),
        "credentials": credentials_view(cluster),
    }


def _catalog(spec: ClusterSpec) -> dict[str, Any]:
    """What the TKG variable catalog adds: ``extra_variables``, topology variables appended after
    the class's own ({name, value} each), and ``flat_extra``, ``[KEY, value]`` lines appended to
    the flat config; ``variable_merges`` holds the fields the catalog adds to a variable the
    class template already writes (controlPlane.nodeLabels, AWS network.securityGroupOverrides).
    The table and its rules: ``generator.render.catalog``."""
    return catalog_view(spec)


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


def management_view(m: Management) -> dict[str, Any]:
    records = [r for c in m.clusters if (r := dns_record(c.spec)) is not None]
    return {"name": m.name, "flags": m.flags, "set_commands": set_commands(m.flags),
            "records": sorted(records, key=lambda r: (r["fqdn"], r["ip"]))}


def _annotations(spec: ClusterSpec) -> dict[str, str]:
    # osInfo: tanzu-framework-release-0.29 providers/yttcc/02_customizations/annotate_os_info.yaml:12.
    # With OS_* absent tanzu takes the OS of the TKr's default image (tkg/client/validate.go:232-234
    # sets OS_NAME/OS_VERSION/OS_ARCH from the image it picked); the model's default,
    # ubuntu 22.04 amd64, is that of the TKG 2.4 docs (../shared/docs/domain.md:85).
    os = spec.os
    notes = {"osInfo": f"{os.name},{os.version},{os.arch}", "tkg/plan": spec.plan}
    if spec.aws is not None:
        # Only the AWS Cluster carries it (providers/infrastructure-aws/v2.0.2/yttcc/
        # base-template.yaml:7-8); the vSphere and Azure base templates have no annotations.
        notes["run.tanzu.vmware.com/resolve-tkr"] = ""
    if spec.control_plane.endpoint:
        notes["tkg.tanzu.vmware.com/cluster-controlplane-endpoint"] = spec.control_plane.endpoint
    return {**notes, **spec.annotations}


def azure_os_version(version: str) -> str:
    """The Azure OSImage's os-version label: "1804" for 18.04, else "2004"
    (providers/infrastructure-azure/v1.6.3/yttcc/overlay.yaml:47-49, TKG 2.2; the 2.4 docs say
    nothing of it, so 22.04 also selects "2004" as that source does)."""
    return "1804" if version == "18.04" else "2004"


def _os_image_selector(spec: ClusterSpec, os_name: str | None = None) -> str:
    """The TKr resolver's OSImage label query (run.tanzu.vmware.com/resolve-os-image), written as
    each infrastructure's yttcc overlay writes it for the control plane and every machine
    deployment; ``os_name`` overrides the OS (Windows workers)."""
    os = spec.os
    name = os_name or os.name
    if spec.aws is not None:
        # providers/infrastructure-aws/v2.0.2/yttcc/overlay.yaml:57, 69, 79, 97
        return f"ami-region={spec.aws.region},os-name={name},os-arch={os.arch}"
    if spec.azure is not None:
        # providers/infrastructure-azure/v1.6.3/yttcc/overlay.yaml:90, 102, 112, 128
        return f"os-name={name},os-version={azure_os_version(os.version)}"
    # providers/infrastructure-vsphere/v1.5.3/yttcc/overlay.yaml:49, 65, 78, 89 (Windows: 108)
    return f"image-type=ova,os-name={name}"


def _machine(spec: ClusterSpec, role: str, machine: Machine | None) -> dict[str, Any]:
    """The effective machine of a role: class default < cluster ``machine`` < the role's own,
    each with its ``size`` expanded first (generator/load/sizes.py).

    The vSphere `worker` variable gets no `count`: TKG 2.2 wrote WORKER_MACHINE_COUNT there
    (tanzu-framework-release-0.29 providers/yttcc/lib/config_variable_association.star:959-961),
    but the 2.4 docs' `worker` is `{machine, network}` (../shared/docs/domain.md:113, 127) and the
    class schema has no `count` (providers/infrastructure-vsphere/v1.5.3/cconly/base.yaml:461-496):
    the 2.4 docs win."""
    return resolve(spec.infrastructure, role, spec.machine, machine)


def _machine_deployment(spec: ClusterSpec, md: MachineDeployment) -> dict[str, Any]:
    """One machine deployment (generator/load/flat_workers.py rendered_workers). ``machine`` is set
    (an override of the `worker` variable) only where its machine differs from md-0's, which the
    `worker` variable carries. Without a failure domain, AWS and Azure machine deployments get
    tanzu's (generator/load/topology.py tanzu_zone)."""
    rendered = rendered_workers(spec)
    index = next(i for i, m in enumerate(spec.machine_deployments) if m is md)
    this = rendered[index]
    windows = md.class_.endswith("windows")
    return {
        "name": md.name,
        "class": md.class_,
        "replicas": md.replicas,
        "failure_domain": this["failureDomain"],
        "labels": md.labels,
        "max_surge": md.max_surge,
        "machine": this["machine"] if this["machine"] != rendered[0]["machine"] else None,
        "class_default": DEFAULT_MACHINE[spec.infrastructure]["worker"],
        "os_image_selector": _os_image_selector(spec, "windows" if windows else None),
    }


def _flat_workers(spec: ClusterSpec) -> dict[str, Any]:
    """The worker lines of cluster-config.yaml, and what tanzu would build differently from
    cluster.yaml (a comment at the top of the file; the `flat-inexpressible` warning)."""
    out = flat_output(spec)
    return {"lines": [list(line) for line in out.lines],
            "differences": [" ".join(line.split()) for line in out.differences]}


def _pool_ref(spec: ClusterSpec) -> dict[str, str] | None:
    name = spec.pool_ref
    if name is None:
        return None
    pool = spec.pools_in_scope()[name]
    return {"apiGroup": POOL_API_GROUP, "kind": pool.kind, "name": name}


def _aws(aws: AWS, plan: str) -> dict[str, Any]:
    """The AWS variables as tanzu writes them (tanzu-framework-release-0.29
    providers/yttcc/lib/config_variable_association.star get_aws_vars, :517-703): `identityRef`
    always, `{}` when unset (:540-547); a subnet side only when it has a CIDR or an ID (:581-601, so
    an existing VPC with only private subnet IDs gets no `public`, since validate.go:1002-1009
    blanks the CIDRs); subnet 0's `az` always, "" when AWS_NODE_AZ is unset (:603-605), the
    others' only when set (:633, :663); a prod cluster in a new VPC has three subnets
    (``AWS.tanzu_subnets``).

    ``flat_lines`` are the AWS_NODE_AZ / subnet lines of cluster-config.yaml: only what the
    inventory states, since tanzu fills in the rest the same way (and the file imports back to
    the same inventory)."""
    subnets: list[dict[str, Any]] = []
    for index, subnet in enumerate(aws.tanzu_subnets(plan)):
        entry: dict[str, Any] = {}
        for side in ("private", "public"):
            ref = {key: value for key, value in (("cidr", aws.subnet_cidr(index, side)),
                                                 ("id", getattr(subnet, side).id)) if value}
            if ref:
                entry[side] = ref
        if index == 0 or subnet.az:
            entry["az"] = subnet.az
        subnets.append(entry)
    lines: list[list[str]] = []
    for index, subnet in enumerate(aws.subnets):
        suffix = "" if index == 0 else f"_{index}"
        if subnet.az:
            lines.append([f"AWS_NODE_AZ{suffix}", subnet.az])
        for side in ("private", "public"):
            ref = getattr(subnet, side)
            if ref.id:
                lines.append([f"AWS_{side.upper()}_SUBNET_ID{suffix}", ref.id])
            elif ref.cidr:
                lines.append([f"AWS_{side.upper()}_NODE_CIDR{suffix}", ref.cidr])
    vpc = {"existingID": aws.vpc.existing_id, "cidr": aws.vpc_cidr}
    identity = aws.identity_ref.model_dump(exclude_none=True) if aws.identity_ref else {}
    return {"region": aws.region, "ssh_key_name": aws.ssh_key_name,
            "identity_ref": identity, "bastion": aws.bastion,
            "vpc": vpc, "subnets": subnets, "flat_lines": lines}


def _azure(azure: Azure) -> dict[str, Any]:
    def subnet(s: Any) -> dict[str, str | None]:
        return s.model_dump(by_alias=True)  # type: ignore[no-any-return]

    vnet = azure.vnet.model_dump(by_alias=True)
    return {"location": azure.location, "subscription_id": azure.subscription_id,
            "resource_group": azure.resource_group, "ssh_public_key": azure.ssh_public_key,
            "environment": azure.environment,
            "identity_ref": azure.identity_ref.model_dump() if azure.identity_ref else None,
            "vnet": vnet, "control_plane_subnet": subnet(azure.control_plane_subnet),
            "worker_subnet": subnet(azure.worker_subnet),
            # The subnet variables: tanzu always writes the CIDR, its default beside an existing
            # subnet's name too (AZURE_*_SUBNET_CIDR default, providers/config_default.yaml;
            # config_variable_association.star get_azure_vars); Azure then uses the named subnet.
            "control_plane_subnet_variable": {**subnet(azure.control_plane_subnet), "cidr":
                                              azure.control_plane_subnet.cidr
                                              or AZURE_DEFAULT_SUBNETS["controlPlane"]},
            "worker_subnet_variable": {**subnet(azure.worker_subnet), "cidr":
                                       azure.worker_subnet.cidr or AZURE_DEFAULT_SUBNETS["worker"]}}



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
        # Rendered only when true (false is the provider's default, and a pre-v0.1.0 build has no
        # such field): the provider skips the subnet's network (and IPv4 broadcast) address unless
        # it is set (cluster-api-ipam-provider-in-cluster internal/poolutil/pool.go PoolSpecToIPSet,
        # v0.1.0 :123-130; ../shared/crds/ipam-in-cluster-v0.1.0 inclusterippools.yaml:179-185), and
        # `ipam plan` and the capacity checks count what the rendered pool hands out.
        "allocate_reserved_ip_addresses": spec.allocate_reserved_ip_addresses,
        "users": sorted(u.spec.name for u in pool.users),
        "annotations": pool_annotations(pool),  # issue 18, helper G: prune/delete protections
    }


def view_of(source: Source) -> dict[str, Any]:
    """The values a template rendering ``source`` sees, under its one-letter name."""
    if isinstance(source, Cluster):
        return {"c": cluster_view(source)}
    if isinstance(source, Management):
        return {"m": management_view(source)}
    if isinstance(source, GitOpsTarget):
        return {"g": gitops_view(source)}
    if isinstance(source, Companion):
        return {"a": companion_view(source)}
    if isinstance(source, CredentialsFile):  # copied, not templated: what names it is the key
        return {"f": {"path": source.path, "mode": source.mode}}
    return {"p": pool_view(source)}
