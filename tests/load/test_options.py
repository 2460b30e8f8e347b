"""The TKG option keys of an inventory (generator/load/options.py): bad values are located errors
that name the key, and values a flat config could not carry are refused."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from support.fleets import small_fleet

from generator.pipeline import load_fleet
from generator.problems import FleetError

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
KEY = base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n").decode()
SETTINGS = """\
credentials:
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}
"""


def problems_of(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    root = small_fleet(tmp_path, web=text)
    (root / "fleetgen.yaml").write_text(SETTINGS, encoding="utf-8")
    with pytest.raises(FleetError) as caught:
        load_fleet(root)
    return [(p.location.line, p.location.col, p.message) for p in caught.value.problems
            if p.location.path == "clusters/dev/web.yaml"]


@pytest.mark.parametrize("text, line, words", [
    ("proxy: {httpProxy: 'proxy:3128', httpsProxy: 'http://p.example.com'}\n", 1,
     "not a proxy URL"),
    ("proxy:\n  httpProxy: http://p.example.com\n", 2, "go together"),
    ("proxy:\n  httpProxy: http://p\n  httpsProxy: http://p\n  noProxy: ['*.example.com']\n", 4,
     "'*'"),
    ("proxy:\n  caCertificate: bm90IGEgY2VydA==\n", 2, "not a PEM certificate"),
    (f"imageRepository:\n  caCertificate: {KEY}\n", 2, "private key"),
    ("additionalImageRegistries:\n- host: r.example.com\n", 2, "needs caCertificate"),
    ("additionalImageRegistries:\n" + "".join(
        f"- {{host: r{i}.example.com, skipTLSVerify: true}}\n" for i in range(4)), 2,
     "at most 3"),
    ("sshAuthorizedKeys: ['ssh-ed25519 AAAA a', 'ssh-ed25519 BBBB b']\n", 1, "at most 1"),
    ("sshAuthorizedKeys: ['hello']\n", 1, "SSH public key"),
    ("podSecurityStandard: {enforce: strict}\n", 1, "'strict' is not allowed"),
    ("controlPlane:\n  certificateRotation: {daysBefore: 3}\n", 2, "at least 7"),
    ("controlPlane:\n  nodeLabels: {'bad,key': x}\n", 2, "bad,key"),
    ("kubernetes:\n  extraArgs:\n    apiServer: {'a;b': x}\n", 3, "extra-arg name"),
    ("kubernetes:\n  extraArgs:\n    etcd: {name: 'a;b'}\n", 3, "extra-arg value"),
    ("ntpServers: ['a.example.com,b.example.com']\n", 1, "NTP server"),
    ("auditLogging: 'yes'\n", 1, "true or false"),
    ("proxy:\n  httpProxy: http://p\n  httpsProxy: http://p\n  noProxy: [.example.com]\n", 4,
     "must list the vCenter server vc.example.com"),
    ("ntpServers: [ntp.example.com]\ninfrastructure: aws\n", 1, "vSphere clusters only"),
])
def test_bad_option_is_a_located_error(tmp_path: Path, text: str, line: int, words: str) -> None:
    found = problems_of(tmp_path, text)
    assert [p for p in found if p[0] == line and words in p[2]], found


def test_cloud_options_are_checked(tmp_path: Path) -> None:
    text = ("infrastructure: azure\nvsphere: null\n"
            "azure:\n  location: westeurope\n  subscriptionID: s\n  sshPublicKey: k\n"
            "  frontendPrivateIP: 10.0.0.300\n  customTags: {'a=b': c}\n")
    found = problems_of(tmp_path, text)
    assert any(line == 7 and "not an IP address" in message for line, _, message in found), found
    assert any(line == 8 and "a=b" in message for line, _, message in found), found


def test_good_options_load(tmp_path: Path) -> None:
    root = small_fleet(tmp_path, web=f"""\
        ntpServers: [ntp1.example.com, 192.0.2.123]
        auditLogging: true
        sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza ops@example.com']
        proxy: {{httpProxy: 'http://proxy.example.com:3128', httpsProxy: 'http://proxy.example.com:3128',
                noProxy: [vc.example.com, 10.0.0.0/8], systemWide: true, caCertificate: {CA}}}
        imageRepository: {{host: harbor.example.com/tkg, skipTLSVerify: false, caCertificate: {CA}}}
        additionalImageRegistries: [{{host: r.example.com, skipTLSVerify: true}}]
        podSecurityStandard: {{deactivated: false, audit: restricted, warn: '', enforce: baseline}}
        kubernetes:
          extraArgs: {{apiServer: {{tls-min-version: VersionTLS12}}, workerKubelet: {{max-pods: '50'}}}}
        controlPlane:
          certificateRotation: {{enabled: true, daysBefore: 30}}
          nodeLabels: {{tier: control-plane}}
          endpoint: 192.0.2.10
        """)
    (root / "fleetgen.yaml").write_text(SETTINGS, encoding="utf-8")
    fleet = load_fleet(root)
    [cluster] = fleet.clusters
    assert cluster.spec.proxy is not None and cluster.spec.proxy.system_wide is True
