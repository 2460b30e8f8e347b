"""v1alpha1 → v1alpha2 node pools, exactly as the in-cluster provider converts them.

TKG ≤ 2.2 pools used ``start``/``end``/``subnet``/``prefix``/``gateway``. The provider's
conversion keeps ``gateway`` and ``prefix``; with a ``subnet``, a missing ``start`` becomes the
subnet's network address + 1, a missing ``end`` its last address − 1, and a missing (zero)
``prefix`` the subnet's length; then ``"<start>-<end>"`` is appended to ``addresses``.

>>> convert_spec({"subnet": "10.10.10.0/24", "gateway": "10.10.10.1"})
{'addresses': ['10.10.10.1-10.10.10.254'], 'prefix': 24, 'gateway': '10.10.10.1'}
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from generator.load.model import POOL_KINDS
from generator.problems import FleetError, Location, Problem
from generator.yaml.dump import dump
from generator.yaml.load import Positions, load_positioned_all

V1ALPHA1 = "ipam.cluster.x-k8s.io/v1alpha1"
V1ALPHA2 = "ipam.cluster.x-k8s.io/v1alpha2"


def convert_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The provider's Convert_v1alpha1_InClusterIPPoolSpec_To_v1alpha2_InClusterIPPoolSpec."""
    addresses = [str(a) for a in spec.get("addresses") or []]
    prefix = int(spec.get("prefix") or 0)
    first, last = str(spec.get("start") or ""), str(spec.get("end") or "")
    if spec.get("subnet"):
        try:
            subnet = ipaddress.ip_network(str(spec["subnet"]), strict=False)
        except ValueError:
            raise ValueError(f"subnet '{spec['subnet']}' is not a CIDR") from None
        first = first or str(subnet.network_address + 1)
        last = last or str(subnet.broadcast_address - 1)
        prefix = prefix or subnet.prefixlen
    if first and last:
        addresses.append(f"{first}-{last}")
    out: dict[str, Any] = {"addresses": addresses, "prefix": prefix}
    if spec.get("gateway"):
        out["gateway"] = str(spec["gateway"])
    return out


def is_old_pool(doc: Any) -> bool:
    return (isinstance(doc, dict) and doc.get("kind") in POOL_KINDS
            and doc.get("apiVersion") == V1ALPHA1)


def convert_object(doc: dict[str, Any]) -> dict[str, Any]:
    """A v1alpha1 pool object as v1alpha2; metadata is kept, status dropped."""
    return {"apiVersion": V1ALPHA2, "kind": doc["kind"], "metadata": doc.get("metadata") or {},
            "spec": convert_spec(doc.get("spec") or {})}


def migrate_file(path: Path, label: str) -> tuple[str, int]:
    """The file's documents with every v1alpha1 pool converted, and how many were converted."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(Location(label), "unreadable", str(exc))]) from None
    docs, problems, converted = [], [], 0
    for doc, positions in load_positioned_all(text, label):
        if is_old_pool(doc):
            try:
                doc = convert_object(doc)
                converted += 1
            except ValueError as exc:
                problems.append(Problem(_where(positions, ("spec", "subnet"), label),
                                        "pool-address", str(exc)))
        docs.append(doc)
    if problems:
        raise FleetError(problems)
    return "---\n".join(dump(d) for d in docs if d is not None), converted


def _where(positions: Positions, path: tuple[str, ...], label: str) -> Location:
    return positions.values.get(path, Location(label, 1, 1))


def inventory_pool(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An upstream pool object (v1alpha1 or v1alpha2) as an inventory ``ipPools`` entry."""
    if is_old_pool(doc):
        doc = convert_object(doc)
    if not (isinstance(doc, dict) and doc.get("kind") in POOL_KINDS
            and doc.get("apiVersion") == V1ALPHA2):
        raise ValueError("expected an InClusterIPPool or GlobalInClusterIPPool "
                         "(ipam.cluster.x-k8s.io/v1alpha1 or v1alpha2)")
    spec = doc.get("spec") or {}
    pool: dict[str, Any] = {"kind": doc["kind"], "addresses": list(spec.get("addresses") or []),
                            "prefix": spec.get("prefix")}
    for key in ("gateway", "excludedAddresses", "allocateReservedIPAddresses"):
        if spec.get(key):
            pool[key] = spec[key]
    return str((doc.get("metadata") or {}).get("name", "")), pool
