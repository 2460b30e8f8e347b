"""tanzu CLI feature flags: derived from what the fleet is, merged with what people set.

``tanzu config set features.<plugin>.<flag> <value>`` stores strings. A dual-stack workload
cluster needs ``features.cluster.dual-stack-ipv4-primary: "true"`` (``…ipv6-primary`` for
``ipv6,ipv4``) on the machine that creates it; a dual-stack management cluster the
``management-cluster`` variant. Flags set in the inventory are merged in; a value that
contradicts a derived flag, or another cluster's value on the same management cluster, is an
error.

A workload cluster with node nameservers (``network.nameservers``) also needs
``features.cluster.custom-nameservers: "true"``: the tanzu CLI refuses CONTROL_PLANE_NODE_NAMESERVERS
and WORKER_NODE_NAMESERVERS without it (tanzu-framework-release-0.29 tkg/client/validate.go:2091-2117,
called for workload clusters at tkg/client/cluster.go:733; the flag defaults to false in
cmd/cli/plugin/cluster/featureflags.go:15). TKG 2.4 differs: its docs (the seed's node IPAM steps,
domain.md §6) set the nameservers with no flag, so 2.4 no longer asks for it; the flag is derived
anyway, since a CLI that does not check it ignores it and a 2.2-era CLI needs it.

>>> derived_flags("cluster", "ipv6,ipv4")
{'cluster': {'dual-stack-ipv6-primary': 'true'}}
>>> nameserver_flags("cluster", True)
{'cluster': {'custom-nameservers': 'true'}}
"""

from __future__ import annotations

import shlex
from typing import Iterable, Mapping

from generator.load.model import ClusterSpec

Flags = dict[str, dict[str, str]]

DUAL_STACK_FLAG = {"ipv4,ipv6": "dual-stack-ipv4-primary", "ipv6,ipv4": "dual-stack-ipv6-primary"}


CUSTOM_NAMESERVERS_FLAG = "custom-nameservers"


def derived_flags(plugin: str, ip_family: str) -> Flags:
    flag = DUAL_STACK_FLAG.get(ip_family)
    return {plugin: {flag: "true"}} if flag else {}


def nameserver_flags(plugin: str, nameservers: bool) -> Flags:
    """The flag custom node nameservers need (validate.go:2113-2117, see the module doc)."""
    return {plugin: {CUSTOM_NAMESERVERS_FLAG: "true"}} if nameservers else {}


def workload_flags(spec: ClusterSpec) -> Flags:
    """Every flag fleetgen derives for a workload cluster: its IP family's, and the nameserver
    flag when it sets node nameservers."""
    servers = spec.network.nameservers
    return merge([derived_flags("cluster", spec.network.ip_family),
                  nameserver_flags("cluster", bool(servers.control_plane or servers.worker))])


def conflicts(given: Mapping[str, Mapping[str, str]], required: Flags) -> list[tuple[str, str]]:
    """(plugin, flag) pairs that ``given`` sets to another value than ``required`` needs."""
    return sorted((plugin, flag) for plugin, flags in required.items()
                  for flag, value in flags.items()
                  if given.get(plugin, {}).get(flag, value) != value)


def merge(layers: Iterable[Mapping[str, Mapping[str, str]]]) -> Flags:
    """Later layers win; the result is sorted, with empty plugins dropped."""
    out: Flags = {}
    for layer in layers:
        for plugin, flags in layer.items():
            out.setdefault(plugin, {}).update(flags)
    return {plugin: dict(sorted(flags.items())) for plugin, flags in sorted(out.items()) if flags}


def cluster_flags(spec: ClusterSpec) -> Flags:
    """The flags a workload cluster needs: those set in the inventory plus the derived ones."""
    return merge([spec.features, workload_flags(spec)])


def set_commands(flags: Flags) -> list[str]:
    """The equivalent ``tanzu config set`` lines (every word shell-quoted: names are validated,
    but a script is no place to trust that)."""
    return [f"tanzu config set {shlex.quote(f'features.{plugin}.{flag}')} {shlex.quote(value)}"
            for plugin, values in flags.items() for flag, value in values.items()]
