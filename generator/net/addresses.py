"""Address sets and pools exactly as the in-cluster IPAM provider reads them.

An entry is a single IP (``10.10.10.102``), an inclusive range (``10.10.10.2-10.10.10.100``, no
spaces, start ≤ end, one family) or a CIDR whose host bits are masked (``10.10.10.5/24`` is the
whole /24). A set is a tuple of sorted, merged, inclusive integer ranges; nothing is ever
enumerated, so an IPv6 /64 costs what a /28 costs.

The allocatable set of a pool is its addresses − excludedAddresses − gateway − (unless
``allocateReservedIPAddresses``) the network address of ``(lowest address)/prefix`` and, for IPv4,
its broadcast address. A claim gets the lowest free address of that set.

>>> s = AddressSet.parse(["10.0.0.2-10.0.0.5", "10.0.0.4/31", "10.0.0.9"])
>>> str(s), s.size
('10.0.0.2-10.0.0.5, 10.0.0.9', 5)
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator

from generator.net.ip import Family, parse_ip, zone_note


@dataclass(frozen=True, order=True)
class Range:
    """An inclusive range of one family; orders by family first, then by address."""

    version: int
    first: int
    last: int

    def __str__(self) -> str:
        return (address_text(self.version, self.first) if self.first == self.last else
                f"{address_text(self.version, self.first)}-{address_text(self.version, self.last)}")

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def address_text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = parse_ip(text)
    if address is None:
        raise ValueError(f"'{text}' is not a valid IP, range, nor CIDR")
    return address


def parse_entry(text: str) -> Range:
    """One pool entry; raises ValueError saying why the provider would refuse it. An IPv6 zone id
    is refused before anything else: its text may hold the ``-`` that separates a range.
    Remembered by text (a Range is immutable): a fleet repeats its pod and service CIDRs."""
    if not isinstance(text, str):
        raise ValueError(f"'{text}' is not a valid IP, range, nor CIDR")
    return _parse_entry(text)


@functools.lru_cache(maxsize=1 << 16)
def _parse_entry(text: str) -> Range:
    if "%" in text:
        raise ValueError(f"'{text}' is not a valid IP, range, nor CIDR"
                         f"{zone_note(text) if isinstance(text, str) else ''}")
    if "-" in text:
        start_text, _, end_text = text.partition("-")
        start, end = _address(start_text), _address(end_text)
        if start.version != end.version:
            raise ValueError(f"range '{text}' mixes IPv4 and IPv6")
        if int(start) > int(end):
            raise ValueError(f"range '{text}' ends before it starts")
        return Range(start.version, int(start), int(end))
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"'{text}' is not a valid IP, range, nor CIDR") from None
        return Range(net.version, int(net.network_address), int(net.broadcast_address))
    address = _address(text)
    return Range(address.version, int(address), int(address))


def prefix_range(version: int, address: int, prefix: int) -> Range:
    """The range of ``address/prefix`` with host bits masked."""
    bits = 32 if version == 4 else 128
    host = bits - prefix
    first = (address >> host) << host
    return Range(version, first, first + (1 << host) - 1)


@dataclass(frozen=True)
class AddressSet:
    ranges: tuple[Range, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AddressSet:
        return cls.of(parse_entry(e) for e in entries)

    @classmethod
    def of(cls, ranges: Iterable[Range]) -> AddressSet:
        merged: list[Range] = []
        for r in sorted(ranges):
            last = merged[-1] if merged else None
            if last is not None and last.version == r.version and r.first <= last.last + 1:
                merged[-1] = Range(r.version, last.first, max(last.last, r.last))
            else:
                merged.append(r)
        return cls(tuple(merged))

    def __str__(self) -> str:
        return ", ".join(str(r) for r in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.ranges)

    @property
    def families(self) -> set[Family]:
        return {"ipv4" if r.version == 4 else "ipv6" for r in self.ranges}

    def union(self, other: AddressSet) -> AddressSet:
        return AddressSet.of([*self.ranges, *other.ranges])

    def intersection(self, other: AddressSet) -> AddressSet:
        out, i, j = [], 0, 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            x, y = a[i], b[j]
            if x.version == y.version and x.first <= y.last and y.first <= x.last:
                out.append(Range(x.version, max(x.first, y.first), min(x.last, y.last)))
            if (x.version, x.last) < (y.version, y.last):
                i += 1
            else:
                j += 1
        return AddressSet(tuple(out))

    def difference(self, other: AddressSet) -> AddressSet:
        out: list[Range] = []
        cuts = other.ranges
        j = 0
        for r in self.ranges:
            first = r.first
            while j < len(cuts) and (cuts[j].version, cuts[j].last) < (r.version, first):
                j += 1
            k = j
            while first <= r.last and k < len(cuts) and cuts[k].version == r.version \
                    and cuts[k].first <= r.last:
                cut = cuts[k]
                if cut.first > first:
                    out.append(Range(r.version, first, cut.first - 1))
                first = max(first, cut.last + 1)
                k += 1
            if first <= r.last:
                out.append(Range(r.version, first, r.last))
        return AddressSet(tuple(out))

    def contains(self, version: int, value: int) -> bool:
        return any(r.version == version and r.first <= value <= r.last for r in self.ranges)

    def lowest(self, count: int) -> Iterator[tuple[int, int]]:
        """The ``count`` lowest addresses as (version, value), in allocation order."""
        for r in self.ranges:
            value = r.first
            while count > 0 and value <= r.last:
                yield r.version, value
                value += 1
                count -= 1
            if count == 0:
                return

    def take(self, count: int) -> AddressSet:
        """The set of the ``count`` lowest addresses, computed range by range."""
        out: list[Range] = []
        for r in self.ranges:
            if count <= 0:
                break
            last = min(r.last, r.first + count - 1)
            out.append(Range(r.version, r.first, last))
            count -= last - r.first + 1
        return AddressSet(tuple(out))


def single(text: str) -> AddressSet:
    return AddressSet((parse_entry(text),))


@dataclass(frozen=True)
class PoolAddresses:
    """A pool's address arithmetic: what it covers and what it may hand out."""

    addresses: AddressSet
    excluded: AddressSet
    gateway: AddressSet
    reserved: AddressSet
    subnet: Range | None  # (lowest address)/prefix, the subnet the provider infers

    @property
    def allocatable(self) -> AddressSet:
        return (self.addresses.difference(self.excluded).difference(self.gateway)
                .difference(self.reserved))


def pool_addresses(addresses: list[str], prefix: int, gateway: str | None,
                   excluded: list[str] | None = None, allocate_reserved: bool = False
                   ) -> PoolAddresses:
    """Parse a pool spec; raises ValueError for an entry the provider would refuse."""
    addr = AddressSet.parse(addresses)
    exclusions = AddressSet.parse(excluded or [])
    gw = single(gateway) if gateway else AddressSet()
    subnet = prefix_range(addr.ranges[0].version, addr.ranges[0].first, prefix) if addr else None
    reserved: list[Range] = []
    if subnet is not None and not allocate_reserved:
        reserved.append(Range(subnet.version, subnet.first, subnet.first))
        if subnet.version == 4:
            reserved.append(Range(4, subnet.last, subnet.last))
    return PoolAddresses(addr, exclusions, gw, AddressSet.of(reserved), subnet)
