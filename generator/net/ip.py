"""Small address helpers on top of stdlib ``ipaddress`` shared by the model and the checks."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Family = Literal["ipv4", "ipv6"]

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def family_of(value: IPAddress | IPNetwork) -> Family:
    return "ipv4" if value.version == 4 else "ipv6"


ZONE_ID = "an IPv6 zone id ('%' and an interface) is not allowed"


def zone_note(text: str) -> str:
    """``": <why>"`` when ``text`` holds an IPv6 zone id, else ``""``: for refusal messages."""
    return f": {ZONE_ID}" if "%" in text else ""


def parse_ip(text: str) -> IPAddress | None:
    """An IP address, or None. IPv6 zone ids (``fe80::1%eth0``) are refused: they name an
    interface of one host, mean nothing in a fleet's inventory, and ``ipaddress`` takes almost any
    text after the ``%`` (spaces, ``;``, ``}``, ``-``), which would then be written into dhcpd.conf,
    zone files and ranges as it stands.

    >>> [parse_ip(s) is None for s in ("fd00::1", "fd00::1%eth0", "fd00::1%x; }")]
    [False, True, True]
    """
    return _parse_ip(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=1 << 16)
def _parse_ip(text: str) -> IPAddress | None:
    """parse_ip, remembered by text (an address is immutable)."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_cidr(text: str) -> IPNetwork:
    """A network in CIDR form with no host bits set (and no IPv6 zone id, see ``parse_ip``);
    raises ValueError with a readable reason."""
    if "/" not in text:
        raise ValueError(f"'{text}' is not in CIDR form (address/prefix)")
    if "%" in text:
        raise ValueError(f"'{text}' is not a CIDR{zone_note(text)}")
    return ipaddress.ip_network(text, strict=True)


def is_fqdn(text: str) -> bool:
    """A DNS name (RFC 1123 labels) whose last label is not numeric, so '10.0.0.300' is not one.

    >>> [is_fqdn(s) for s in ("api.example.com", "api", "10.0.0.300", "-x.example.com")]
    [True, True, False, False]
    """
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if not name or len(name) > 253 or labels[-1].isdigit():
        return False
    return all(_HOST_LABEL.fullmatch(label) for label in labels)


def is_dns_label(text: str) -> bool:
    """A Kubernetes name of the DNS-1123 label kind (lower case, digits, '-', at most 63).

    fullmatch, not match: `$` would accept a trailing line break ("web\n").
    """
    return bool(_LABEL.fullmatch(text))
