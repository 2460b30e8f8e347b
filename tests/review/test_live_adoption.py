"""Issue 17: `fleetgen diff --live` previews what the first (or any) sync changes on the live
management cluster: server-owned fields and admission's effects are no change, a variable or
machine deployment the render lacks is `adoption-removes`, a live object fleetgen does not render
is listed and never removed. The exports are made by tests/support/live.py from the objects that
were applied, as a running TKG 2.4 management cluster returns them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.cli import fleetgen
from support.fleets import write_tree
from support.live import as_live, clusterclass, export
from generator.yaml.fast import load_fast_all
from test_r1_review import API, edit, make_repo

CLASS = "tkg-vsphere-default-v1.1.1"


def new_repo(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    (tmp_path / "repo").mkdir()
    return make_repo(tmp_path / "repo", extra)


def applied(repo: Path, mgmt: str = "mgmt-a") -> list[dict[str, Any]]:
    """Every object rendered/ holds for ``mgmt``: what the first sync applied."""
    out = []
    for path in sorted((repo / "rendered" / mgmt).rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [d for d in load_fast_all(path.read_text()) if isinstance(d, dict) and "kind" in d
                and isinstance(d.get("spec"), dict)]
    return out


def live_export(repo: Path, tmp_path: Path, *, extra: list[dict[str, Any]] | None = None,
                with_class: bool = True, change: Any = None) -> Path:
    objects = [as_live(o, clusterclass(CLASS, "dev")["spec"]["variables"] if with_class else None)
               for o in applied(repo)]
    if change is not None:
        for o in objects:
            change(o)
    if with_class:
        objects.append(clusterclass(CLASS, "dev"))
    file = tmp_path / "live.yaml"
    file.write_text(export(objects + (extra or [])))
    return file


def diff_live(repo: Path, file: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = fleetgen(repo, "diff", "--format", "json", "--live", str(file), *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}, \
        result.stderr


def test_an_unchanged_adoption_shows_no_change(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    code, report, err = diff_live(repo, live_export(repo, tmp_path))
    assert code == 0, (err, report.get("changes"))
    assert report["changes"] == [] and report["risks"] == []
    kinds = {(e["subject"], e["kind"]) for e in report["live"]["effects"]}
    for cluster in ("Cluster dev/web", "Cluster dev/api"):
        assert {(cluster, "tkr-data"), (cluster, "tkr-version"), (cluster, "capi-default"),
                (cluster, "tkg-metadata")} <= kinds
    assert report["live"]["unmanaged"] == []
    assert "the live objects of mgmt-a" in report["compared"]


def test_pause_and_server_fields_are_no_change(tmp_path: Path) -> None:
    def pause(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Cluster":
            obj["spec"]["paused"] = True
            obj["metadata"].setdefault("annotations", {})["tkg.tanzu.vmware.com/paused"] = "v1"
    repo = new_repo(tmp_path)
    code, report, err = diff_live(repo, live_export(repo, tmp_path, change=pause))
    assert code == 0, (err, report.get("changes"))
    assert any(e["path"] == "metadata.annotations.tkg.tanzu.vmware.com/paused"
               for e in report["live"]["effects"])


def test_a_worker_pool_dropped_from_the_inventory_is_adoption_removes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path, {"clusters/dev/api.yaml": API + (
        "workers:\n- {name: md-0, replicas: 1}\n- {name: md-1, replicas: 1}\n")})
    file = live_export(repo, tmp_path)
    edit(repo, "clusters/dev/api.yaml", "- {name: md-1, replicas: 1}\n", "")
    code, report, _ = diff_live(repo, file)
    assert code == 1
    [risk] = [r for r in report["risks"] if r["class"] == "adoption-removes"]
    assert risk["location"] == "clusters/dev/api.yaml:1:1"
    assert "machine deployment md-1 with its machines" in risk["message"]
    assert diff_live(repo, file, "--fail-on", "adoption-removes")[0] == 4


def test_a_variable_dropped_from_the_inventory_is_adoption_removes(tmp_path: Path) -> None:
    key = "sshAuthorizedKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps ops@example.com]\n"
    repo = new_repo(tmp_path, {"clusters/dev/api.yaml": API + key})
    file = live_export(repo, tmp_path)
    edit(repo, "clusters/dev/api.yaml", key, "")
    code, report, _ = diff_live(repo, file, "--fail-on", "adoption-removes")
    assert code == 4
    [risk] = [r for r in report["risks"] if r["class"] == "adoption-removes"]
    assert (risk["location"], risk["cluster"]) == ("clusters/dev/api.yaml:1:1", "mgmt-a/dev/api")
    assert risk["message"].endswith("the render lacks: variable user")


def test_a_variable_reset_to_its_class_default_is_adoption_removes(tmp_path: Path) -> None:
    ntp = "ntpServers: [ntp1.example.com]\n"
    repo = new_repo(tmp_path, {"clusters/dev/api.yaml": API + ntp})
    file = live_export(repo, tmp_path)
    edit(repo, "clusters/dev/api.yaml", ntp, "")
    code, report, _ = diff_live(repo, file)
    assert code == 1
    found = {(r["class"], r["cluster"]) for r in report["risks"]}
    assert ("adoption-removes", "mgmt-a/dev/api") in found
    assert ("rollout", "mgmt-a/dev/api") in found  # the NTP servers of every machine change
    [risk] = [r for r in report["risks"] if r["class"] == "adoption-removes"]
    assert "variable ntpServers (reset to the ClusterClass default)" in risk["message"]


def test_a_live_variable_fleetgen_does_not_render_is_adoption_removes(tmp_path: Path) -> None:
    """tanzu set a variable the inventory never had: the first sync would remove it."""
    def proxy(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Cluster" and obj["metadata"]["name"] == "web":
            obj["spec"]["topology"]["variables"].append(
                {"name": "proxy", "value": {"httpProxy": "http://proxy:3128"}})
    repo = new_repo(tmp_path)
    code, report, _ = diff_live(repo, live_export(repo, tmp_path, change=proxy))
    assert code == 1
    assert [(r["class"], r["location"]) for r in report["risks"]
            if r["class"] == "adoption-removes"] == [("adoption-removes",
                                                       "clusters/dev/web.yaml:1:1")]
    [change] = report["changes"]
    assert change["title"] == "Cluster dev/web" and change["live"] is True
    assert [f["path"] for f in change["fields"]] == ["spec.topology.variables[name=proxy]"]


def test_live_objects_fleetgen_does_not_render_are_listed_never_removed(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    legacy = as_live({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                      "metadata": {"name": "legacy", "namespace": "dev"},
                      "spec": {"topology": {"class": CLASS, "version": "v1.26.8+vmware.1-tkg.1"}}})
    code, report, _ = diff_live(repo, live_export(repo, tmp_path, extra=[legacy]))
    assert code == 0, report["changes"]
    assert report["live"]["unmanaged"] == ["mgmt-a: Cluster dev/legacy"]
    assert report["risks"] == []


def test_a_cluster_not_yet_live_is_created_by_the_sync(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    file = live_export(repo, tmp_path)
    write_tree(repo, {"clusters/dev/new.yaml": "controlPlane: {endpoint: 10.9.0.5}\n"})
    code, report, _ = diff_live(repo, file)
    assert code == 1
    assert ("added", "Cluster dev/new") in {(c["kind"], c["title"]) for c in report["changes"]}
    assert report["risks"] == []


def test_an_export_without_the_clusterclass_warns_and_reports_what_it_cannot_tell(
        tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    file = live_export(repo, tmp_path, with_class=False)
    code, report, err = diff_live(repo, file)
    assert "warning[live-export]: the export has no ClusterClass dev/" + CLASS in err
    assert code == 0, report["changes"]  # nothing was defaulted in this export either


def test_text_and_markdown_show_the_live_lines(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    legacy = as_live({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                      "metadata": {"name": "legacy", "namespace": "dev"},
                      "spec": {"topology": {"class": CLASS, "version": "v1.26.8+vmware.1-tkg.1"}}})
    file = live_export(repo, tmp_path, extra=[legacy])
    text = fleetgen(repo, "diff", "--live", str(file)).stdout
    assert "live objects fleetgen does not render (a sync leaves them alone): " \
           "mgmt-a: Cluster dev/legacy" in text
    assert "admission effects the live objects show (not changes): capi-default" in text
    markdown = fleetgen(repo, "diff", "--live", str(file), "--format", "markdown").stdout
    assert "<details><summary>admission effects</summary>" in markdown


def _mangle(shape: str) -> Any:
    def change(obj: dict[str, Any]) -> None:
        if obj["kind"] != "Cluster" or obj["metadata"]["name"] != "web":
            return
        topology = obj["spec"]["topology"]
        if shape == "variables-not-a-list":
            topology["variables"] = "x"
        elif shape == "variable-without-name":
            topology["variables"].append({"value": 1})
        elif shape == "workers-a-list":
            topology["workers"] = [1, 2]
        elif shape == "md-overrides-a-map":
            for md in topology["workers"]["machineDeployments"]:
                md["variables"] = {"overrides": {"a": 1}}
        elif shape == "topology-null":
            obj["spec"]["topology"] = None
        elif shape == "metadata-a-list":
            obj["metadata"] = ["web"]
        elif shape == "version-a-number":
            topology["version"] = 127
    return change


@pytest.mark.parametrize("shape", ["variables-not-a-list", "variable-without-name",
                                   "workers-a-list", "md-overrides-a-map", "topology-null",
                                   "metadata-a-list", "version-a-number"])
def test_a_mangled_live_object_gives_a_report_never_a_traceback(tmp_path: Path, shape: str
                                                                ) -> None:
    """An export is untrusted input: whatever shape a live object has, the report is made."""
    repo = new_repo(tmp_path)
    code, report, err = diff_live(repo, live_export(repo, tmp_path, change=_mangle(shape)))
    assert code in (0, 1), err
    assert "error" not in err or "live-export" in err


def test_a_mangled_address_or_pool_reference_is_no_crash(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    edit(repo, "clusters/_defaults.yaml", "10.0.0.10-10.0.0.40", "10.0.0.12-10.0.0.40")
    bad = [{"apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "IPAddress",
            "metadata": {"name": "a", "namespace": "dev"},
            "spec": {"address": "not-an-ip", "poolRef": {"kind": "InClusterIPPool",
                                                          "name": "nodes"}}},
           {"apiVersion": "ipam.cluster.x-k8s.io/v1alpha1", "kind": "IPAddress",
            "metadata": {"name": "b", "namespace": "dev"},
            "spec": {"address": "10.0.0.10", "poolRef": "nodes", "claimRef": ["x"]}}]
    code, report, err = diff_live(repo, live_export(repo, tmp_path, extra=bad))
    assert code in (1, 4), err


def test_the_appliers_protection_annotations_are_directives_not_changes(tmp_path: Path) -> None:
    """The first sync adds the prune and delete protections (issue 18): an instruction to the
    appliers, not a change to the cluster."""
    protect = ("kustomize.toolkit.fluxcd.io/prune: disabled\n"
               "  argocd.argoproj.io/sync-options: Prune=false,Delete=false\n")
    repo = new_repo(tmp_path)
    file = live_export(repo, tmp_path)
    write_tree(repo, {"overlays/protect/overlay.yaml": (
        "commonAnnotations:\n  " + protect)})
    for name in ("api", "web"):
        edit(repo, f"clusters/dev/{name}.yaml", "controlPlane:", "overlays: [protect]\ncontrolPlane:")
    code, report, err = diff_live(repo, file)
    cluster_changes = [c for c in report["changes"] if c["title"].startswith("Cluster ")]
    assert cluster_changes == [], cluster_changes
    assert any(e["kind"] == "applier-directive" for e in report["live"]["effects"])
