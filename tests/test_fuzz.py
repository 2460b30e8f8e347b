"""Fuzzing (issue 9, stage 8): random YAML documents for the loader, random layers for the merge,
random inventories for the model and the fleet checks, and random entries for the pool parser.
Only the documented errors may come out: FleetError from the loader and the pipeline (with at
least one located error), ValueError from the pool parser; never any other exception.

Hypothesis runs derandomized (the same examples on every run, so CI is deterministic) and
without its example database; about 3,350 examples in all, in well under 30 seconds.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import pipeline
from generator.load.inventory import merge_layers
from generator.net.addresses import AddressSet, Range, parse_entry, pool_addresses
from generator.problems import FleetError
from generator.yaml.dump import dump
from generator.yaml.load import load_inventory_data, load_positioned, load_positioned_all
from support.fleets import VSPHERE_DEFAULTS, write_tree


def fuzz(examples: int) -> Any:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def located(exc: FleetError, file: str) -> None:
    assert exc.problems, "a FleetError carries at least one problem"
    assert any(p.severity == "error" for p in exc.problems)
    for problem in exc.problems:
        assert problem.location.path == file
        assert problem.location.line >= 1 and problem.location.col >= 1
        assert "\n" not in problem.message and "\x1b" not in problem.message


# --- the loader ------------------------------------------------------------------------------

TOKENS = ["a", "key", "cni", ": ", ":", "- ", "-", "\n", "\n  ", "  ", "\t", "[", "]", "{", "}",
          ", ", "&a ", "*a", "!!str ", "!!python/object:os.system ", "!x ", "? ", "| ", "> ",
          "'", '"', "#", "---\n", "...\n", "%YAML 1.2\n", "<<: ", "~", "null", "off", "yes", "0755",
          "1.10", "1_000", "0x1F", "2024-01-01", "1:20", "=", "@", "`", "\\", "\\x00", "é", "\x00",
          "\x07", "\ufeff", "10.0.0.1", "10.0.0.0/24", "<encoded:aGk=>", "password: "]
yaml_texts = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
    st.text(alphabet=st.sampled_from("ak:-[]{},&*!?|>'\"#~\n \t01.<=é\x00"), max_size=80),
    st.text(max_size=60),
)


@fuzz(1200)
@given(yaml_texts)
def test_the_loader_raises_only_located_fleet_errors(text: str) -> None:
    results = []
    for load in (lambda: load_positioned(text, "f.yaml")[0],
                 lambda: load_inventory_data(text, "f.yaml")):
        try:
            results.append(load())
        except FleetError as exc:
            located(exc, "f.yaml")
    if len(results) == 2:  # both loaders accept it: they must agree on every value
        assert results[0] == results[1]
    try:
        load_positioned_all(text, "f.yaml")
    except FleetError as exc:
        located(exc, "f.yaml")


# --- the merge -------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "network", "pods"])
values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3)),
                      lambda children: st.one_of(st.lists(children, max_size=3),
                                                 st.dictionaries(KEYS, children, max_size=3)),
                      max_leaves=12)
layers = st.lists(st.dictionaries(KEYS, values, max_size=4), max_size=4)


def reference_merge(dicts: list[dict[str, Any]]) -> dict[str, Any]:
    """The inventory contract, written the slow obvious way: mappings merge key by key, lists
    and scalars replace."""
    out: dict[str, Any] = {}
    for layer in dicts:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = reference_merge([out[key], value])
            else:
                out[key] = value
    return out


@fuzz(500)
@given(layers)
def test_the_merge_follows_the_contract_and_never_shares_values(
        dicts: list[dict[str, Any]]) -> None:
    merged, _origins = merge_layers((layer, {}) for layer in dicts)
    assert merged == reference_merge(dicts)
    before = repr(dicts)
    for value in merged.values():  # the merge copies: changing the result changes no layer
        if isinstance(value, (dict, list)):
            value.clear()
    assert repr(dicts) == before


# --- the model and the fleet -----------------------------------------------------------------

FIELDS = ["controlPlane", "endpoint", "replicas", "endpointProvider", "vip", "machine", "numCPUs",
          "workers", "name", "class", "failureDomain", "maxSurge", "labels", "network",
          "ipFamily", "pods", "services", "nodes", "ipPool", "nodeNetwork", "dhcpReservations",
          "mac", "ip", "node", "nameservers", "worker", "ipPools", "kind", "addresses", "prefix",
          "gateway", "excludedAddresses", "nodeNetworks", "cidr", "dhcpRanges", "features",
          "cluster", "plan", "cni", "os", "version", "kubernetes", "namespace", "infrastructure",
          "aws", "region", "subnets", "az", "azure", "managementClusters", "annotations", "p"]
WORDS = ["10.0.0.5", "10.0.0.20-10.0.0.40", "10.0.0.0/24", "10.0.0.300", "fd00::5",
         "fd00::/64", "10.0.0.9-10.0.0.1", "10.0.0.1-fd00::1", "InClusterIPPool",
         "GlobalInClusterIPPool", "p", "vsphere", "aws", "azure", "prod", "dev", "kube-vip",
         "nsx-alb", "api.example.com", "ipv4", "ipv6", "ipv4,ipv6", "antrea", "true", "md-0",
         "00:50:56:aa:bb:cc", "v1.27.5+vmware.1-tkg.1", "", "x" * 70, "../x", "WEB"]
scalars = st.one_of(st.sampled_from(WORDS), st.integers(-2, 40), st.integers(), st.booleans(),
                    st.none(), st.text(max_size=8))
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)), children,
                    max_size=4)), max_leaves=20)
BASE = {"controlPlane": {"endpoint": "10.0.0.10"}}


@fuzz(250)
@given(st.dictionaries(st.sampled_from(FIELDS), documents, max_size=5),
       st.dictionaries(st.sampled_from(FIELDS), documents, max_size=2),
       st.booleans())
def test_random_inventories_give_problems_never_crashes(cluster: dict[str, Any],
                                                         defaults: dict[str, Any],
                                                         render: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_tree(root, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS,
                          "clusters/dev/_defaults.yaml": dump(defaults) if defaults else "",
                          "clusters/dev/web.yaml": dump({**BASE, **cluster}),
                          "clusters/dev/api.yaml": dump({**cluster, **BASE})})
        try:
            fleet = pipeline.load_fleet(root)
            if render:
                pipeline.wanted_files(root, fleet)
        except FleetError as exc:
            assert exc.problems and any(p.severity == "error" for p in exc.problems)
            for problem in exc.problems:
                assert problem.location.path.startswith(("clusters/", "templates/", "rendered/"))


# --- the pool parser -------------------------------------------------------------------------

def address(version: int) -> st.SearchStrategy[str]:
    if version == 4:
        return st.integers(0, 2**32 - 1).map(lambda v: str(ipaddress.IPv4Address(v)))
    return st.integers(0, 2**128 - 1).map(lambda v: str(ipaddress.IPv6Address(v)))


def entry(version: int) -> st.SearchStrategy[str]:
    bits = 32 if version == 4 else 128
    return st.one_of(address(version),
                     st.tuples(address(version), address(version)).map("-".join),
                     st.tuples(address(version), st.integers(0, bits)).map(
                         lambda t: f"{t[0]}/{t[1]}"))


near_entries = st.one_of(entry(4), entry(6), st.text(alphabet="0123456789abcdef.:-/ ", max_size=24),
                         st.text(max_size=12),
                         st.tuples(entry(4), entry(6)).map("-".join))


@fuzz(1000)
@given(near_entries)
def test_a_pool_entry_parses_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_entry(text)
    except ValueError:
        return
    assert isinstance(parsed, Range) and parsed.first <= parsed.last
    assert AddressSet.parse([text]).size == parsed.size


@fuzz(400)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(
    st.just(v), st.lists(entry(v), min_size=1, max_size=4), st.integers(1, 32 if v == 4 else 128),
    st.one_of(st.none(), address(v), st.text(max_size=6)), st.lists(near_entries, max_size=2),
    st.booleans())))
def test_a_pool_parses_or_raises_value_error(pool: tuple[int, list[str], int, str | None,
                                                          list[str], bool]) -> None:
    _version, addresses, prefix, gateway, excluded, reserved = pool
    try:
        parsed = pool_addresses(addresses, prefix, gateway, excluded, reserved)
    except ValueError:
        return
    assert parsed.allocatable.size <= parsed.addresses.size
