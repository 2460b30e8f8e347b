"""The range arithmetic equals a brute-force set model on small random pools (IPv4 and IPv6),
allocation order included."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.net.addresses import AddressSet, parse_entry, pool_addresses

BASES = {4: int(ipaddress.IPv4Address("10.20.30.0")), 6: int(ipaddress.IPv6Address("fd00:1::"))}
SPAN = 64  # every address lives in base .. base+63, so sets stay small enough to enumerate


def text(version: int, offset: int) -> str:
    value = BASES[version] + offset
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


@st.composite
def entries(draw: st.DrawFn, version: int) -> str:
    kind = draw(st.sampled_from(["ip", "range", "cidr"]))
    a = draw(st.integers(0, SPAN - 1))
    if kind == "ip":
        return text(version, a)
    if kind == "range":
        b = draw(st.integers(a, SPAN - 1))
        return f"{text(version, a)}-{text(version, b)}"
    bits = 32 if version == 4 else 128
    prefix = draw(st.integers(bits - 5, bits))  # at most 32 addresses, host bits may be set
    return f"{text(version, a)}/{prefix}"


def brute(entry_list: list[str]) -> set[int]:
    out: set[int] = set()
    for entry in entry_list:
        if "-" in entry:
            start, end = entry.split("-")
            out |= set(range(int(ipaddress.ip_address(start)), int(ipaddress.ip_address(end)) + 1))
        elif "/" in entry:
            out |= {int(a) for a in ipaddress.ip_network(entry, strict=False)}
        else:
            out.add(int(ipaddress.ip_address(entry)))
    return out


def members(s: AddressSet) -> set[int]:
    return {v for r in s.ranges for v in range(r.first, r.last + 1)}


versions = st.sampled_from([4, 6])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_set_operations_match_brute_force(data: st.DataObject) -> None:
    version = data.draw(versions)
    a = data.draw(st.lists(entries(version), max_size=6))
    b = data.draw(st.lists(entries(version), max_size=6))
    sa, sb = AddressSet.parse(a), AddressSet.parse(b)
    assert members(sa) == brute(a)
    assert members(sa.union(sb)) == brute(a) | brute(b)
    assert members(sa.intersection(sb)) == brute(a) & brute(b)
    assert members(sa.difference(sb)) == brute(a) - brute(b)
    assert sa.size == len(brute(a))
    # the normal form: sorted, disjoint and never adjacent
    for left, right in zip(sa.ranges, sa.ranges[1:]):
        assert left.last + 1 < right.first


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_allocatable_set_and_allocation_order_match_brute_force(data: st.DataObject) -> None:
    version = data.draw(versions)
    bits = 32 if version == 4 else 128
    addresses = data.draw(st.lists(entries(version), min_size=1, max_size=5))
    excluded = data.draw(st.lists(entries(version), max_size=3))
    gateway = data.draw(st.none() | st.integers(0, SPAN - 1).map(lambda o: text(version, o)))
    prefix = data.draw(st.integers(bits - 8, bits))
    reserved_ok = data.draw(st.booleans())
    in_use = data.draw(st.lists(st.integers(0, SPAN - 1).map(lambda o: BASES[version] + o)))
    count = data.draw(st.integers(0, 20))

    pool = pool_addresses(addresses, prefix, gateway, excluded, reserved_ok)

    expected = brute(addresses) - brute(excluded)
    if gateway:
        expected.discard(int(ipaddress.ip_address(gateway)))
    if not reserved_ok:
        lowest = min(brute(addresses))
        net = ipaddress.ip_network((lowest, prefix), strict=False)
        expected.discard(int(net.network_address))
        if version == 4:
            expected.discard(int(net.broadcast_address))
    assert members(pool.allocatable) == expected

    # the provider hands out the lowest free address, one claim at a time
    free = pool.allocatable.difference(AddressSet.of(
        parse_entry(text(version, v - BASES[version])) for v in in_use))
    predicted = [value for _version, value in free.lowest(count)]
    assert predicted == sorted(expected - set(in_use))[:count]
    assert members(free.take(count)) == set(predicted)


def test_ipv6_slash_64_costs_nothing() -> None:
    pool = pool_addresses(["fd00:10::/64"], 64, "fd00:10::1")
    assert pool.allocatable.size == 2**64 - 2  # minus the anycast (network) address and gateway
    assert [str(r) for r in pool.allocatable.take(2).ranges] == ["fd00:10::2-fd00:10::3"]
