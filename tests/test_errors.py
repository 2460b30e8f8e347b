"""Bad input gets a located error, all problems at once, exit 2, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import fleetgen
from support.fleets import small_fleet, snapshot, write_tree

GOOD = "controlPlane:\n  endpoint: 10.0.0.10\n"


def render_fails(root: Path) -> list[str]:
    before = snapshot(root)
    result = fleetgen(root, "render")
    assert result.exit_code == 2, result.output
    assert snapshot(root) == before, "a failed render must not write anything"
    assert not (root / "rendered").exists()
    return [line for line in result.stderr.splitlines()]


def test_malformed_yaml_points_at_the_line(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane:\n  endpoint: [10.0.0.10\nworkers: []\n")
    lines = render_fails(tmp_path)
    assert lines[0].startswith("clusters/dev/web.yaml:3:")
    assert "error[yaml-syntax]" in lines[0]


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=GOOD + "cni: antrea\ncni: calico\n")
    lines = render_fails(tmp_path)
    assert lines[0].startswith("clusters/dev/web.yaml:4:1: error[duplicate-key]: duplicate key")


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane:\n  endpoint: 10.0.0.10\n  replica: 3\n")
    lines = render_fails(tmp_path)
    assert lines[:2] == [
        "clusters/dev/web.yaml:3:3: error[unknown-key]: unknown key 'replica' in controlPlane",
        "  hint: did you mean 'replicas'?",
    ]


def test_unknown_key_in_defaults_points_at_the_defaults_file(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=GOOD)
    write_tree(tmp_path, {"clusters/dev/_defaults.yaml": "vsphere:\n  datastor: /x\n"})
    lines = render_fails(tmp_path)
    assert lines[0] == ("clusters/dev/_defaults.yaml:2:3: error[unknown-key]: "
                        "unknown key 'datastor' in vsphere (in cluster dev/web)")
    assert lines[1] == "  hint: did you mean 'datastore'?"


@pytest.mark.parametrize(("text", "expected"), [
    ("os:\n  version: 1.10\n",
     "clusters/dev/web.yaml:4:12: error[wrong-type]: os.version must be text, not the number 1.1"),
    ("controlPlane:\n  endpoint: 10.0.0.10\n  replicas: \"3\"\n",
     "clusters/dev/web.yaml:3:13: error[wrong-type]: controlPlane.replicas must be a whole number, "
     "not '3'"),
    ("vsphere:\n  cloneMode: off\n",
     "clusters/dev/web.yaml:4:14: error[invalid-value]: vsphere.cloneMode: 'off' is not allowed"),
    ("features:\n  cluster:\n    custom-nameservers: true\n",
     "clusters/dev/web.yaml:5:25: error[wrong-type]: features.cluster.custom-nameservers must be "
     "text, not the boolean true"),
])
def test_wrong_types_are_not_coerced(tmp_path: Path, text: str, expected: str) -> None:
    small_fleet(tmp_path, web=GOOD + text if not text.startswith("controlPlane") else text)
    lines = render_fails(tmp_path)
    assert expected in lines


def test_every_problem_of_every_file_at_once_sorted(tmp_path: Path) -> None:
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.1, replicas: 2}\n",
                b="controlPlane: {endpoint: 10.0.0.2}\nplan: staging\nbogus: 1\n")
    lines = [line for line in render_fails(tmp_path) if not line.startswith("  hint")]
    assert lines == [
        "clusters/dev/a.yaml:1:46: error[invalid-value]: controlPlane.replicas: control-plane "
        "replicas must be odd and at least 1 (etcd quorum), not 2",
        "clusters/dev/b.yaml:2:7: error[invalid-value]: plan: 'staging' is not allowed",
        "clusters/dev/b.yaml:3:1: error[unknown-key]: unknown key 'bogus'",
        "3 errors; nothing was written",
        "2 clusters could not be checked (they have errors above)",
    ]


def test_missing_key_names_the_file_and_hints_at_defaults(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/web.yaml": "infrastructure: vsphere\n"})
    lines = render_fails(tmp_path)
    assert "clusters/web.yaml:1:1: error[missing-key]: missing required key 'managementCluster'" \
        in lines
    assert "  hint: add 'managementCluster:' here or in a _defaults.yaml above this file" in lines


def test_not_a_mapping(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="- just\n- a list\n")
    assert render_fails(tmp_path)[0] == (
        "clusters/dev/web.yaml:1:1: error[not-a-mapping]: an inventory file must be a mapping of "
        "keys to values")


def test_failure_leaves_an_existing_rendered_tree_untouched(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=GOOD)
    assert fleetgen(tmp_path, "render").exit_code == 0
    before = snapshot(tmp_path / "rendered")
    write_tree(tmp_path, {"clusters/dev/web.yaml": GOOD + "workers: [{name: md-0, replicas: 5}]\n",
                          "clusters/dev/bad.yaml": "controlPlane: {endpoint: 10.0.0.99}\ncni: x\n"})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert snapshot(tmp_path / "rendered") == before


def test_json_and_github_formats(tmp_path: Path) -> None:
    small_fleet(tmp_path, web="controlPlane:\n  endpoint: 10.0.0.10\n  replica: 3\n")
    result = fleetgen(tmp_path, "validate", "--format", "json")
    assert result.exit_code == 2
    import json
    assert json.loads(result.stdout) == [{
        "path": "clusters/dev/web.yaml", "line": 3, "col": 3, "code": "unknown-key",
        "severity": "error", "message": "unknown key 'replica' in controlPlane",
        "hint": "did you mean 'replicas'?", "clusters": []}]
    result = fleetgen(tmp_path, "validate", "--format", "github")
    assert result.stdout.strip() == (
        "::error file=clusters/dev/web.yaml,line=3,col=3,title=unknown-key::unknown key 'replica' "
        "in controlPlane (hint: did you mean 'replicas'?)")


def test_no_clusters_folder(tmp_path: Path) -> None:
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert "error[no-clusters]" in result.stderr


def test_read_only_commands_do_not_say_nothing_was_written(tmp_path: Path) -> None:
    """Issue 19: 'nothing was written' is news only from a command that writes; a usage problem
    is at no place, so no '.:' before it."""
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.1, replicas: 2}\n")
    validate = fleetgen(tmp_path, "validate")
    assert validate.exit_code == 2
    assert validate.stderr.splitlines()[-1] == "1 error"
    render = fleetgen(tmp_path, "render")
    assert render.stderr.splitlines()[-1] == "1 error; nothing was written"
    usage = fleetgen(tmp_path, "diff", "--against", "main", "--base", "main", "--head", "HEAD")
    assert usage.stderr.splitlines() == [
        "error[usage]: --against cannot be combined with --base/--head",
        "  hint: compare with rendered/ at a revision (--against REF) or what two commits render "
        "to (--base REF --head REF), not both",
        "1 error"]


def test_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    """Issue 19: '1 cluster, 1 node pool', never '1 clusters'."""
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.1}\n")
    result = fleetgen(tmp_path, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("1 cluster, ")
    assert result.stdout.rstrip().endswith(": valid")
    assert "clusters" not in result.stdout.split(",")[0]


@pytest.mark.parametrize(("text", "at"), [
    ('controlPlane: {endpoint: 10.0.0.1}\nnote: "unterminated value\ncni: antrea\n', "2:7"),
    ("controlPlane: {endpoint: 10.0.0.1}\nlabels: {a: b\ncni: antrea\n", "3:4"),
])
def test_an_unclosed_quote_or_bracket_is_reported_where_it_opens(tmp_path: Path, text: str,
                                                                  at: str) -> None:
    """Issue 19: not at the end of the file, where the scanner gave up; where the parser stops
    inside an open bracket, the message says where the bracket opens."""
    small_fleet(tmp_path, a=text)
    first = render_fails(tmp_path)[0]
    assert first.startswith(f"clusters/dev/a.yaml:{at}: error[yaml-syntax]: "), first
    if at == "3:4":
        assert first.endswith("(it starts at line 2, column 9)"), first


def test_bounds_are_in_fleetgens_words_not_pydantics(tmp_path: Path) -> None:
    """Issue 19: no 'Input should be …' nor 'List should have …' reaches a user."""
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.1}\n"
                            "workers: [{name: md-0, replicas: -1}]\n"
                            "sshAuthorizedKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA a, "
                            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB b]\n")
    lines = render_fails(tmp_path)
    assert "clusters/dev/a.yaml:2:34: error[invalid-value]: workers[0].replicas must be at least "\
           "0, not the number -1" in lines
    assert "clusters/dev/a.yaml:3:20: error[invalid-value]: sshAuthorizedKeys must hold at most "\
           "1 item, not 2" in lines
    assert not [line for line in lines if "should" in line or "Value error" in line]


def test_a_missing_fleetgen_yaml_key_hints_at_fleetgen_yaml_only(tmp_path: Path) -> None:
    small_fleet(tmp_path, a="controlPlane: {endpoint: 10.0.0.1}\n")
    write_tree(tmp_path, {"fleetgen.yaml": "credentials:\n  vsphere:\n    externalSecret: {key: x}\n"})
    lines = render_fails(tmp_path)
    missing = [i for i, line in enumerate(lines) if "error[missing-key]" in line]
    assert missing, lines
    assert lines[missing[0]].startswith("fleetgen.yaml:3:5: error[missing-key]: missing required key ")
    assert lines[missing[0] + 1] == "  hint: add '" + lines[missing[0]].split("'")[1] + ":' here"


def test_an_identity_ref_written_as_kind_slash_name_hints_at_the_mapping(tmp_path: Path) -> None:
    """Issue 19: `identityRef: AWSClusterControllerIdentity/default` gets a hint, not a bare
    wrong-type."""
    write_tree(tmp_path, {"clusters/_defaults.yaml": (
        "managementCluster: mgmt-a\ninfrastructure: aws\nnamespace: dev\n"
        "kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n"
        "aws: {region: eu-west-1, sshKeyName: k, identityRef: AWSClusterControllerIdentity/default}\n"),
        "clusters/dev/shop.yaml": "plan: dev\n"})
    lines = render_fails(tmp_path)
    assert lines[:2] == [
        "clusters/_defaults.yaml:5:54: error[wrong-type]: aws.identityRef must be a mapping, not "
        "'AWSClusterControllerIdentity/default' (in cluster dev/shop)",
        "  hint: identityRef is a mapping: {kind: AWSClusterRoleIdentity, name: NAME} (kind: "
        "AWSClusterRoleIdentity, AWSClusterStaticIdentity or AWSClusterControllerIdentity) "
        "(here: {kind: AWSClusterControllerIdentity, name: default})"]
