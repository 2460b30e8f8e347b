"""Inventory value types shaped by the outputs they are written into: a DHCP range (parsed as the
pool entries are), a DNS search domain (joined with ',' in the flat config, so no ',' or space),
a name written as it stands into a line of text (a node network's, in a dhcpd.conf comment), and
an AWS region (a value of the TKr resolver's ``ami-region=…,os-name=…`` label selector).

Refused at the inventory line, so the error points at the value a person wrote, not at a template.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from generator.load.kube import VALUE_RULE, is_label_value
from generator.net.addresses import parse_entry
from generator.net.ip import is_fqdn

# C0 and C1 controls (line feed, carriage return, U+0085 among them) and the Unicode line and
# paragraph separators: what would end or garble a line of dhcpd.conf, a zone file or YAML 1.1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _address_entry(value: str) -> str:
    parse_entry(value)  # raises ValueError saying why
    return value


def _search_domain(value: str) -> str:
    if not is_fqdn(value):
        raise ValueError(f"'{value}' is not a DNS name")
    return value


def _one_line(value: str) -> str:
    bad = _CONTROL.search(value)
    if bad is not None:
        raise ValueError(f"a name holds the character U+{ord(bad.group()):04X}, a line break or "
                         "control character")
    return value


def _selector_value(value: str) -> str:
    if not value or not is_label_value(value):
        raise ValueError(f"'{value}' is written into the OS image label selector; it {VALUE_RULE}")
    return value


AddressEntry = Annotated[str, AfterValidator(_address_entry)]
SearchDomain = Annotated[str, AfterValidator(_search_domain)]
NetworkName = Annotated[str, AfterValidator(_one_line)]
SelectorValue = Annotated[str, AfterValidator(_selector_value)]
