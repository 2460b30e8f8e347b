"""Overlays in the pipeline: chosen in inventories (inherited, in order), plus a cluster's own
`<cluster>.overlay.yaml`; rendered/ holds the patched objects."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from ruamel.yaml import YAML

from support.cli import fleetgen
from support.fleets import small_fleet, snapshot, write_tree

WEB = "controlPlane: {endpoint: 10.0.0.10}\n"
LABEL = "labels:\n- pairs: {team: %s}\n"


def cluster(root: Path, name: str = "web") -> dict[str, object]:
    doc = YAML(typ="safe").load((root / f"rendered/mgmt-a/dev/{name}/cluster.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def test_inherited_overlays_apply_in_order_then_the_cluster_patch(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "overlays: [a, b]\n", api="controlPlane: {endpoint: 10.0.0.11}\n")
    write_tree(tmp_path, {
        "overlays/a/overlay.yaml": LABEL % "a",
        "overlays/b/overlay.yaml": LABEL % "b",
        "clusters/dev/web.overlay.yaml": dedent("""\
            patches:
            - target: {kind: Cluster}
              patch: |
                - op: replace
                  path: /spec/topology/controlPlane/replicas
                  value: 3
            """),
    })
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 0, result.output
    web = cluster(tmp_path)
    assert web["metadata"]["labels"]["team"] == "b"  # type: ignore[index]
    assert web["spec"]["topology"]["controlPlane"]["replicas"] == 3  # type: ignore[index]
    assert "team" not in cluster(tmp_path, "api")["metadata"]["labels"]  # type: ignore[index]


def test_overlay_problems_are_located_and_nothing_is_written(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "overlays: [a]\n")
    write_tree(tmp_path, {"overlays/a/overlay.yaml": dedent("""\
        patches:
        - target: {kind: Cluster, name: nope}
          patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: any, labels: {x: y}}
        """)})
    before = snapshot(tmp_path)
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert result.stderr.startswith("overlays/a/overlay.yaml:2:3: error[patch-no-match]")
    assert snapshot(tmp_path) == before


def test_an_overlay_may_not_delete_a_rendered_object(tmp_path: Path) -> None:
    small_fleet(tmp_path, web=WEB + "overlays: [a]\n")
    write_tree(tmp_path, {"overlays/a/overlay.yaml": dedent("""\
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: web, namespace: dev}
            $patch: delete
        """)})
    result = fleetgen(tmp_path, "render")
    assert result.exit_code == 2
    assert ("overlays/a/overlay.yaml: error[patch-deletes-object]: the overlays of cluster 'web' "
            "delete or replace a whole object") in result.stderr
