"""The command line as people meet it: schema, explain, help, and the exit codes of product.md."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

import generator.pipeline
from support.cli import fleetgen

REPO = Path(__file__).resolve().parents[1]


def test_schema_is_valid_json_schema_and_accepts_every_example_file() -> None:
    result = fleetgen(None, "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    files = sorted(p for p in (REPO / "clusters").rglob("*.yaml")
                   if not p.name.endswith(".overlay.yaml"))
    assert len(files) > 10
    for path in files:
        doc = YAML(typ="safe").load(path.read_text()) or {}
        assert list(validator.iter_errors(doc)) == [], path


def test_schema_rejects_unknown_keys_and_wrong_types() -> None:
    schema = json.loads(fleetgen(None, "schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"controlPlane": {"replica": 3}})
    assert not validator.is_valid({"os": {"version": 1.1}})
    assert validator.is_valid({"controlPlane": {"replicas": 3}})


def test_explain_shows_value_and_origin() -> None:
    result = fleetgen(REPO, "explain", "payments", "network.nameservers")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        'network.nameservers.controlPlane  ["10.10.10.10", "10.10.10.11"]  '
        "(clusters/site-a/prod/payments.yaml:10:19)",
        'network.nameservers.worker        ["10.10.10.10", "10.10.10.11"]  '
        "(clusters/site-a/prod/payments.yaml:11:13)",
    ]


def test_explain_tells_inherited_and_default_values_apart() -> None:
    lines = fleetgen(REPO, "explain", "mgmt-site-a/dev/web").stdout.splitlines()
    by_field = {line.split()[0]: line for line in lines}
    assert by_field["managementCluster"].endswith("(clusters/site-a/_defaults.yaml:3:20)")
    assert by_field["network.pods"].endswith('["100.96.0.0/11"]  (from ipFamily ipv4)')
    assert by_field["name"].endswith("(file name)")


def test_explain_ambiguous_and_unknown_names_exit_2() -> None:
    ambiguous = fleetgen(REPO, "explain", "sandbox")
    assert ambiguous.exit_code == 2
    assert "error[ambiguous-cluster]" in ambiguous.stderr
    assert fleetgen(REPO, "explain", "nope").exit_code == 2
    assert "error[unknown-field]" in fleetgen(REPO, "explain", "payments", "nope").stderr


def test_unexpected_error_exits_3_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(generator.pipeline, "render", boom)
    result = fleetgen(REPO, "render", "--check")
    assert result.exit_code == 3
    assert "An unexpected error has occurred: RuntimeError: disk on fire" in result.stderr
    assert "Traceback" not in result.stderr


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(generator.pipeline, "load_fleet", interrupted)
    assert fleetgen(REPO, "validate").exit_code == 130


@pytest.mark.parametrize("command", ["render", "validate", "explain", "schema"])
def test_every_command_help_has_an_example(command: str) -> None:
    result = fleetgen(None, command, "--help")
    assert result.exit_code == 0
    assert "Example: fleetgen " + command in result.stdout


def test_validate_example_fleet() -> None:
    result = fleetgen(REPO, "validate")
    assert result.exit_code == 0
    assert result.stdout.strip() == "13 clusters, 2 node pools: valid"


def test_committed_schema_is_current_and_every_inventory_points_at_it() -> None:
    committed = (REPO / ".fleetgen/inventory.schema.json").read_text()
    assert committed == fleetgen(None, "schema").stdout, \
        "refresh with: fleetgen schema > .fleetgen/inventory.schema.json"
    for path in sorted((REPO / "clusters").rglob("*.yaml")):
        if path.name.endswith(".overlay.yaml"):
            continue
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == (REPO / ".fleetgen/inventory.schema.json").resolve(), path


def test_shell_completion_completes_commands_and_options() -> None:
    import os
    import subprocess
    import sys

    def complete(words: str, index: int) -> list[str]:
        env = {**os.environ, "_FLEETGEN_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(index)}
        done = subprocess.run([sys.executable, "-m", "generator"], env=env, capture_output=True,
                              text=True, check=True)
        return done.stdout.split()

    assert complete("fleetgen ip", 1) == ["ipam"]
    assert complete("fleetgen diff --fa", 2) == ["--fail-on"]


def test_render_takes_the_launchers_stamp_lookup_instead_of_reading_the_fleet_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher hands the lookup it made (no stamp answered) to the render command as the
    command line's context object; the fleet's inputs are not read a second time."""
    from typer.testing import CliRunner

    from generator.cli import app
    from generator.commands import render
    from support.fleets import small_fleet

    root = small_fleet(tmp_path / "fleet").resolve()

    def read_again(root: Path) -> None:
        raise AssertionError("the fleet's inputs were read twice")

    monkeypatch.setattr(render, "inputs_of", read_again)
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))
    looked_up = render.Lookup(root, answered=False, inputs=None)
    result = CliRunner().invoke(app, ["render", "--root", str(root)], obj=looked_up,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (root / "rendered").is_dir()
    again = CliRunner().invoke(app, ["render", "--check", "--root", str(root)])  # without it
    assert again.exit_code == 3 and "read twice" in again.stderr


def test_version_prints_the_package_version() -> None:
    """`fleetgen --version` (issue 19): the version pyproject.toml gives the package."""
    import tomllib
    from importlib.metadata import version

    from support.cli import fleetgen
    declared = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml")
                             .read_text())["project"]["version"]
    result = fleetgen(None, "--version")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"fleetgen {declared} (from ")
    assert version("fleetgen") == declared


def test_commands_find_the_fleet_root_upwards_as_git_does(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`cd clusters/site-a && fleetgen validate` works (issue 19), in-process and through the
    launcher's stamped fast path."""
    import subprocess
    import sys

    from support.cli import fleetgen
    from support.fleets import VSPHERE_DEFAULTS, write_tree
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS,
                          "clusters/dev/web.yaml": "controlPlane: {endpoint: 10.9.0.1}\n"})
    deep = tmp_path / "clusters" / "dev"
    monkeypatch.chdir(deep)
    result = fleetgen(None, "validate")
    assert result.exit_code == 0, result.stderr
    assert fleetgen(None, "render").exit_code == 0
    assert (tmp_path / "rendered/mgmt-a/dev/web/cluster.yaml").is_file()
    assert fleetgen(None, "render", "--root", str(deep), "--check").exit_code == 0
    done = subprocess.run([sys.executable, "-m", "generator", "render", "--check"], cwd=deep,
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "rendered/ is up to date\n"), done.stderr


def test_root_discovery_stops_at_the_git_repository(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository inside a fleet's folder is not part of that fleet."""
    from support.cli import fleetgen
    from support.fleets import VSPHERE_DEFAULTS, write_tree
    from support.gitrepo import init
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS,
                          "clusters/dev/web.yaml": "controlPlane: {endpoint: 10.9.0.1}\n"})
    inner = tmp_path / "vendor" / "other"
    inner.mkdir(parents=True)
    init(inner)
    monkeypatch.chdir(inner)
    result = fleetgen(None, "validate")
    assert result.exit_code == 2
    assert "clusters" in result.stderr and "Traceback" not in result.stderr


def test_help_shows_no_python_types() -> None:
    """Issue 19: `<list[str]>`, `<list[Path]>` and `<str>` are Python, not usage."""
    import re

    import typer.main

    from generator.cli import app
    from support.cli import fleetgen

    def paths(command: object, prefix: list[str]) -> list[list[str]]:
        subs = getattr(command, "commands", None)
        if not isinstance(subs, dict):
            return [prefix]
        return [p for name, sub in sorted(subs.items()) for p in paths(sub, [*prefix, name])]

    for args in paths(typer.main.get_command(app), []):
        text = fleetgen(None, *args, "--help").stdout
        leaked = re.findall(r"<(?:list\[[^>]*\]|str|int|Path|float)>", text)
        assert not leaked, (args, leaked)


def _explained_fleet(root: Path) -> Path:
    from support.fleets import VSPHERE_DEFAULTS, write_tree
    return write_tree(root, {
        "clusters/_defaults.yaml": VSPHERE_DEFAULTS + "plan: prod\n",
        "clusters/dev/web.yaml": "controlPlane: {endpoint: 10.9.0.1}\noverlays: [big]\n",
        "clusters/dev/web.overlay.yaml": (
            "patches:\n- target: {kind: Cluster}\n  patch: |\n"
            "    - op: add\n      path: /metadata/labels/tier\n      value: gold\n"),
        "overlays/base/overlay.yaml": "labels:\n- pairs: {team: ops}\n",
        "overlays/big/overlay.yaml": (
            "components: [../base]\npatches:\n- target: {kind: Cluster}\n  patch: |\n"
            "    apiVersion: cluster.x-k8s.io/v1beta1\n    kind: Cluster\n"
            "    metadata: {name: any}\n    spec:\n      topology:\n        variables:\n"
            "        - name: worker\n          value: {machine: {numCPUs: 8}}\n")})


def test_explain_names_the_plan_family_and_infrastructure_behind_defaults(tmp_path: Path) -> None:
    """Issue 19: 'from plan prod' rather than '(default)' where the plan decides."""
    root = _explained_fleet(tmp_path)
    lines = fleetgen(root, "explain", "web").stdout.splitlines()
    by_field = {line.split()[0]: line for line in lines}
    assert by_field["controlPlane.replicas"].endswith("3  (from plan prod)")
    assert by_field["workers[2].replicas"].endswith("(from plan prod)")
    assert by_field["network.services"].endswith("(from ipFamily ipv4)")
    assert by_field["kubernetes.class"].endswith("(from infrastructure vsphere)")
    assert by_field["plan"].endswith("(clusters/_defaults.yaml:13:7)")


def test_explain_lists_what_the_overlays_change_at_their_patches(tmp_path: Path) -> None:
    root = _explained_fleet(tmp_path)
    result = fleetgen(root, "explain", "web")
    assert result.exit_code == 0, result.stderr
    tail = result.stdout.splitlines()[-4:]
    assert tail == [
        "overlays (applied to the rendered objects after the values above, in this order):",
        "  overlays/base/overlay.yaml  common labels on every object: team",
        "  overlays/big/overlay.yaml:3:3  patches[0] on kind=Cluster: "
        "spec.topology.variables[name=worker].value.machine.numCPUs",
        "  clusters/dev/web.overlay.yaml:2:3  patches[0] on kind=Cluster: "
        "add /metadata/labels/tier"]


def test_explain_suggests_the_field_meant(tmp_path: Path) -> None:
    root = _explained_fleet(tmp_path)
    result = fleetgen(root, "explain", "web", "network.nameserver")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "clusters/dev/web.yaml: error[unknown-field]: cluster 'web' has no field "
        "'network.nameserver'", "  hint: did you mean 'network.nameservers'?"]


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("fleetgen explain we", 2, ["web"]),
    ("fleetgen render --select a", 3, ["api"]),
    ("fleetgen render --select la", 3, ["label:"]),
    ("fleetgen diff --fail-on rollout,cl", 3, ["rollout,cluster-removed"]),
    ("fleetgen diff --fail-on endpoint-", 3, ["endpoint-change", "endpoint-reused"]),
])
def test_shell_completion_of_clusters_patterns_and_risk_classes(
        tmp_path: Path, words: str, cword: int, expected: list[str]) -> None:
    """Issue 19, through the real completion protocol of the installed program (bash), from a
    folder inside the fleet."""
    import os
    import subprocess
    import sys

    from support.fleets import VSPHERE_DEFAULTS, write_tree
    write_tree(tmp_path, {"clusters/_defaults.yaml": VSPHERE_DEFAULTS,
                          "clusters/dev/web.yaml": "controlPlane: {endpoint: 10.9.0.1}\n",
                          "clusters/dev/web.overlay.yaml": "patches: []\n",
                          "clusters/dev/api.yaml": "controlPlane: {endpoint: 10.9.0.2}\n"})
    env = {**os.environ, "_FLEETGEN_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-c", "from generator.launcher import main; main()"],
                          cwd=tmp_path / "clusters" / "dev", env=env, capture_output=True,
                          text=True, check=False)
    assert done.stdout.split() == expected, done.stderr
