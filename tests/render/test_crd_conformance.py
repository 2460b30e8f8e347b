"""Every Kubernetes object the example fleet renders conforms to the upstream CRD schemas.

Why: our own tests only prove the renderer does what we think; the management cluster accepts
only what the upstream schemas (and, for class-based Clusters, the ClusterClass variable schemas)
allow. The fleet is rendered in memory with the Python API, not read from the committed
``rendered/``, so a template change is checked before anyone re-renders. Negative controls at the
end prove the check can fail.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.crds import CLASS_VARIABLE_DIRS, validate_object

from generator.pipeline import load_fleet, wanted_files

REPO_ROOT = Path(__file__).resolve().parents[2]

# Files the renderer writes that are not Kubernetes objects: kustomize indexes, the tanzu CLI's
# cluster configuration and feature flags, DHCP server and DNS zone fragments. Exact names, so a
# new kind of file fails test_only_known_files_are_skipped instead of slipping past unvalidated.
NOT_KUBERNETES_OBJECTS = frozenset({
    "kustomization.yaml", "cluster-config.yaml", "features.yaml", "tanzu-features.yaml",
    "tanzu-features.sh", "dhcpd.conf", "kea-reservations.json", "endpoints.zone"})

INFRASTRUCTURES = ("vsphere", "aws", "azure")


def _parse(data: bytes) -> list[Any]:
    """Every non-empty document of one multi-document YAML file (safe loader)."""
    return [doc for doc in YAML(typ="safe").load_all(data) if doc is not None]


def _render(root: Path) -> dict[str, bytes]:
    """{path below rendered/: bytes}, exactly as ``fleetgen render`` would write them."""
    return wanted_files(root, load_fleet(root))


@functools.cache
def example_files() -> Mapping[str, bytes]:
    """The example fleet, rendered once per session."""
    return _render(REPO_ROOT)


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def object_paths() -> list[str]:
    """The object files: exactly those some kustomization.yaml lists."""
    listed = set()
    for path, data in example_files().items():
        if _name(path) == "kustomization.yaml":
            folder = path.rsplit("/", 1)[0]
            listed |= {f"{folder}/{r}" for r in _parse(data)[0]["resources"] if r.endswith(".yaml")}
    return sorted(listed)


def rendered_clusters() -> dict[str, Mapping[str, Any]]:
    """Every rendered Cluster object of the example fleet, by ``mgmt/namespace/name`` folder."""
    found: dict[str, Mapping[str, Any]] = {}
    for path in object_paths():
        for doc in _parse(example_files()[path]):
            if doc.get("kind") == "Cluster":
                folder = path.rsplit("/", 1)[0]
                assert folder not in found, f"two Cluster objects in {folder}"
                found[folder] = doc
    return found


# --- the example fleet -----------------------------------------------------------------------------


def test_only_known_files_are_skipped() -> None:
    skipped = {_name(path) for path in set(example_files()) - set(object_paths())}
    assert skipped == NOT_KUBERNETES_OBJECTS
    for path in object_paths():
        assert _name(path) not in NOT_KUBERNETES_OBJECTS, f"{path} is listed for kustomize"


@pytest.mark.parametrize("path", object_paths(), ids=str)
def test_rendered_object_conforms_to_upstream_schema(path: str) -> None:
    documents = _parse(example_files()[path])
    assert documents, f"{path}: no documents"
    for index, doc in enumerate(documents):
        errors = validate_object(doc)
        assert errors == [], f"{path} document {index} ({doc.get('kind')}):\n" + "\n".join(errors)


def test_every_infrastructure_is_validated_against_its_class_variables() -> None:
    """Each Cluster's topology goes through the variable schemas of its own infrastructure's class.

    Fails if the example fleet loses an infrastructure, or if a Cluster's class would not be
    matched to its variable schemas (validate_object would then silently skip the variables).
    """
    fleet = load_fleet(REPO_ROOT)
    clusters = rendered_clusters()
    assert sorted(clusters) == sorted(c.folder for c in fleet.clusters)
    covered: dict[str, int] = {}
    for cluster in fleet.clusters:
        infrastructure = str(cluster.spec.infrastructure)
        class_dir = CLASS_VARIABLE_DIRS[f"tkg-{infrastructure}-default"]
        doc = clusters[cluster.folder]
        assert str(doc["spec"]["topology"]["class"]).startswith(f"tkg-{infrastructure}-default")
        # Prove validate_object checks this Cluster's variables against that class: an unknown
        # variable must be reported as unknown *for class_dir*.
        bogus = {**doc, "spec": {**doc["spec"], "topology": {
            **doc["spec"]["topology"],
            "variables": [*doc["spec"]["topology"]["variables"],
                          {"name": "notAVariable", "value": 1}]}}}
        assert any(
            f"unknown variable 'notAVariable' for {class_dir}" in error
            for error in validate_object(bogus)
        ), f"{cluster.folder}: topology variables not checked against {class_dir}"
        covered[infrastructure] = covered.get(infrastructure, 0) + 1
    assert sorted(covered) == sorted(INFRASTRUCTURES), f"clusters per infrastructure: {covered}"
    assert set(CLASS_VARIABLE_DIRS) == {f"tkg-{infra}-default" for infra in INFRASTRUCTURES}


# --- negative controls -----------------------------------------------------------------------------

TINY_DEFAULTS = """\
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
managementCluster: mgmt-tiny
infrastructure: vsphere
vsphere:
  server: vc01.tiny.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/ds0
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/cluster0/Resources/tkg
  network: /dc0/network/tkg-nodes
  identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}
"""

TINY_CLUSTER = """\
namespace: dev
controlPlane:
  endpoint: 10.20.0.10
workers:
- name: md-0
  replicas: 2
"""


def _builtin_template(name: str) -> str:
    return files("generator.templates").joinpath(name).read_text(encoding="utf-8")


def _tiny_fleet(root: Path, overrides: Mapping[str, str]) -> Path:
    (root / "clusters" / "dev").mkdir(parents=True)
    (root / "clusters" / "_defaults.yaml").write_text(TINY_DEFAULTS, encoding="utf-8")
    (root / "clusters" / "dev" / "web.yaml").write_text(TINY_CLUSTER, encoding="utf-8")
    (root / "templates").mkdir()
    for name, text in overrides.items():
        (root / "templates" / name).write_text(text, encoding="utf-8")
    return root


def _tiny_cluster_errors(root: Path) -> list[str]:
    rendered = _render(root)
    docs = _parse(rendered["mgmt-tiny/dev/web/cluster.yaml"])
    assert [doc["kind"] for doc in docs] == ["Cluster"]
    return validate_object(docs[0])


def test_tiny_fleet_without_overrides_conforms(tmp_path: Path) -> None:
    """The control for the controls: the tiny fleet itself is valid, so each failure below is
    caused by its injected fault alone."""
    assert _tiny_cluster_errors(_tiny_fleet(tmp_path, {})) == []


def test_unknown_field_in_cluster_fails(tmp_path: Path) -> None:
    template = _builtin_template("cluster.yaml.j2")
    anchor = "  topology:\n"
    assert template.count(anchor) == 1
    broken = template.replace(anchor, anchor + "    bogusField: 1\n")
    errors = _tiny_cluster_errors(_tiny_fleet(tmp_path, {"cluster.yaml.j2": broken}))
    assert any("spec.topology" in e and "bogusField" in e for e in errors), errors


def test_unknown_topology_variable_fails(tmp_path: Path) -> None:
    template = _builtin_template("variables-vsphere.yaml.j2")
    broken = template.rstrip("\n") + "\n    - name: notAVariable\n      value: 1\n"
    errors = _tiny_cluster_errors(_tiny_fleet(tmp_path, {"variables-vsphere.yaml.j2": broken}))
    assert any("spec.topology.variables" in e and "notAVariable" in e for e in errors), errors

