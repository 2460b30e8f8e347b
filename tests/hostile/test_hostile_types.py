"""Hostile types (issue 9, stage 2): the YAML 1.1 / 1.2 ambiguities and unknown fields.

Inventories are read as YAML 1.2 into a strict model, so nothing is ever silently retyped:

* ``off``/``yes`` are text; where a boolean is expected they are refused with "write false/true";
  where text is expected they stay text and are written quoted, so no YAML 1.1 reader retypes them;
* ``1.10`` is a number; where text is expected it is refused with "put it in quotes";
* ``0755`` (755 in YAML 1.2, 493 in YAML 1.1), ``1_000``, ``2024-01-01`` and ``=`` cannot be read
  the same way by every reader, so they are refused at load time, quoted or not being the fix;
* ``"3"`` is text; where a whole number is expected it is refused with "write it without quotes";
* an unknown field is refused with a did-you-mean hint, in any file of the defaults chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_refused, state, write

POOL = ("ipPools:\n  p:\n    addresses: [10.0.0.20-10.0.0.30]\n    prefix: 24\n"
        "    gateway: 10.0.0.1\n")


CASES = {
    "off for a boolean": (
        WEB + POOL + "    allocateReservedIPAddresses: off\n",
        ["clusters/dev/web.yaml:8:34: error[wrong-type]: ipPools.p.allocateReservedIPAddresses "
         "must be true or false, not 'off'",
         "  hint: YAML 1.2 reads off as text, not as a boolean (YAML 1.1 did); write false"]),
    "yes for a boolean": (
        WEB + POOL + "    allocateReservedIPAddresses: yes\n",
        ["clusters/dev/web.yaml:8:34: error[wrong-type]: ipPools.p.allocateReservedIPAddresses "
         "must be true or false, not 'yes'",
         "  hint: YAML 1.2 reads yes as text, not as a boolean (YAML 1.1 did); write true"]),
    "quoted true for a boolean": (
        WEB + POOL + "    allocateReservedIPAddresses: \"true\"\n",
        ["clusters/dev/web.yaml:8:34: error[wrong-type]: ipPools.p.allocateReservedIPAddresses "
         "must be true or false, not 'true'",
         "  hint: write it without quotes"]),
    "off for a choice": (
        WEB + "vsphere:\n  cloneMode: off\n",
        ["clusters/dev/web.yaml:4:14: error[invalid-value]: vsphere.cloneMode: 'off' is not "
         "allowed",
         "  hint: use one of: fullClone, linkedClone"]),
    "1.10 for text": (
        WEB + "os:\n  version: 1.10\n",
        ["clusters/dev/web.yaml:4:12: error[wrong-type]: os.version must be text, not the number "
         "1.1",
         "  hint: YAML read this as a number or boolean; put it in quotes to keep it as text"]),
    "0755 for text": (
        WEB + "labels:\n  mode: 0755\n",
        ["clusters/dev/web.yaml:4:9: error[yaml-ambiguous]: '0755' is the number 755 in YAML 1.2 "
         "but the octal number 493 in YAML 1.1",
         "  hint: quote it (\"0755\") if it is text, or write the number without leading zeros "
         "or '_'"]),
    "0755 for a number": (
        WEB + "workers: [{name: md-0, replicas: 0755}]\n",
        ["clusters/dev/web.yaml:3:34: error[yaml-ambiguous]: '0755' is the number 755 in YAML "
         "1.2 but the octal number 493 in YAML 1.1",
         "  hint: quote it (\"0755\") if it is text, or write the number without leading zeros "
         "or '_'"]),
    "\"3\" for a number": (
        "controlPlane:\n  endpoint: 10.0.0.10\n  replicas: \"3\"\n",
        ["clusters/dev/web.yaml:3:13: error[wrong-type]: controlPlane.replicas must be a whole "
         "number, not '3'",
         "  hint: write it without quotes"]),
    "1_000 for a number": (
        WEB + "workers: [{name: md-0, replicas: 1_000}]\n",
        ["clusters/dev/web.yaml:3:34: error[yaml-ambiguous]: '1_000' is text in YAML 1.2 but a "
         "number in YAML 1.1",
         "  hint: quote it (\"1_000\") if it is text, or write the number without leading zeros "
         "or '_'"]),
    "a date for text": (
        WEB + "annotations:\n  since: 2024-01-01\n",
        ["clusters/dev/web.yaml:4:10: error[yaml-ambiguous]: '2024-01-01' is text in YAML 1.2 "
         "but a date in YAML 1.1",
         "  hint: quote it (\"2024-01-01\") if it is text"]),
    "= for text": (
        WEB + "labels:\n  op: =\n",
        ["clusters/dev/web.yaml:4:7: error[yaml-ambiguous]: '=' is text in YAML 1.2 but a "
         "special value in YAML 1.1",
         "  hint: quote it (\"=\") if it is text"]),
    "every ambiguity at once": (
        WEB + "labels:\n  a: 0755\n  b: 2024-01-01\n",
        ["clusters/dev/web.yaml:4:6: error[yaml-ambiguous]: '0755' is the number 755 in YAML 1.2 "
         "but the octal number 493 in YAML 1.1",
         "  hint: quote it (\"0755\") if it is text, or write the number without leading zeros "
         "or '_'",
         "clusters/dev/web.yaml:5:6: error[yaml-ambiguous]: '2024-01-01' is text in YAML 1.2 but "
         "a date in YAML 1.1",
         "  hint: quote it (\"2024-01-01\") if it is text"]),
    "unknown top-level field": (
        WEB + "netwrok: {}\n",
        ["clusters/dev/web.yaml:3:1: error[unknown-key]: unknown key 'netwrok'",
         "  hint: did you mean 'network'?"]),
    "unknown nested field": (
        WEB + "network:\n  ipFamilly: ipv4\n",
        ["clusters/dev/web.yaml:4:3: error[unknown-key]: unknown key 'ipFamilly' in network",
         "  hint: did you mean 'ipFamily'?"]),
    "unknown field in a list item": (
        WEB + "workers: [{name: md-0, replica: 2}]\n",
        ["clusters/dev/web.yaml:3:11: error[missing-key]: missing required key 'replicas' in "
         "workers[0]",
         "  hint: add 'replicas:' here or in a _defaults.yaml above this file",
         "clusters/dev/web.yaml:3:24: error[unknown-key]: unknown key 'replica' in workers[0]",
         "  hint: did you mean 'replicas'?"]),
    "unknown field without a near match": (
        WEB + "zzzz: 1\n",
        ["clusters/dev/web.yaml:3:1: error[unknown-key]: unknown key 'zzzz'"]),
    "the wrong case": (
        WEB + "ControlPlane: {replicas: 3}\n",
        ["clusters/dev/web.yaml:3:1: error[unknown-key]: unknown key 'ControlPlane'",
         "  hint: did you mean 'controlPlane'?"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_ambiguous_and_unknown_values_are_refused_with_a_hint(fleet: Path, case: str) -> None:
    text, expected = CASES[case]
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, expected)


def test_an_unknown_field_in_a_defaults_file_points_there(fleet: Path) -> None:
    write(fleet, {"clusters/dev/_defaults.yaml": "vsphere:\n  datastor: /x\n"})
    assert_refused(fleet, [
        ("clusters/dev/_defaults.yaml:2:3: error[unknown-key]: unknown key 'datastor' in vsphere"
         " (in clusters dev/api, dev/web)"),
        "  hint: did you mean 'datastore'?"])


@pytest.mark.parametrize("word", ["off", "yes", "no", "on", "y", "1:20"])
def test_a_yaml11_word_where_text_is_expected_stays_text_and_is_written_quoted(
        fleet: Path, word: str) -> None:
    write(fleet, {WEB_FILE: WEB + f"annotations:\n  flag: {word}\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    cluster = (fleet / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()
    assert f"flag: '{word}'" in cluster


def test_quoting_is_the_fix(fleet: Path) -> None:
    write(fleet, {WEB_FILE: WEB + "labels: {mode: \"0755\", since: '2024-01-01'}\n"
                  "os: {version: \"1.10\"}\n"})
    before = state(fleet)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert state(fleet) != before
    cluster = (fleet / "rendered/mgmt-a/dev/web/cluster.yaml").read_text()
    assert "mode: '0755'" in cluster and "since: '2024-01-01'" in cluster
