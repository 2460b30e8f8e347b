"""Address sets as the in-cluster IPAM provider reads pool entries.

An entry is a single IP (``10.10.10.102``), an inclusive range (``10.10.10.2-10.10.10.100``) or a
CIDR whose host bits are masked (``10.10.10.5/24`` is the whole /24). Sets are kept as sorted,
merged ranges of integers, never as enumerated addresses, so an IPv6 /64 costs the same as a /28.

>>> s = AddressSet.parse(["10.0.0.2-10.0.0.5", "10.0.0.4/31", "10.0.0.9"])
>>> [str(r) for r in s.ranges], s.size
(['10.0.0.2-10.0.0.5', '10.0.0.9'], 5)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from generator.netaddr import Family, IPAddress


@dataclass(frozen=True, order=True)
class Range:
    first: int
    last: int
    version: int

    def __str__(self) -> str:
        first, last = (ipaddress.ip_address(v) if self.version == 4 else ipaddress.IPv6Address(v)
                       for v in (self.first, self.last))
        return str(first) if self.first == self.last else f"{first}-{last}"

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def _address(text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"'{text}' is not an IP address") from None


def parse_entry(text: str) -> Range:
    """One pool entry; raises ValueError with the reason the provider would refuse it."""
    text = text.strip() if isinstance(text, str) else str(text)
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"'{text}' is not a valid CIDR") from None
        return Range(int(net.network_address), int(net.broadcast_address), net.version)
    if "-" in text:
        start_text, _, end_text = text.partition("-")
        start, end = _address(start_text), _address(end_text)
        if start.version != end.version:
            raise ValueError(f"range '{text}' mixes IPv4 and IPv6")
        if int(start) > int(end):
            raise ValueError(f"range '{text}' ends before it starts")
        return Range(int(start), int(end), start.version)
    address = _address(text)
    return Range(int(address), int(address), address.version)


@dataclass(frozen=True)
class AddressSet:
    ranges: tuple[Range, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AddressSet:
        return cls.of(parse_entry(e) for e in entries)

    @classmethod
    def of(cls, ranges: Iterable[Range]) -> AddressSet:
        merged: list[Range] = []
        for r in sorted(ranges):
            last = merged[-1] if merged else None
            if last is not None and last.version == r.version and r.first <= last.last + 1:
                merged[-1] = Range(last.first, max(last.last, r.last), r.version)
            else:
                merged.append(r)
        return cls(tuple(merged))

    @property
    def size(self) -> int:
        return sum(r.size for r in self.ranges)

    @property
    def families(self) -> set[Family]:
        return {"ipv4" if r.version == 4 else "ipv6" for r in self.ranges}
