"""The strict base model and the validated scalar types every inventory section uses."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from generator.net.ip import is_dns_label, is_fqdn, parse_cidr, parse_ip, zone_note


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError(f"'{value}' is not a valid name: use lower-case letters, digits and '-', "
                         "starting and ending with a letter or digit, at most 63 characters")
    return value


def _ip(value: str) -> str:
    if parse_ip(value) is None:
        raise ValueError(f"'{value}' is not an IP address{zone_note(value)}")
    return value


def _cidr(value: str) -> str:
    parse_cidr(value)
    return value


def _endpoint(value: str) -> str:
    if parse_ip(value) is None and not is_fqdn(value):
        raise ValueError(f"'{value}' is neither an IP address nor a DNS name{zone_note(value)}")
    return value


Name = Annotated[str, AfterValidator(_dns_label)]
IP = Annotated[str, AfterValidator(_ip)]
CIDR = Annotated[str, AfterValidator(_cidr)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, alias_generator=to_camel,
                              populate_by_name=True)
