"""The fields of rendered objects that fleetgen writes from inventory keys the network checks
check (``changed_fields``), which overlays therefore may not change.

The network rules (pool overlap and capacity, addresses against CIDRs and gateways, endpoint
uniqueness, address families) run on the inventory. Rather than run them a second time on the
objects an overlay produced, the fields they are about stay the inventory's: one source of
truth, and a refusal that names the key to change. The fields:

* a node pool (``InClusterIPPool``, ``GlobalInClusterIPPool``): all of ``spec`` (its addresses,
  prefix, gateway, excluded addresses, and any field an overlay would add there, such as
  ``allocateReservedIPAddresses``, which changes what the pool hands out) — ``ipPools.<name>``;
* a ``Cluster``: ``spec.clusterNetwork`` (pods, services, and the rest) — ``network.pods``,
  ``network.services``; ``spec.controlPlaneEndpoint``, the ``apiServerEndpoint`` topology
  variable and the ``tkg.tanzu.vmware.com/cluster-controlplane-endpoint`` annotation —
  ``controlPlane.endpoint``; ``aviAPIServerHAProvider`` — ``controlPlane.endpointProvider``; the
  ``network`` variable (IP family and node pool on vSphere, VPC and subnets on AWS, VNet on
  Azure).

A field is compared whole, before and after the overlays; a topology variable is every list item
of that name (so a second ``apiServerEndpoint`` item counts as a change).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

from generator.check.fleet import Cluster, PoolUse
from generator.problems import Location, path_text


@dataclass(frozen=True)
class Named:
    """A step into a list: the items whose ``name`` is ``name`` (topology variables)."""

    name: str


Step = str | Named
Field = tuple[Step, ...]

_MISSING = object()
_VARIABLES: Field = ("spec", "topology", "variables")
_ENDPOINT = ("controlPlane", "endpoint")
_NETWORK_VARIABLE = {"vsphere": ("network.ipFamily and network.nodes.ipPool", ("network",)),
                     "aws": ("aws.vpc and aws.subnets", ("aws",)),
                     "azure": ("azure.vnet", ("azure",))}
# (the field, the inventory key as messages name it, the key's path in the inventory); most
# specific first: a field inside one already reported is not reported again.
_CLUSTER: list[tuple[Field, str, tuple[str, ...]]] = [
    (("spec", "clusterNetwork", "pods"), "network.pods", ("network", "pods")),
    (("spec", "clusterNetwork", "services"), "network.services", ("network", "services")),
    (("spec", "clusterNetwork"), "network", ("network",)),
    (("spec", "controlPlaneEndpoint"), "controlPlane.endpoint", _ENDPOINT),
    (("metadata", "annotations", "tkg.tanzu.vmware.com/cluster-controlplane-endpoint"),
     "controlPlane.endpoint", _ENDPOINT),
    ((*_VARIABLES, Named("apiServerEndpoint")), "controlPlane.endpoint", _ENDPOINT),
    ((*_VARIABLES, Named("aviAPIServerHAProvider")), "controlPlane.endpointProvider",
     ("controlPlane", "endpointProvider")),
]
POOL_KINDS = ("InClusterIPPool", "GlobalInClusterIPPool")


def value_at(obj: Any, field: Field) -> Any:
    """The value of ``field`` in ``obj`` (a tuple of the matching items for a Named step), or a
    marker when it is absent."""
    node = obj
    for step in field:
        if isinstance(step, Named):
            if not isinstance(node, list):
                return _MISSING
            items = tuple(i for i in node if isinstance(i, dict) and i.get("name") == step.name)
            node = items or _MISSING
            if node is _MISSING:
                return node
            node = items if len(items) > 1 else items[0]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return _MISSING
    return node


def _api_group(obj: dict[str, Any]) -> str:
    return str(obj.get("apiVersion") or "").rpartition("/")[0]


Where = Callable[[], Location]  # found only for a problem: positions are not free


def _rules(obj: dict[str, Any], before: Any, source: object
           ) -> Iterator[tuple[Field, str, Where]]:
    """The checked fields of ``obj`` (rendered from ``source``): the field, the inventory key
    and where the inventory writes that key."""
    kind, group = obj.get("kind"), _api_group(obj)
    if group == "ipam.cluster.x-k8s.io" and kind in POOL_KINDS and isinstance(source, PoolUse):
        names = [k for spec in (value_at(before, ("spec",)), value_at(obj, ("spec",)))
                 if isinstance(spec, dict) for k in spec]
        for name in dict.fromkeys(names):
            yield (("spec", name), path_text((*source.path, name)),
                   partial(source.locate, name, key=True))
        yield ("spec",), path_text(source.path), partial(source.locate, key=True)
    elif group == "cluster.x-k8s.io" and kind == "Cluster" and isinstance(source, Cluster):
        inventory = source.inventory
        for field, key, path in _CLUSTER:
            yield field, key, partial(inventory.locate, path, key=True)
        shown, path = _NETWORK_VARIABLE.get(source.spec.infrastructure, ("network", ("network",)))
        yield ((*_VARIABLES, Named("network")), shown,
               partial(inventory.locate, path, key=True))


def changed_fields(after: dict[str, Any], before: Any, source: object
                   ) -> Iterator[tuple[Field, str, Location]]:
    """The checked fields whose values differ between ``before`` and ``after`` (the object
    before and after its overlays): each field, its inventory key and that key's location."""
    reported: list[Field] = []
    for field, key, where in _rules(after, before, source):
        if any(done[:len(field)] == field for done in reported):
            continue  # a field inside this one was reported already
        if value_at(after, field) != value_at(before, field):
            reported.append(field)
            yield field, key, where()
