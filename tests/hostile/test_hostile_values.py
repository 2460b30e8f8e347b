"""Hostile values (issue 14, items 3, 9 and two crashes of item 7): values that would break the
formats they are written into, values Kubernetes would refuse, and inventories that crashed the
model instead of getting a located error.

* an IPv6 zone id (``fd00::1%eth0``) is refused wherever an address or a CIDR is accepted: Python's
  ``ipaddress`` takes almost any text after the ``%`` (``; option routers …; } host attacker {``),
  which then lands in ``dhcpd.conf``; a ``-`` in it crashed the pool parser; and it let one address
  pass ``duplicate-endpoint`` as two;
* every value is checked against the grammar of the outputs it reaches (dhcpd, Kea JSON, zone
  file, shell, flat config, YAML), at the inventory line, not at the template; U+0085, U+2028 and
  U+2029 (line breaks to a YAML 1.1 reader) are refused in every inventory value, and the ``yaml``
  filter escapes them too;
* label and annotation keys and values follow Kubernetes' own rules (apimachinery
  ``IsQualifiedName``, ``IsValidLabelValue``, the 256 KiB annotation budget), keys fleetgen writes
  itself are refused, and counts and sizes stay within the CRDs' int32;
* a DHCP range that does not parse is a located error, not exit 3 (``workers: []`` is in
  ``test_hostile_crashes.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.cli import fleetgen
from support.hostile import API, WEB, WEB_FILE, assert_refused, write

ZONE = "an IPv6 zone id ('%' and an interface) is not allowed"
WEB6 = ("controlPlane:\n  endpoint: fd00::10\nnetwork:\n  ipFamily: ipv6\n")

RESERVATION = (
    "nodeNetworks:\n  vlan20: {{cidr: \"fd00:20::/64\"}}\n"
    "network:\n  nodes:\n    nodeNetwork: vlan20\n    dhcpReservations:\n"
    "    - node: web-1\n      mac: \"00:50:56:aa:bb:cc\"\n      ip: \"{ip}\"\n")
INJECTION = ("fd00:20::31%x; option routers 10.20.0.66; } host attacker { hardware ethernet "
             "00:50:56:00:00:01")
POOL = ("ipPools:\n  p:\n    addresses: [\"{entry}\"]\n    prefix: 64\n"
        "network:\n  ipFamily: ipv6\n  nodes:\n    ipPool: p\n"
        "  nameservers: {{controlPlane: [\"fd00::53\"], worker: [\"fd00::53\"]}}\n")
DHCP = ("nodeNetworks:\n  n1:\n    cidr: 10.40.0.0/24\n    dhcpRanges: [{range}]\n")

ITEM_3 = {
    "a zone id injects dhcpd statements through a reservation": (
        WEB + RESERVATION.format(ip=INJECTION),
        [f"clusters/dev/web.yaml:11:11: error[invalid-value]: "
         f"network.nodes.dhcpReservations[0].ip: '{INJECTION}' is not an IP address: {ZONE}"]),
    "a zone id with '-' in the endpoint crashed the pool parser": (
        "controlPlane:\n  endpoint: fd00::5%a-b\n",
        [f"clusters/dev/web.yaml:2:13: error[invalid-value]: controlPlane.endpoint: "
         f"'fd00::5%a-b' is neither an IP address nor a DNS name: {ZONE}"]),
    "a zone id in a pool range": (
        "controlPlane:\n  endpoint: fd00::10\n" + POOL.format(entry="fd00::20-fd00::40%x"),
        [f"clusters/dev/web.yaml:5:17: error[pool-address]: pool 'p': 'fd00::20-fd00::40%x' is "
         f"not a valid IP, range, nor CIDR: {ZONE}"]),
    "a zone id in a CIDR": (
        WEB + "nodeNetworks:\n  n1: {cidr: \"fd00::%x/64\"}\n",
        [f"clusters/dev/web.yaml:4:14: error[invalid-value]: nodeNetworks.n1.cidr: "
         f"'fd00::%x/64' is not a CIDR: {ZONE}"]),
    "a zone id in a nameserver": (
        WEB + "network:\n  nameservers:\n    worker: [\"fd00::53%eth0\"]\n",
        [f"clusters/dev/web.yaml:5:14: error[invalid-value]: nameserver 'fd00::53%eth0' is not "
         f"an IP address: {ZONE}"]),
    "a line break after a MAC address": (
        WEB + RESERVATION.replace("fd00:20::/64", "10.20.0.0/24").replace(
            "00:50:56:aa:bb:cc", "00:50:56:aa:bb:cc\\n").format(ip="10.20.0.31"),
        ["clusters/dev/web.yaml:10:12: error[invalid-value]: "
         "network.nodes.dhcpReservations[0].mac: '00:50:56:aa:bb:cc\\n' is not a MAC address "
         "(six hex pairs separated by ':')"]),
    "a line break in a node network's name (a dhcpd comment)": (
        WEB + RESERVATION.format(ip="10.20.0.31").replace("fd00:20::/64", "10.20.0.0/24")
        .replace("vlan20", "\"vlan20\\nhost x {\""),
        ["clusters/dev/web.yaml:4:3: error[invalid-value]: nodeNetworks.vlan20\\nhost x {: a "
         "name holds the character U+000A, a line break or control character",
         "clusters/dev/web.yaml:7:18: error[invalid-value]: network.nodes.nodeNetwork: a name "
         "holds the character U+000A, a line break or control character"]),
    "a ',' in a search domain (a comma-separated flat-config list)": (
        WEB + "network:\n  searchDomains:\n    worker: [\"corp.example.com,evil.example\"]\n",
        ["clusters/dev/web.yaml:5:14: error[invalid-value]: network.searchDomains.worker[0]: "
         "'corp.example.com,evil.example' is not a DNS name"]),
    "a ',' in an AWS region (a term of the OS image label selector)": (
        WEB.replace("10.0.0.10", "") .replace("controlPlane:\n  endpoint: \n", "")
        + "infrastructure: aws\nvsphere: null\naws:\n  region: \"us-east-1,os-name=photon\"\n"
          "  sshKeyName: k\n  subnets: [{az: us-east-1a}]\n",
        ["clusters/dev/web.yaml:4:11: error[invalid-value]: aws.region: 'us-east-1,os-name=photon' "
         "is written into the OS image label selector; it must be empty or at most 63 letters, "
         "digits, '-', '_' and '.', starting and ending with a letter or digit"]),
    "U+0085 in a value (YAML 1.1 reads a line break)": (
        WEB + "workers: [{name: md-0, replicas: 1, failureDomain: \"az\\u0085b\"}]\n",
        ["clusters/dev/web.yaml:3:52: error[invalid-value]: workers[0].failureDomain holds the "
         "character U+0085, which YAML 1.1 readers take as a line break",
         "  hint: remove it (or write the text on one line)"]),
    "U+2028 and U+2029 in annotation values": (
        WEB + "annotations:\n  a.example.com/x: \"a\\u2028b\"\n  a.example.com/y: \"a\\u2029b\"\n",
        ["clusters/dev/web.yaml:4:20: error[invalid-value]: annotations.a.example.com/x holds the "
         "character U+2028, which YAML 1.1 readers take as a line break",
         "  hint: remove it (or write the text on one line)",
         "clusters/dev/web.yaml:5:20: error[invalid-value]: annotations.a.example.com/y holds the "
         "character U+2029, which YAML 1.1 readers take as a line break",
         "  hint: remove it (or write the text on one line)"]),
}


@pytest.mark.parametrize("case", ITEM_3)
def test_a_value_that_would_break_its_output_is_refused_at_its_line(fleet: Path, case: str
                                                                    ) -> None:
    text, expected = ITEM_3[case]
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, expected)


def test_a_zone_id_no_longer_gets_around_duplicate_endpoint(fleet: Path) -> None:
    write(fleet, {WEB_FILE: WEB6, "clusters/dev/api.yaml": WEB6.replace("fd00::10", "fd00::10%x")})
    assert_refused(fleet, [
        f"clusters/dev/api.yaml:2:13: error[invalid-value]: controlPlane.endpoint: 'fd00::10%x' "
        f"is neither an IP address nor a DNS name: {ZONE}"])


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.text())
def test_the_yaml_filter_writes_every_text_so_that_it_reads_back_the_same(text: str) -> None:
    from generator.yaml.dump import dump_flow
    from generator.yaml.fast import load_fast
    for special in ("\x85", "\u2028", "\u2029", "\ufeff", "\x9b"):
        probe = f"a{special}b {text}"
        line = "k: " + dump_flow([probe, {probe: probe}]) + "\n"
        assert "\n" not in line[:-1]
        assert load_fast(line) == {"k": [probe, {probe: probe}]}


# --- item 7: crashes of the model --------------------------------------------------------------

CRASHES = {
    "a DHCP range that ends before it starts": (
        WEB + DHCP.format(range="10.40.0.100-10.40.0.50"),
        ["clusters/dev/web.yaml:6:18: error[invalid-value]: nodeNetworks.n1.dhcpRanges[0]: range "
         "'10.40.0.100-10.40.0.50' ends before it starts"]),
    "a DHCP range that does not parse": (
        WEB + DHCP.format(range="bogus"),
        ["clusters/dev/web.yaml:6:18: error[invalid-value]: nodeNetworks.n1.dhcpRanges[0]: "
         "'bogus' is not a valid IP, range, nor CIDR"]),
}


@pytest.mark.parametrize("case", CRASHES)
def test_what_crashed_the_model_is_a_located_error(fleet: Path, case: str) -> None:
    text, expected = CRASHES[case]
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, expected)


# --- item 9: values Kubernetes would refuse ----------------------------------------------------

KEY_RULE = ("must be a name of at most 63 letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit, with an optional DNS subdomain prefix and '/'")
VALUE_RULE = ("must be empty or at most 63 letters, digits, '-', '_' and '.', starting and ending "
              "with a letter or digit")
LONG = "x" * 64

ITEM_9 = {
    "a label key with a space": (
        WEB + "labels:\n  my key: a\n",
        [f"clusters/dev/web.yaml:4:3: error[invalid-value]: labels.my key: the label key "
         f"'my key' {KEY_RULE}"]),
    "a label value of 64 characters": (
        WEB + f"labels:\n  team: {LONG}\n",
        [f"clusters/dev/web.yaml:4:9: error[invalid-value]: labels.team: the label value "
         f"'{LONG}' {VALUE_RULE}"]),
    "a label value with a leading '-'": (
        WEB + "labels:\n  team: -platform\n",
        [f"clusters/dev/web.yaml:4:9: error[invalid-value]: labels.team: the label value "
         f"'-platform' {VALUE_RULE}"]),
    "a label key whose prefix is not a DNS subdomain": (
        WEB + "labels:\n  Example.COM/team: a\n",
        [f"clusters/dev/web.yaml:4:3: error[invalid-value]: labels.Example.COM/team: the label "
         f"key 'Example.COM/team' {KEY_RULE}"]),
    "an annotation key with two '/'": (
        WEB + "annotations:\n  a.example.com/b/c: x\n",
        [f"clusters/dev/web.yaml:4:3: error[invalid-value]: annotations.a.example.com/b/c: the "
         f"annotation key 'a.example.com/b/c' {KEY_RULE}"]),
    "a worker label with a trailing '.'": (
        WEB + "workers: [{name: md-0, replicas: 1, labels: {tier: gpu.}}]\n",
        [f"clusters/dev/web.yaml:3:52: error[invalid-value]: workers[0].labels.tier: the label "
         f"value 'gpu.' {VALUE_RULE}"]),
    "annotations of more than 256 KiB": (
        WEB + "annotations:\n  a.example.com/big: " + "x" * (256 * 1024) + "\n",
        ["clusters/dev/web.yaml:4:3: error[invalid-value]: annotations: the annotations take "
         "262161 bytes; Kubernetes allows at most 262144 (256 KiB)"]),
    "annotations fleetgen writes itself": (
        WEB + "annotations:\n  osInfo: windows,2019,amd64\n  tkg/plan: prod\n"
              "  tkg.tanzu.vmware.com/cluster-controlplane-endpoint: 10.9.9.9\n"
              "  run.tanzu.vmware.com/resolve-os-image: os-name=photon\n",
        ["clusters/dev/web.yaml:4:3: error[invalid-value]: annotations.osInfo: fleetgen writes "
         "the annotation 'osInfo' (from os:); set os: instead",
         "clusters/dev/web.yaml:5:3: error[invalid-value]: annotations.tkg/plan: fleetgen writes "
         "the annotation 'tkg/plan' (from plan:); set plan: instead",
         "clusters/dev/web.yaml:6:3: error[invalid-value]: annotations.tkg.tanzu.vmware.com/"
         "cluster-controlplane-endpoint: fleetgen writes the annotation "
         "'tkg.tanzu.vmware.com/cluster-controlplane-endpoint' (from controlPlane.endpoint); set "
         "controlPlane.endpoint instead",
         "clusters/dev/web.yaml:7:3: error[invalid-value]: annotations.run.tanzu.vmware.com/"
         "resolve-os-image: fleetgen writes the annotation "
         "'run.tanzu.vmware.com/resolve-os-image' (from os: and the infrastructure); set os: "
         "instead"]),
    "a label fleetgen writes itself": (
        WEB + "labels:\n  tkg.tanzu.vmware.com/cluster-name: other\n",
        ["clusters/dev/web.yaml:4:3: error[invalid-value]: labels.tkg.tanzu.vmware.com/"
         "cluster-name: fleetgen writes the label 'tkg.tanzu.vmware.com/cluster-name' (from the "
         "cluster's name); set name: instead"]),
    "replicas beyond int32": (
        WEB + "workers: [{name: md-0, replicas: 100000000000000000000, maxSurge: 2147483648}]\n",
        ["clusters/dev/web.yaml:3:34: error[invalid-value]: workers[0].replicas: 100000000000000"
         "000000 is more than the CRD's int32 allows (2147483647)",
         "clusters/dev/web.yaml:3:67: error[invalid-value]: workers[0].maxSurge: 2147483648 is "
         "more than the CRD's int32 allows (2147483647)"]),
    "control-plane replicas and CPUs beyond int32": (
        "controlPlane:\n  endpoint: 10.0.0.10\n  replicas: 100000000000000000001\n"
        "  machine: {numCPUs: 100000000000000000000}\n",
        ["clusters/dev/web.yaml:3:13: error[invalid-value]: controlPlane.replicas: 10000000000000"
         "0000001 is more than the CRD's int32 allows (2147483647)",
         "clusters/dev/web.yaml:4:22: error[invalid-value]: controlPlane.machine.numCPUs: "
         "100000000000000000000 is more than the CRD's int32 allows (2147483647)"]),
}


@pytest.mark.parametrize("case", ITEM_9)
def test_a_value_kubernetes_would_refuse_is_refused_at_its_line(fleet: Path, case: str) -> None:
    text, expected = ITEM_9[case]
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, expected)


def test_what_kubernetes_accepts_is_still_accepted(fleet: Path) -> None:
    """The edges of the rules: 63 characters, an empty value, '_' and '.', an upper-case
    annotation prefix (annotation keys are checked lower-cased), other run.tanzu.vmware.com keys,
    a zone-free IPv6 address, int32's maximum."""
    name = "a" + "-_." * 20 + "b"
    write(fleet, {WEB_FILE: WEB + (
        f"labels:\n  {name}: {name}\n  app.kubernetes.io/part-of: ''\n  A_b.C: Z_9.x\n"
        f"  {'d' * 63}.example.com/x: y\n"
        "annotations:\n  Example.COM/Owner: 'any text: even spaces, / and %'\n"
        "  run.tanzu.vmware.com/resolve-tkr: tkr.tanzu.vmware.com/v1.27\n"
        "workers: [{name: md-0, replicas: 2147483647, maxSurge: 2147483647}]\n"
        "network:\n  searchDomains:\n    worker: [corp.example.com, lab]\n")})
    result = fleetgen(fleet, "validate")
    assert result.exit_code == 0, result.output
    write(fleet, {"clusters/dev/api.yaml": API + RESERVATION.replace(
        "fd00:20::/64", "10.20.0.0/24").format(ip="10.20.0.31")})
    result = fleetgen(fleet, "validate")
    assert result.exit_code == 0, result.output
