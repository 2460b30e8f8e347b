"""``--pool``: the node IP pool object a flat config names, as ``ipPools.<name>`` of the
inventory, each value located in the pool file."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.ipam.migrate import inventory_pool
from generator.load.inventory import Origin
from generator.load.model import POOL_KINDS, IPPool
from generator.net.addresses import AddressSet
from generator.problems import FleetError, Location
from generator.tkg.job import Job, chain_value, get_at, put_at
from generator.tkg.variables import POOL_KIND
from generator.yaml.load import Path_, load_positioned_all

def pool_meaning(entry: Any) -> tuple[Any, ...] | None:
    """What a pool declaration means: its kind (InClusterIPPool when unsaid), address and
    excluded sets (generator/net: ranges, CIDRs and single IPs alike), prefix, gateway and
    whether reserved addresses are handed out; None when it is not a valid pool."""
    try:
        pool = IPPool.model_validate(entry)
        addresses = AddressSet.parse(pool.addresses)
        excluded = AddressSet.parse(pool.excluded_addresses or [])
        gateway = ipaddress.ip_address(pool.gateway) if pool.gateway else None
    except (ValidationError, ValueError):
        return None
    return (pool.kind, addresses, excluded, pool.prefix, gateway,
            pool.allocate_reserved_ip_addresses)


def same_pool(a: Any, b: Any) -> bool:
    """Two declarations of one pool mean the same (``node_network``, fleetgen's own, is compared
    only when both say it)."""
    meaning = pool_meaning(a)
    if meaning is None or meaning != pool_meaning(b):
        return bool(a == b)
    networks = [x.get("nodeNetwork") for x in (a, b) if isinstance(x, dict)]
    return None in networks or networks[0] == networks[1]


def import_pool(job: Job, pool: Path) -> None:
    """The upstream pool object → ``ipPools.<name>``; it must be the pool the flat config names."""
    label = str(pool)
    try:
        text = pool.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        job.error(Location(label), "unreadable", f"cannot read {label}: {exc}")
        return
    try:
        docs = load_positioned_all(text, label)
    except FleetError as exc:
        job.problems.extend(exc.problems)
        return
    pools = [(doc, pos) for doc, pos in docs if isinstance(doc, dict) and doc.get("kind") in POOL_KINDS]
    if not pools:
        job.error(Location(label, 1, 1), "invalid-value",
                  f"{label} holds no InClusterIPPool or GlobalInClusterIPPool")
        return
    flat = job.flat
    wanted = job.text("NODE_IPAM_IP_POOL_NAME") if job.given("NODE_IPAM_IP_POOL_NAME") else None
    if wanted is None:
        job.error(pools[0][1].values.get(("metadata", "name"), Location(label, 1, 1)),
                  "pool-mismatch", f"--pool was given, but {flat.label} sets no "
                  "NODE_IPAM_IP_POOL_NAME", "add NODE_IPAM_IP_POOL_NAME, or import without --pool")
        return
    chosen = [(d, p) for d, p in pools if str((d.get("metadata") or {}).get("name")) == wanted]
    if not chosen:
        doc, pos = pools[0]
        found = (doc.get("metadata") or {}).get("name")
        job.error(flat.value_at("NODE_IPAM_IP_POOL_NAME"), "pool-mismatch",
                  f"NODE_IPAM_IP_POOL_NAME is '{wanted}', but {label} declares {doc['kind']} "
                  f"'{found}' ({pos.values.get(('metadata', 'name'), Location(label))})",
                  "pass the pool this cluster uses, or correct NODE_IPAM_IP_POOL_NAME")
        return
    doc, pos = chosen[0]
    kind = job.text(POOL_KIND) if job.given(POOL_KIND) else "InClusterIPPool"
    if doc["kind"] != kind:
        job.error(flat.value_at(POOL_KIND if job.given(POOL_KIND) else "NODE_IPAM_IP_POOL_NAME"),
                  "pool-mismatch", f"NODE_IPAM_IP_POOL_KIND is {kind}, but pool '{wanted}' in "
                  f"{label} is a {doc['kind']}", f"set NODE_IPAM_IP_POOL_KIND: {doc['kind']}")
        return
    namespace = (doc.get("metadata") or {}).get("namespace")
    cluster_ns = get_at(job.merged().data, ("namespace",)) or "default"
    if doc["kind"] == "InClusterIPPool" and namespace and namespace != cluster_ns:
        job.error(pos.values.get(("metadata", "namespace"), Location(label, 1, 1)),
                  "pool-namespace", f"InClusterIPPool '{wanted}' is in namespace '{namespace}', "
                  f"the cluster in '{cluster_ns}'",
                  "an InClusterIPPool serves its own namespace only; use a "
                  "GlobalInClusterIPPool to share it")
        return
    try:
        name, entry = inventory_pool(doc)
    except ValueError as exc:
        job.error(pos.values.get(("apiVersion",), Location(label, 1, 1)), "invalid-value",
                  str(exc))
        return
    inherited = chain_value(job, ("ipPools", name))
    if inherited is not None and not same_pool(inherited, entry):
        job.error(pos.values.get(("metadata", "name"), Location(label, 1, 1)), "pool-conflict",
                  f"pool '{name}' in {label} differs from the one a _defaults.yaml above "
                  f"{job.target_rel} declares", "import without --pool to use the declared pool")
        return
    if inherited is not None:  # the same pool: the declaration in scope is reused
        job.used.add("NODE_IPAM_IP_POOL_NAME")
        return
    path: Path_ = ("ipPools", name)
    put_at(job.data, path, entry)
    where = pos.keys.get(("metadata", "name"), Location(label, 1, 1))
    job.origins[("ipPools",)] = job.origins[path] = Origin(where, where)
    spec_keys = {"kind": ("kind",), "addresses": ("spec", "addresses"), "prefix": ("spec", "prefix"),
                 "gateway": ("spec", "gateway"), "excludedAddresses": ("spec", "excludedAddresses"),
                 "allocateReservedIPAddresses": ("spec", "allocateReservedIPAddresses")}
    # v1alpha1 pools have no addresses/prefix: point at start/end/subnet, which made them.
    fallbacks = {"addresses": (("spec", "start"), ("spec", "subnet")),
                 "prefix": (("spec", "subnet"),)}
    for key in entry:
        candidates = [spec_keys[key], *fallbacks.get(key, ())]
        loc = next((pos.values[c] for c in candidates if c in pos.values), where)
        job.origins[(*path, key)] = Origin(pos.keys.get(candidates[0], loc), loc)
        if isinstance(entry[key], list):
            for index in range(len(entry[key])):
                item = pos.values.get((*spec_keys[key], index), loc)
                job.origins[(*path, key, index)] = Origin(item, item)
