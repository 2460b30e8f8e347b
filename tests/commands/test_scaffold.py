"""`fleetgen init` and `fleetgen new cluster`: a new fleet renders at once, a new cluster file
holds exactly what is left to set, and neither ever overwrites anything."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML
from support.fleets import PIN, small_fleet, snapshot, write_tree

from generator import pipeline
from generator.commands.init import SOURCE_INSTALL, init_fleet, pull_request_workflow
from generator.commands.new import new_cluster
from generator.commands.source import pip_install
from generator.load.schema import SCHEMA_ID, inventory_schema
from generator.paths import SCHEMA_FILE
from generator.problems import FleetError

REPO = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema="


def _fill(path: Path, values: dict[tuple[str, ...], Any]) -> None:
    """What a person does next: set the empty keys (round-trip, so comments stay)."""
    yaml = YAML()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    for keys, value in values.items():
        node = doc
        for key in keys[:-1]:
            node = node[key]
        assert node[keys[-1]] in (None, []), keys  # it was left for the person to fill
        node[keys[-1]] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    path.write_text(out.getvalue(), encoding="utf-8")


# --- init ---------------------------------------------------------------------------------------

def test_init_writes_a_fleet_that_renders_and_a_second_render_changes_nothing(
        tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    written = init_fleet(root, PIN)
    assert {p.relative_to(root).as_posix() for p in written} == {
        ".fleetgen/inventory.schema.json", ".github/workflows/fleetgen-nightly.yml",
        ".github/workflows/fleetgen.yml", ".gitignore",
        "README.md", "clusters/_defaults.yaml", "clusters/example/dev/_defaults.yaml",
        "clusters/example/dev/hello.yaml", "overlays/README.md"}
    first = pipeline.render(root)
    assert first.written
    assert [c.folder for c in first.fleet.clusters] == ["mgmt/dev/hello"]
    assert first.fleet.warnings == ()
    before = snapshot(root)
    second = pipeline.render(root)
    assert not second.written and not second.plan.stale
    assert snapshot(root) == before
    assert not pipeline.render(root, check=True).plan.stale


def test_init_leaves_overlays_empty_but_for_a_readme(tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    assert [p.name for p in (tmp_path / "overlays").iterdir()] == ["README.md"]


def test_init_ignores_the_venv_tools_render_lock_and_ci_render_cache(tmp_path: Path) -> None:
    # .fleetgen-cache/: where the CI recipes keep the render cache (GitLab caches only paths in
    # the project); a cache committed by mistake would be a second copy of rendered/.
    init_fleet(tmp_path, PIN)
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert {".venv/", ".tools/", ".fleetgen-cache/", "rendered/.fleetgen.lock"} <= set(lines)


def test_a_render_cache_kept_in_the_fleet_folder_changes_nothing(tmp_path: Path) -> None:
    """The CI recipes set FLEETGEN_CACHE_DIR to .fleetgen-cache/ in the checkout: a cache there,
    even one holding broken YAML, is no part of the fleet."""
    root = tmp_path / "fleet"
    init_fleet(root, PIN)
    rendered = pipeline.render(root)
    assert rendered.written
    before = snapshot(root / "rendered")
    write_tree(root, {".fleetgen-cache/v0/cache.sqlite3": "not a database\n",
                      ".fleetgen-cache/clusters/x.yaml": "name: [unclosed\n"})
    assert not pipeline.render(root, check=True).plan.stale
    assert not pipeline.render(root).written
    assert snapshot(root / "rendered") == before


def test_init_points_every_inventory_file_at_the_local_schema_that_accepts_it(
        tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    schema_path = tmp_path / SCHEMA_FILE
    schema = json.loads(schema_path.read_text())
    assert schema == inventory_schema() and schema["$id"] == SCHEMA_ID
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((tmp_path / "clusters").rglob("*.yaml"))
    assert len(files) == 3
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first.startswith(MODELINE), path
        # The path is relative to the file, as the YAML language server resolves it.
        assert (path.parent / first.removeprefix(MODELINE)).resolve() == schema_path.resolve()
        assert list(validator.iter_errors(YAML(typ="safe").load(path) or {})) == [], path


def test_init_workflow_is_the_documented_one_with_a_pinned_install(tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    workflow = (tmp_path / ".github" / "workflows" / "fleetgen.yml").read_text()
    assert workflow == pull_request_workflow(pip_install(PIN))
    assert f'python -m pip install "{PIN}"' in workflow and SOURCE_INSTALL not in workflow
    readme = (tmp_path / "README.md").read_text()
    assert f'.venv/bin/pip install "{PIN}"' in readme


def test_init_scaffolds_the_nightly_workflow_too(tmp_path: Path) -> None:
    """Issue 19: the nightly drift render (and optional live drift), pinned like the other."""
    from generator.commands.init import nightly_workflow
    init_fleet(tmp_path, PIN)
    nightly = (tmp_path / ".github" / "workflows" / "fleetgen-nightly.yml").read_text()
    assert nightly == nightly_workflow(pip_install(PIN))
    documented = (REPO / "docs" / "ci" / "github-nightly.yml").read_text()
    assert documented == nightly_workflow(SOURCE_INSTALL)


def test_documented_pull_request_workflow_is_the_one_init_writes_but_installs_from_source() -> None:
    # One text, two copies: edit generator/commands/skeleton/pull-request-workflow.yml, then
    # rewrite docs/ci/github-pull-request.yml with pull_request_workflow(SOURCE_INSTALL).
    documented = (REPO / "docs" / "ci" / "github-pull-request.yml").read_text()
    assert documented == pull_request_workflow(SOURCE_INSTALL)


def test_init_creates_a_missing_folder_and_accepts_an_empty_one(tmp_path: Path) -> None:
    assert init_fleet(tmp_path / "a" / "b", PIN)
    (tmp_path / "empty").mkdir()
    assert init_fleet(tmp_path / "empty", PIN)


@pytest.mark.parametrize("existing", ["notes.txt", ".git/HEAD", "LICENSE"])
def test_init_writes_beside_files_it_does_not_write(tmp_path: Path, existing: str) -> None:
    """A freshly `git init`-ed or cloned repository is where a fleet starts (issue 19)."""
    write_tree(tmp_path, {existing: "x\n"})
    assert init_fleet(tmp_path, PIN)
    assert (tmp_path / existing).read_text() == "x\n"
    assert (tmp_path / "clusters/_defaults.yaml").is_file()


def test_init_in_a_fresh_git_repository_through_the_command_line(tmp_path: Path) -> None:
    from support.cli import fleetgen
    from support.gitrepo import init
    init(tmp_path)
    result = fleetgen(None, "init", str(tmp_path), "--install", PIN)
    assert result.exit_code == 0, result.stderr
    assert "create clusters/_defaults.yaml" in result.stdout
    assert fleetgen(tmp_path, "validate").exit_code == 0


@pytest.mark.parametrize("existing", ["README.md", ".gitignore", "clusters/_defaults.yaml",
                                      "overlays"])
def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, existing: str) -> None:
    write_tree(tmp_path, {existing: "x\n", ".git/HEAD": "ref: refs/heads/main\n"})
    before = snapshot(tmp_path)
    with pytest.raises(FleetError) as caught:
        init_fleet(tmp_path, PIN)
    problems = caught.value.problems
    assert {p.code for p in problems} == {"target-not-empty"}
    taken = [p.location.path for p in problems]
    if existing == "overlays":  # a file where init's folder goes
        assert taken == [str(tmp_path / "overlays/README.md")]
    else:
        assert taken == [str(tmp_path / existing)]
    assert f"{existing if existing != 'overlays' else 'overlays/README.md'} already exists" \
        in problems[0].message
    assert snapshot(tmp_path) == before


def test_init_refuses_a_file_as_target(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(FleetError) as caught:
        init_fleet(tmp_path / "file", PIN)
    assert [p.code for p in caught.value.problems] == ["target-not-empty"]


# --- new cluster --------------------------------------------------------------------------------

def test_new_cluster_writes_the_schema_modeline_and_only_the_endpoint_then_validates(
        tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    path = new_cluster(tmp_path, Path("clusters/example/dev/web"))
    assert path == tmp_path / "clusters" / "example" / "dev" / "web.yaml"
    text = path.read_text()
    assert text.splitlines()[0] == f"{MODELINE}../../../{SCHEMA_FILE}"
    assert "# controlPlane.endpoint: required for vSphere kube-vip: a free static IP" in text
    # The only keys that are not comments: the one value left to set.
    assert YAML(typ="safe").load(text) == {"controlPlane": {"endpoint": None}}
    # The inherited values are listed with the file:line they come from.
    assert "#   namespace" in text and "clusters/example/dev/_defaults.yaml:" in text
    assert "#   managementCluster" in text and '"mgmt"' in text
    with pytest.raises(FleetError) as caught:  # not valid until the person fills it in
        pipeline.load_fleet(tmp_path)
    assert [(p.code, p.location.path) for p in caught.value.problems] == [
        ("endpoint-required", "clusters/example/dev/web.yaml")]
    _fill(path, {("controlPlane", "endpoint"): "192.0.2.11"})
    fleet = pipeline.load_fleet(tmp_path)
    web = next(c for c in fleet.clusters if c.spec.name == "web")
    assert web.key == ("mgmt", "dev", "web")  # management cluster and namespace are inherited
    assert web.inventory.locate(("namespace",)).path == "clusters/example/dev/_defaults.yaml"
    assert pipeline.render(tmp_path).written


def test_new_cluster_in_a_fleet_without_a_local_schema_points_at_the_schema_id(
        tmp_path: Path) -> None:
    small_fleet(tmp_path)
    text = new_cluster(tmp_path, Path("clusters/dev/api.yaml")).read_text()
    assert text.splitlines()[0] == f"{MODELINE}{SCHEMA_ID}"


def test_new_cluster_lists_missing_keys_with_their_required_parts_and_validates_once_filled(
        tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": """\
        infrastructure: vsphere
        controlPlane: {endpointProvider: nsx-alb}
        vsphere: {server: vc.example.com, datacenter: /dc0, datastore: /dc0/datastore/ds1,
                  folder: /dc0/vm/tkg, resourcePool: /dc0/host/c1/Resources/tkg,
                  identityRef: {kind: VSphereClusterIdentity, name: vc}}
        """})
    path = new_cluster(tmp_path, Path("clusters/lab/one"))
    assert YAML(typ="safe").load(path.read_text()) == {
        "kubernetes": {"version": None}, "managementCluster": None}
    assert "# kubernetes.version: the TKr version" in path.read_text()
    _fill(path, {("kubernetes", "version"): "v1.27.5+vmware.1-tkg.1",
                 ("managementCluster",): "mgmt-lab"})
    assert [c.key for c in pipeline.load_fleet(tmp_path).clusters] == [
        ("mgmt-lab", "default", "one")]


def test_new_cluster_asks_for_nameservers_that_node_ipam_requires(tmp_path: Path) -> None:
    small_fleet(tmp_path)
    write_tree(tmp_path, {"clusters/ipam/_defaults.yaml": """\
        controlPlane: {endpointProvider: nsx-alb}
        network:
          nodes: {ipPool: ipam-pool}
          nameservers: {worker: [10.0.0.10]}
        ipPools:
          ipam-pool: {gateway: 10.0.0.1, prefix: 24, addresses: [10.0.0.20-10.0.0.60]}
        """})
    path = new_cluster(tmp_path, Path("clusters/ipam/db"))
    text = path.read_text()
    assert YAML(typ="safe").load(text) == {"network": {"nameservers": {"controlPlane": []}}}
    assert "#   ipPools" in text and "ipam-pool" in text
    _fill(path, {("network", "nameservers", "controlPlane"): ["10.0.0.10"]})
    assert [c.spec.name for c in pipeline.load_fleet(tmp_path).clusters] == ["db"]


def test_new_cluster_with_nothing_left_to_set_is_valid_as_written(tmp_path: Path) -> None:
    small_fleet(tmp_path)
    write_tree(tmp_path, {"clusters/_defaults.yaml": "controlPlane: {endpointProvider: nsx-alb}\n"
                          + (tmp_path / "clusters/_defaults.yaml").read_text()})
    path = new_cluster(tmp_path, Path("clusters/dev/quiet"))
    assert YAML(typ="safe").load(path.read_text()) is None  # comments only
    assert [c.spec.name for c in pipeline.load_fleet(tmp_path).clusters] == ["quiet"]


def test_new_cluster_refuses_to_overwrite_a_file(tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    hello = tmp_path / "clusters" / "example" / "dev" / "hello.yaml"
    before = hello.read_bytes()
    with pytest.raises(FleetError) as caught:
        new_cluster(tmp_path, Path("clusters/example/dev/hello"))
    assert [(p.code, p.location.path) for p in caught.value.problems] == [
        ("file-exists", "clusters/example/dev/hello.yaml")]
    assert hello.read_bytes() == before


@pytest.mark.parametrize("outside", ["hello", "overlays/web", "clusters/../web",
                                     "../elsewhere/clusters/web"])
def test_new_cluster_refuses_paths_outside_clusters(tmp_path: Path, outside: str) -> None:
    init_fleet(tmp_path / "fleet", PIN)
    before = snapshot(tmp_path)
    with pytest.raises(FleetError) as caught:
        new_cluster(tmp_path / "fleet", Path(outside))
    assert [p.code for p in caught.value.problems] == ["outside-clusters"]
    assert snapshot(tmp_path) == before


def test_new_cluster_accepts_an_absolute_path_inside_clusters(tmp_path: Path) -> None:
    init_fleet(tmp_path, PIN)
    target = tmp_path / "clusters" / "example" / "dev" / "abs.yaml"
    assert new_cluster(tmp_path, target) == target


@pytest.mark.parametrize(("name", "code"), [
    ("clusters/example/_defaults", "invalid-value"),
    ("clusters/example/Web_1", "invalid-value"),
    ("clusters/.hidden/web", "invalid-value"),
])
def test_new_cluster_refuses_names_that_would_not_be_a_cluster(
        tmp_path: Path, name: str, code: str) -> None:
    init_fleet(tmp_path, PIN)
    with pytest.raises(FleetError) as caught:
        new_cluster(tmp_path, Path(name))
    assert [p.code for p in caught.value.problems] == [code]


def test_new_cluster_reports_broken_defaults_instead_of_writing(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clusters/_defaults.yaml": "plan: huge\n"})
    with pytest.raises(FleetError) as caught:
        new_cluster(tmp_path, Path("clusters/x"))
    assert [(p.code, p.location.path) for p in caught.value.problems] == [
        ("invalid-value", "clusters/_defaults.yaml")]
    assert not (tmp_path / "clusters" / "x.yaml").exists()
