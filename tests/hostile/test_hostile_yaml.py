"""Hostile YAML (issue 9, stage 1): every malformed or dangerous inventory is refused with exit 2
and a located message, and the existing rendered/ tree is left byte- and mtime-identical, with
no temporary file and no lock behind. Nothing is expanded, constructed or built before the
screen in ``generator.yaml.screen`` has looked at the event stream."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from generator.yaml.fast import AliasRefused, load_fast, load_fast_all
from generator.yaml.load import load_inventory_data, load_positioned
from generator.problems import FleetError
from support.cli import fleetgen
from support.hostile import WEB, WEB_FILE, assert_refused, state, write


def bomb(levels: int, width: int = 9) -> str:
    """The billion-laughs document: ``width ** levels`` leaves once expanded."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return WEB + "\n".join(lines) + "\n"


CASES = {
    "unclosed flow list": (
        WEB + "workers: [{name: md-0, replicas: 1}\n",
        ["clusters/dev/web.yaml:4:1: error[yaml-syntax]: while parsing a flow sequence did not "
         "find expected ',' or ']' (it starts at line 3, column 10)"]),
    "tab indentation": (
        "controlPlane:\n\tendpoint: 10.0.0.10\n",
        ["clusters/dev/web.yaml:2:1: error[yaml-syntax]: while scanning for the next token found "
         "character that cannot start any token"]),
    "mapping value in a plain scalar": (
        WEB + "cni: antrea: calico\n",
        ["clusters/dev/web.yaml:3:12: error[yaml-syntax]: mapping values are not allowed in this "
         "context"]),
    "duplicate key": (
        WEB + "cni: antrea\ncni: calico\n",
        ["clusters/dev/web.yaml:4:1: error[duplicate-key]: duplicate key 'cni' (first at line 3)",
         "  hint: a key may appear only once in a mapping"]),
    "duplicate nested key, quoted once": (
        "controlPlane:\n  endpoint: 10.0.0.10\n  replicas: 1\n  \"endpoint\": 10.0.0.12\n",
        ["clusters/dev/web.yaml:4:3: error[duplicate-key]: duplicate key 'endpoint' "
         "(first at line 2)",
         "  hint: a key may appear only once in a mapping"]),
    "duplicate key in a flow mapping": (
        WEB + "os: {name: ubuntu, name: photon}\n",
        ["clusters/dev/web.yaml:3:20: error[duplicate-key]: duplicate key 'name' (first at line 3, "
         "column 6)",
         "  hint: a key may appear only once in a mapping"]),
    "alias bomb": (
        bomb(9),
        ["clusters/dev/web.yaml:4:10: error[yaml-alias]: anchors and aliases are not supported in "
         "inventories",
         "  hint: put shared values in a _defaults.yaml"]),
    "merge key": (
        WEB + "<<: {cni: calico}\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-alias]: merge keys ('<<') are not supported in "
         "inventories",
         "  hint: put shared values in a _defaults.yaml"]),
    "nesting depth 1,000 (flow)": (
        WEB + "labels: " + "[" * 1000 + "]" * 1000 + "\n",
        ["clusters/dev/web.yaml:3:72: error[yaml-depth]: nesting deeper than 64 levels"]),
    "nesting depth 1,000 (block)": (
        WEB + "".join(f"{' ' * i}k{i}:\n" for i in range(1000)) + " " * 1000 + "x: 1\n",
        ["clusters/dev/web.yaml:67:65: error[yaml-depth]: nesting deeper than 64 levels"]),
    "python object tag": (
        WEB + "cni: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        ["clusters/dev/web.yaml:3:6: error[yaml-tag]: the tag "
         "tag:yaml.org,2002:python/object/apply:os.system is not supported",
         "  hint: remove the tag; inventories hold plain values"]),
    "unknown local tag": (
        WEB + "cni: !vault antrea\n",
        ["clusters/dev/web.yaml:3:6: error[yaml-tag]: the tag !vault is not supported",
         "  hint: remove the tag; inventories hold plain values"]),
    "standard tag the model has no use for": (
        WEB + "labels: !!set {a, b}\n",
        ["clusters/dev/web.yaml:3:9: error[yaml-tag]: the tag tag:yaml.org,2002:set is not "
         "supported",
         "  hint: remove the tag; inventories hold plain values"]),
    "NUL byte": (
        WEB + "cni: an\x00trea\n",
        ["clusters/dev/web.yaml:3:8: error[encoding]: the character U+0000 (NUL) is not allowed "
         "in YAML",
         "  hint: remove it; inventories are plain UTF-8 text"]),
    "terminal escape": (
        WEB + "cni: \x1b[2Jantrea\n",
        ["clusters/dev/web.yaml:3:6: error[encoding]: the character U+001B (ESC) is not allowed "
         "in YAML",
         "  hint: remove it; inventories are plain UTF-8 text"]),
    "several documents": (
        WEB + "---\ncni: calico\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-documents]: an inventory file holds one document, "
         "not several",
         "  hint: remove the '---' separator"]),
    "a list, not a mapping": (
        "- controlPlane\n- endpoint\n",
        ["clusters/dev/web.yaml:1:1: error[not-a-mapping]: an inventory file must be a mapping of "
         "keys to values",
         "  hint: start the file with keys such as 'managementCluster:'"]),
    "a number key": (
        WEB + "1: x\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-key]: keys must be text, not a number",
         "  hint: put the key in quotes"]),
    "a boolean key": (
        WEB + "true: x\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-key]: keys must be text, not a boolean",
         "  hint: put the key in quotes"]),
    "a null key": (
        WEB + "~: x\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-key]: keys must be text, not null",
         "  hint: put the key in quotes"]),
    "a list key": (
        WEB + "? [a, b]\n: x\n",
        ["clusters/dev/web.yaml:3:3: error[yaml-key]: keys must be text, not a list",
         "  hint: write the key as plain text"]),
    "a mapping key": (
        WEB + "{a: 1}: x\n",
        ["clusters/dev/web.yaml:3:1: error[yaml-key]: keys must be text, not a mapping",
         "  hint: write the key as plain text"]),
    "a file of a million characters": (
        WEB + "# " + "x" * 1_000_000 + "\n",
        ["clusters/dev/web.yaml:1:1: error[yaml-size]: the file has 1000039 characters, more "
         "than the 1000000 an inventory file may have"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hostile_yaml_is_refused_with_a_located_message(fleet: Path, case: str) -> None:
    text, expected = CASES[case]
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, expected)


def test_every_command_that_reads_the_inventory_refuses_it_the_same_way(fleet: Path) -> None:
    write(fleet, {WEB_FILE: bomb(9)})
    expected = CASES["alias bomb"][1]
    assert_refused(fleet, expected, "render", "--check")
    assert_refused(fleet, expected, "validate")
    assert_refused(fleet, expected, "diff")


def test_a_defaults_file_is_screened_like_a_cluster_file(fleet: Path) -> None:
    write(fleet, {"clusters/dev/_defaults.yaml": "cni: !!python/name:os.system\n"})
    assert_refused(fleet, [
        "clusters/dev/_defaults.yaml:1:6: error[yaml-tag]: the tag "
        "tag:yaml.org,2002:python/name:os.system is not supported",
        "  hint: remove the tag; inventories hold plain values"])


def test_an_alias_bomb_is_refused_fast_in_bounded_memory_before_any_expansion() -> None:
    text = bomb(30)  # 9 ** 30 leaves: no machine could build it
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FleetError) as caught:
        load_positioned(text, "bomb.yaml")
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [p.code for p in caught.value.problems] == ["yaml-alias"]
    assert elapsed < 1.0
    assert peak < 5_000_000
    with pytest.raises(FleetError):
        load_inventory_data(text, "bomb.yaml")


def test_aliases_in_generated_yaml_are_refused_too() -> None:
    # Template output and kubectl exports go through the fast loader; an alias there would
    # expand when the documents are written out.
    with pytest.raises(AliasRefused):
        load_fast(bomb(30))
    with pytest.raises(AliasRefused):
        load_fast_all("a: 1\n---\n" + bomb(30))
    assert load_fast("a: '*not an alias*'\n") == {"a": "*not an alias*"}


def test_a_pool_file_for_ipam_migrate_is_screened(tmp_path: Path) -> None:
    pools = write(tmp_path, {"pools.yaml": bomb(9)}) / "pools.yaml"
    result = fleetgen(None, "ipam", "migrate", str(pools))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{pools}:4:10: error[yaml-alias]: anchors and aliases are not supported in inventories")
    assert pools.read_text() == bomb(9)


def test_a_live_export_with_an_alias_is_refused(fleet: Path) -> None:
    export = write(fleet, {"export.yaml": "kind: List\nitems: &i []\nmore: *i\n"}) / "export.yaml"
    assert_refused(fleet, [
        f"{export}:3:7: error[live-export]: not valid YAML: anchors and aliases are not allowed "
        "here"], "ipam", "plan", "--live", str(export))


def test_invalid_utf8_is_refused(fleet: Path) -> None:
    (fleet / WEB_FILE).write_bytes(WEB.encode() + b"cni: \xff\xfe\n")
    assert_refused(fleet, [
        "clusters/dev/web.yaml:3:6: error[encoding]: not UTF-8 text (invalid start byte)"])


def test_invalid_utf8_points_at_the_byte(fleet: Path) -> None:
    (fleet / WEB_FILE).write_bytes(WEB.encode() + b"cni: \xff\xfe\n")
    result = fleetgen(fleet, "render")
    assert result.stderr.startswith("clusters/dev/web.yaml:3:6: error[encoding]")


def test_a_byte_order_mark_is_accepted_and_changes_nothing(fleet: Path) -> None:
    before = state(fleet)
    write(fleet, {WEB_FILE: "\ufeff" + WEB})
    result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stdout) == (0, "rendered/ is up to date\n")
    assert state(fleet) == before


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_cluster_file_is_a_cluster_with_only_its_defaults(fleet: Path, text: str) -> None:
    # An empty file is an empty mapping: the cluster gets every value from _defaults.yaml, and
    # whatever is still missing is reported at the top of the file.
    write(fleet, {WEB_FILE: text})
    assert_refused(fleet, [
        "clusters/dev/web.yaml:1:1: error[endpoint-required]: a vSphere cluster with kube-vip "
        "needs controlPlane.endpoint",
        "  hint: set a free static IP (or a DNS name) for the API server, or use "
        "endpointProvider: nsx-alb"])


def test_an_empty_defaults_file_changes_nothing(fleet: Path) -> None:
    before = state(fleet)
    write(fleet, {"clusters/dev/_defaults.yaml": ""})
    result = fleetgen(fleet, "render")
    assert (result.exit_code, result.stdout) == (0, "rendered/ is up to date\n")
    assert state(fleet) == before


def test_every_problem_is_one_line_whatever_the_value_holds(fleet: Path) -> None:
    # A double-quoted escape puts control characters into a value; they are printed escaped, so
    # a value cannot forge a problem line or drive the terminal.
    write(fleet, {WEB_FILE: WEB + 'cni: "x\\nclusters/dev/api.yaml:1:1: error[fake]: \\e[2J"\n'})
    assert_refused(fleet, [
        "clusters/dev/web.yaml:3:6: error[invalid-value]: cni: 'x\\nclusters/dev/api.yaml:1:1: "
        "error[fake]: \\x1b[2J' is not allowed",
        "  hint: use one of: antrea, calico, none"])
