"""Checks on the TKG option keys (generator/load/options.py, issue 15 helper B), as cluster rules.

* ``proxy-vcenter``: a vSphere cluster behind a proxy must list its vCenter in ``proxy.noProxy``:
  tanzu refuses it otherwise (tanzu-framework-release-0.29 providers/yttcc/lib/validate.star:44-47,
  helpers.star:312-321; fleetgen always verifies vCenter by thumbprint, VSPHERE_INSECURE false).
* ``vsphere-only``: ``ntpServers`` and ``sshAuthorizedKeys`` exist only in the vSphere class
  (get_vsphere_vars, config_variable_association.star:915-919, 994-996); elsewhere tanzu would
  drop them silently.
* ``trust-ignored`` (warning): with both a proxy CA and an image-repository CA tanzu trusts only
  the proxy's (config_variable_association.star:467-479).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.check.fleet import Cluster
from generator.problems import Problem


def proxy_bypasses_vcenter(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    proxy = spec.proxy
    if spec.vsphere is None or proxy is None or not proxy.http_proxy:
        return
    if spec.vsphere.server not in (proxy.no_proxy or []):
        yield c.problem(("proxy", "noProxy") if proxy.no_proxy else ("proxy",), "proxy-vcenter",
                        f"proxy.noProxy must list the vCenter server {spec.vsphere.server}: "
                        "tanzu refuses to proxy the traffic to vCenter",
                        f"add '{spec.vsphere.server}' to proxy.noProxy")


def vsphere_only(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    if spec.infrastructure == "vsphere":
        return
    for key, value in (("ntpServers", spec.ntp_servers),
                       ("sshAuthorizedKeys", spec.ssh_authorized_keys)):
        if value:
            yield c.problem((key,), "vsphere-only", f"{key} applies to vSphere clusters only; "
                            "the AWS and Azure classes have no such variable",
                            "remove it (AWS: aws.sshKeyName, Azure: azure.sshPublicKey)"
                            if key == "sshAuthorizedKeys" else "remove it", key=True)


def trust_ignored(c: Cluster) -> Iterator[Problem]:
    spec = c.spec
    proxy_ca = spec.proxy.ca_certificate if spec.proxy else None
    repo_ca = spec.image_repository.ca_certificate if spec.image_repository else None
    if proxy_ca and repo_ca and proxy_ca != repo_ca:
        yield c.problem(("imageRepository", "caCertificate"), "trust-ignored",
                        "tanzu trusts only proxy.caCertificate when both CAs are set, so the "
                        "nodes will not trust imageRepository.caCertificate",
                        "put both certificates in proxy.caCertificate (one PEM bundle)",
                        severity="warning")


CATALOG_RULES = (proxy_bypasses_vcenter, vsphere_only, trust_ignored)
