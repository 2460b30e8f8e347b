"""Inventory sections for the TKG cluster options the ClusterClass variables carry: proxy, image
registries, audit logging, Pod Security Standard, certificate rotation, component extra args,
node labels, NTP and SSH keys, and the AWS / Azure options of the same kind.

Each field is None when unset: the renderer then writes tanzu's own default (the variable
catalog, ``generator.render.catalog``, knows each default and where it comes from). Values are
checked here for what the flat config can carry too, so an inventory always has a flat-config
equivalent: a label, tag or extra arg that holds tanzu's separators (``,`` ``=`` ``;``) is refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from generator.load.model_base import Model

# --- validated scalars -----------------------------------------------------------------------

def _proxy_url(value: str) -> str:
    # tanzu: ConfigureAndValidateHTTPProxyConfiguration → CheckAndGetProxyURL accepts http(s) URLs
    # with a host (tanzu-framework-release-0.29 tkg/client/validate.go:1548-1559).
    match = re.fullmatch(r"(https?)://([^/\s?#]+)(/[^\s]*)?", value)
    if "@" in value:
        # user:password@ (or a token@) is a secret: never stored, written, or printed
        raise ValueError("holds credentials (user:password@): a secret fleetgen never stores; "
                         "give the proxy as http://host:port")
    if match is None or match.group(2).startswith(("@", ":")):
        raise ValueError(f"'{value}' is not a proxy URL: use http://host:port or https://host:port")
    return value


def _registry_host(value: str) -> str:
    # host[:port][/path]: a user and password (user:pass@host) are a secret, never stored
    if "@" in value:
        raise ValueError("holds credentials (user:password@): a secret fleetgen never stores; "
                         "give the registry as host[:port][/path]")
    return value


def _no_proxy(value: str) -> str:
    # tanzu removes blanks and refuses '*' (tkg/client/validate.go:1609-1616).
    if not value or re.search(r"\s", value) or "," in value:
        raise ValueError(f"'{value}' is not a no-proxy entry: one host, domain, IP or CIDR, "
                         "without blanks or commas")
    if "*" in value:
        raise ValueError(f"'{value}': tanzu refuses '*' in TKG_NO_PROXY; use a domain suffix "
                         "such as .example.com")
    return value


_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def _ca_certificate(value: str) -> str:
    """A base64-encoded PEM certificate (bundle), the form every tanzu *_CA_CERT* variable takes."""
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64: tanzu takes the PEM certificate base64-encoded "
                         "(base64 -w0 ca.pem)") from None
    if _PEM_BEGIN not in decoded:
        raise ValueError("is base64 but not a PEM certificate (no '-----BEGIN CERTIFICATE-----' "
                         "inside)")
    if b"PRIVATE KEY" in decoded:
        raise ValueError("holds a private key: a CA certificate is public, a key is a secret "
                         "fleetgen never stores")
    return value


def _ssh_key(value: str) -> str:
    fields = value.split()
    if len(fields) < 2 or not re.fullmatch(r"(ssh-[a-z0-9-]+|ecdsa-[a-z0-9-]+|sk-[a-z0-9@.-]+)",
                                           fields[0]):
        raise ValueError("is not an SSH public key ('<type> <base64> [comment]', e.g. "
                         "'ssh-ed25519 AAAA… user@host')")
    if "PRIVATE KEY" in value:
        raise ValueError("is a private key, a secret fleetgen never stores; give the public key")
    return value


def _no_separators(separators: str, what: str, empty: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        bad = [s for s in separators if s in value]
        if bad or not (empty or value.strip()):
            raise ValueError(f"'{value}' cannot be {what}: the flat config separates entries with "
                             f"{' and '.join(repr(s) for s in separators)}")
        return value
    return AfterValidator(check)


def _min_days(value: int) -> int:
    # the class's own minimum (providers/infrastructure-vsphere/v1.5.3/cconly/base.yaml:617)
    if value < 7:
        raise ValueError(f"daysBefore must be at least 7 (the ClusterClass minimum), not {value}")
    return value


ProxyURL = Annotated[str, AfterValidator(_proxy_url)]
RegistryHost = Annotated[str, AfterValidator(_registry_host)]
NoProxyEntry = Annotated[str, AfterValidator(_no_proxy)]
CACertificate = Annotated[str, AfterValidator(_ca_certificate)]
SSHPublicKey = Annotated[str, AfterValidator(_ssh_key)]
# "k=v;k2=v2" (helpers.star get_extra_args_map_from_string splits on ';' then the first '=')
ArgName = Annotated[str, _no_separators("=;", "an extra-arg name")]
ArgValue = Annotated[str, _no_separators(";", "an extra-arg value", empty=True)]
ExtraArgMap = dict[ArgName, ArgValue]
# "k=v,k2=v2" (helpers.star get_labels_array_from_string; the Azure class splits customTags alike)
TagText = Annotated[str, _no_separators(",=", "a tag key or value")]
NTPServer = Annotated[str, _no_separators(", ", "an NTP server")]
# an item of a list the flat config joins with ',' (VSPHERE_ADDITIONAL_FQDN, the ANTREA_* and
# KUBEVIP_* lists): one with a ',' would be two items to tanzu
ListItem = Annotated[str, _no_separators(",", "a list item")]
PSSLevel = Literal["", "privileged", "baseline", "restricted"]


# --- sections --------------------------------------------------------------------------------

class Proxy(Model):
    """TKG_HTTP_PROXY, TKG_HTTPS_PROXY, TKG_NO_PROXY, TKG_NODE_SYSTEM_WIDE_PROXY, TKG_PROXY_CA_CERT.
    ``noProxy`` is your list; the rendered variable adds what tanzu adds (cluster CIDRs, localhost,
    the VPC / VNet CIDR …)."""

    http_proxy: ProxyURL | None = None
    https_proxy: ProxyURL | None = None
    no_proxy: list[NoProxyEntry] | None = None
    system_wide: bool | None = None
    ca_certificate: CACertificate | None = None

    @model_validator(mode="after")
    def _both(self) -> Proxy:
        # tanzu requires TKG_HTTPS_PROXY when the proxy is on (tkg/client/validate.go:1553-1556)
        if (self.http_proxy is None) != (self.https_proxy is None):
            raise ValueError("httpProxy and httpsProxy go together: tanzu refuses one without "
                             "the other")
        return self


class ImageRepository(Model):
    """TKG_CUSTOM_IMAGE_REPOSITORY, its _SKIP_TLS_VERIFY and _CA_CERTIFICATE."""

    host: RegistryHost | None = None
    skip_tls_verify: bool | None = Field(default=None, alias="skipTLSVerify")
    ca_certificate: CACertificate | None = None


class ImageRegistry(Model):
    """ADDITIONAL_IMAGE_REGISTRY_<n>, its _SKIP_TLS_VERIFY and _CA_CERTIFICATE."""

    host: RegistryHost = Field(min_length=1)
    skip_tls_verify: bool = Field(default=False, alias="skipTLSVerify")
    ca_certificate: CACertificate | None = None

    @model_validator(mode="after")
    def _ca_unless_skipped(self) -> ImageRegistry:
        # providers/yttcc/lib/helpers.star:421-426 fails without a CA unless TLS checks are off
        if not self.skip_tls_verify and self.ca_certificate is None:
            raise ValueError(f"registry '{self.host}' needs caCertificate unless skipTLSVerify is "
                             "true (tanzu: 'Must provide CA for host')")
        return self


class PodSecurityStandard(Model):
    """POD_SECURITY_STANDARD_DEACTIVATED / _AUDIT / _WARN / _ENFORCE."""

    deactivated: bool | None = None
    audit: PSSLevel | None = None
    warn: PSSLevel | None = None
    enforce: PSSLevel | None = None


class CertificateRotation(Model):
    """CONTROLPLANE_CERTIFICATE_ROTATION_ENABLED / _DAYS_BEFORE."""

    enabled: bool | None = None
    days_before: Annotated[int, AfterValidator(_min_days)] | None = None


class ExtraArgs(Model):
    """ETCD_EXTRA_ARGS, APISERVER_EXTRA_ARGS, KUBE_SCHEDULER_EXTRA_ARGS,
    KUBE_CONTROLLER_MANAGER_EXTRA_ARGS, CONTROLPLANE_KUBELET_EXTRA_ARGS, WORKER_KUBELET_EXTRA_ARGS:
    flag name (without ``--``) → value."""

    etcd: ExtraArgMap | None = None
    api_server: ExtraArgMap | None = None
    scheduler: ExtraArgMap | None = None
    controller_manager: ExtraArgMap | None = None
    control_plane_kubelet: ExtraArgMap | None = None
    worker_kubelet: ExtraArgMap | None = None


class SecurityGroupOverrides(Model):
    """AWS_SECURITY_GROUP_APISERVER_LB / _BASTION / _CONTROLPLANE / _LB / _NODE: pre-created
    security group IDs."""

    api_server_lb: str | None = Field(default=None, alias="apiServerLB")
    bastion: str | None = None
    control_plane: str | None = None
    lb: str | None = None
    node: str | None = None


AzureTags = dict[TagText, TagText]


class OutboundLB(Model):
    """AZURE_ENABLE_*_OUTBOUND_LB, AZURE_*_OUTBOUND_LB_FRONTEND_IP_COUNT (and, for workers,
    AZURE_NODE_OUTBOUND_LB_IDLE_TIMEOUT_IN_MINUTES)."""

    enabled: bool | None = None
    frontend_ip_count: Annotated[int, Field(ge=1)] | None = Field(default=None,
                                                                 alias="frontendIPCount")
    idle_timeout_in_minutes: Annotated[int, Field(ge=1)] | None = None


class AzureNodes(Model):
    """The Azure disk and outbound load balancer options of the control plane or the workers:
    AZURE_<CONTROL_PLANE|NODE>_OS_DISK_STORAGE_ACCOUNT_TYPE, _DATA_DISK_SIZE_GIB,
    AZURE_ENABLE_NODE_DATA_DISK (workers) and the outbound load balancer."""

    os_disk_storage_account_type: str | None = Field(default=None,
                                                     alias="osDiskStorageAccountType")
    data_disk: bool | None = None  # workers only: AZURE_ENABLE_NODE_DATA_DISK
    data_disk_size_gib: Annotated[int, Field(ge=1)] | None = Field(default=None,
                                                                  alias="dataDiskSizeGiB")
    outbound_lb: OutboundLB | None = Field(default=None, alias="outboundLB")
