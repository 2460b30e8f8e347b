"""tanzu CLI feature flags: derived from what the fleet is, merged with what people set.

``tanzu config set features.<plugin>.<flag> <value>`` stores strings. A dual-stack workload
cluster needs ``features.cluster.dual-stack-ipv4-primary: "true"`` (``…ipv6-primary`` for
``ipv6,ipv4``) on the machine that creates it; a dual-stack management cluster the
``management-cluster`` variant. Flags set in the inventory are merged in; a value that
contradicts a derived flag, or another cluster's value on the same management cluster, is an
error.

>>> derived_flags("cluster", "ipv6,ipv4")
{'cluster': {'dual-stack-ipv6-primary': 'true'}}
"""

from __future__ import annotations

import shlex
from typing import Iterable, Mapping

from generator.load.model import ClusterSpec

Flags = dict[str, dict[str, str]]

DUAL_STACK_FLAG = {"ipv4,ipv6": "dual-stack-ipv4-primary", "ipv6,ipv4": "dual-stack-ipv6-primary"}


def derived_flags(plugin: str, ip_family: str) -> Flags:
    flag = DUAL_STACK_FLAG.get(ip_family)
    return {plugin: {flag: "true"}} if flag else {}


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
    return merge([spec.features, derived_flags("cluster", spec.network.ip_family)])


def set_commands(flags: Flags) -> list[str]:
    """The equivalent ``tanzu config set`` lines (every word shell-quoted: names are validated,
    but a script is no place to trust that)."""
    return [f"tanzu config set {shlex.quote(f'features.{plugin}.{flag}')} {shlex.quote(value)}"
            for plugin, values in flags.items() for flag, value in values.items()]
