"""Overlays: every refusal is a located problem with an exact message, fleetgen's one deliberate
merge difference, and pure, deterministic application. What overlays *mean* is checked against
real kustomize in test_kustomize_conformance.py."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from generator.overlay.apply import apply_overlays
from generator.overlay.load import load_overlay, load_overlay_file
from generator.overlay.selector import parse_selector
from generator.problems import FleetError
from support.fleets import write_tree

CLUSTER: dict[str, Any] = {
    "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
    "metadata": {"name": "web", "namespace": "dev", "labels": {"tier": "frontend"}},
    "spec": {"topology": {
        "class": "tkg-vsphere-default-v1.1.1", "version": "v1.27.5+vmware.1-tkg.1",
        "controlPlane": {"replicas": 1},
        "variables": [
            {"name": "cni", "value": "antrea"},
            {"name": "vcenter", "value": {"server": "vc01", "datacenter": "/dc0",
                                          "network": {"name": "nodes", "dhcp": True}}},
            {"name": "worker", "value": {"machine": {"numCPUs": 2, "memoryMiB": 4096},
                                         "nameservers": ["10.0.0.10"]}},
        ],
        "workers": {"machineDeployments": [
            {"class": "tkg-worker", "name": "md-0", "replicas": 2},
            {"class": "tkg-worker", "name": "md-1", "replicas": 1, "failureDomain": "az-1"},
        ]},
    }},
}
POOL: dict[str, Any] = {
    "apiVersion": "ipam.cluster.x-k8s.io/v1alpha2", "kind": "InClusterIPPool",
    "metadata": {"name": "web-pool", "namespace": "dev"},
    "spec": {"addresses": ["10.0.0.20-10.0.0.40"], "prefix": 24, "gateway": "10.0.0.1"},
}
OBJECTS = [CLUSTER, POOL]


def fleet(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_tree(tmp_path, files)


def problems(call: Any) -> list[str]:
    """Each problem of the FleetError ``call()`` raises, as 'location: [code] message | hint'."""
    with pytest.raises(FleetError) as caught:
        call()
    return [f"{p.location}: [{p.code}] {p.message}" + (f" | {p.hint}" if p.hint else "")
            for p in caught.value.problems]


def apply(tmp_path: Path, overlay: str, objects: list[dict[str, Any]] | None = None,
          **more: str) -> list[dict[str, Any]]:
    """Apply overlays/a (text ``overlay``; ``more`` are further overlays by name)."""
    fleet(tmp_path, {"overlays/a/overlay.yaml": overlay,
                     **{f"overlays/{name}/overlay.yaml": text for name, text in more.items()}})
    return apply_overlays(objects or OBJECTS, [load_overlay(tmp_path, "a")])


def apply_problems(tmp_path: Path, overlay: str) -> list[str]:
    return problems(lambda: apply(tmp_path, overlay))


# --- loading: the overlay file -------------------------------------------------------------

def test_unknown_keys_with_did_you_mean(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patchs: []
        labels:
        - pairs: {env: dev}
          includeSelector: true
        patches:
        - target: {kind: Cluster, nmae: web}
          patch: '[]'
          optinal: true
        """})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:1:1: [unknown-key] unknown key 'patchs' in the overlay"
        " | did you mean 'patches'?",
        "overlays/a/overlay.yaml:4:3: [unknown-key] unknown key 'includeSelector' in labels[0]"
        " | did you mean 'includeSelectors'?",
        "overlays/a/overlay.yaml:6:27: [unknown-key] unknown key 'nmae' in patches[0].target"
        " | did you mean 'name'?",
        "overlays/a/overlay.yaml:8:3: [unknown-key] unknown key 'optinal' in patches[0]"
        " | did you mean 'optional'?",
    ]


def test_wrong_types_point_at_the_value(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        labels:
        - pairs: {replicas: 3}
        commonAnnotations: [a]
        components: ../b
        patches:
        - patch: '[]'
          target: {kind: Cluster}
          optional: "yes"
        """})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:2:21: [wrong-type] labels[0].pairs.replicas must be text, not the"
        " number 3",
        "overlays/a/overlay.yaml:3:20: [wrong-type] commonAnnotations must be a mapping, not a list",
        "overlays/a/overlay.yaml:4:13: [wrong-type] components must be a list, not '../b'",
        "overlays/a/overlay.yaml:8:13: [wrong-type] patches[0].optional must be true or false, not"
        " 'yes'",
    ]


def test_overlay_file_must_be_a_mapping_and_valid_yaml(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "- patches\n",
                     "overlays/b/overlay.yaml": "patches: [\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:1:1: [not-a-mapping] an overlay file must be a mapping of kustomize"
        " Component fields | start the file with 'patches:', 'labels:', 'commonAnnotations:' or"
        " 'components:'"]
    [line] = problems(lambda: load_overlay(tmp_path, "b"))
    assert line.startswith("overlays/b/overlay.yaml:2:1: [yaml-syntax] ")


def test_missing_overlay(tmp_path: Path) -> None:
    (tmp_path / "overlays").mkdir()
    assert problems(lambda: load_overlay(tmp_path, "sizing")) == [
        "overlays/sizing/overlay.yaml: [overlay-missing] no overlay 'sizing':"
        " overlays/sizing/overlay.yaml does not exist"
        " | create overlays/sizing/overlay.yaml or fix the name"]


# --- loading: components and files ---------------------------------------------------------

def test_component_cycle_names_the_cycle(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [../b]\n",
                     "overlays/b/overlay.yaml": "labels: []\ncomponents: [../c]\n",
                     "overlays/c/overlay.yaml": "components:\n- ../a\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/c/overlay.yaml:2:3: [component-cycle] component cycle: a → b → c → a"
        " | an overlay cannot use itself, directly or through other components"]


def test_component_using_itself(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [.]\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:1:14: [component-cycle] component cycle: a → a"
        " | an overlay cannot use itself, directly or through other components"]


def test_component_outside_overlays_or_missing(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [../../clusters, .., ../nope]\n",
                     "clusters/overlay.yaml": "{}\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:1:14: [outside-root] component '../../clusters' is outside"
        " overlays/ | components are folders under overlays/ of the fleet root",
        "overlays/a/overlay.yaml:1:30: [outside-root] component '..' is outside overlays/"
        " | components are folders under overlays/ of the fleet root",
        "overlays/a/overlay.yaml:1:34: [overlay-missing] no overlay 'nope': overlays/nope/overlay.yaml"
        " does not exist | create overlays/nope/overlay.yaml or fix the name",
    ]


def test_component_symlink_out_of_overlays_is_refused(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [../linked]\n",
                     "elsewhere/overlay.yaml": "labels: []\n"})
    os.symlink(tmp_path / "elsewhere", tmp_path / "overlays" / "linked")
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:1:14: [outside-root] component '../linked' is outside overlays/"
        " | components are folders under overlays/ of the fleet root"]


def test_component_symlink_within_overlays_is_fine(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [../alias]\n",
                     "overlays/shared/overlay.yaml": "commonAnnotations: {x: y}\n"})
    os.symlink(tmp_path / "overlays" / "shared", tmp_path / "overlays" / "alias")
    overlay = load_overlay(tmp_path, "a")
    assert [c.name for c in overlay.components] == ["shared"]


def test_patch_file_missing_or_outside_the_overlay_folder(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - path: sizing.yaml
        - path: ../b/patch.yaml
        """, "overlays/b/patch.yaml": "{}\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:2:9: [missing-file] patch file 'sizing.yaml' does not exist"
        " | create overlays/a/sizing.yaml or fix the path",
        "overlays/a/overlay.yaml:3:9: [outside-root] patch file '../b/patch.yaml' is outside the"
        " overlay's folder | put the patch file in the overlay's folder or below it",
    ]


def test_overlay_file_beside_an_inventory(tmp_path: Path) -> None:
    fleet(tmp_path, {
        "clusters/dev/web.overlay.yaml": """\
            components: [../../overlays/monitoring]
            patches:
            - path: web-patches/replicas.yaml
              target: {kind: Cluster}
            """,
        "clusters/dev/web-patches/replicas.yaml": """\
            - {op: replace, path: /spec/topology/controlPlane/replicas, value: 3}
            """,
        "overlays/monitoring/overlay.yaml": "labels:\n- pairs: {monitoring: enabled}\n",
    })
    overlay = load_overlay_file(tmp_path, Path("clusters/dev/web.overlay.yaml"))
    assert (overlay.name, overlay.file) == ("clusters/dev/web.overlay.yaml",
                                            "clusters/dev/web.overlay.yaml")
    assert load_overlay_file(tmp_path, tmp_path / "clusters/dev/web.overlay.yaml") == overlay
    [cluster, pool] = apply_overlays(OBJECTS, [overlay])
    assert cluster["spec"]["topology"]["controlPlane"]["replicas"] == 3
    assert pool["metadata"]["labels"] == {"monitoring": "enabled"}


def test_json_patch_without_target_is_refused(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - path: p.yaml
        """, "overlays/a/p.yaml": "- {op: remove, path: /spec/paused}\n"})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:2:3: [invalid-patch] patches[0] (p.yaml) is a JSON 6902 patch"
        " without a target | add 'target:' (kind, name, …) to say which objects it changes"]


def test_overlay_file_outside_root(tmp_path: Path) -> None:
    (tmp_path / "fleet").mkdir()
    (tmp_path / "o.yaml").write_text("{}\n")
    assert problems(lambda: load_overlay_file(tmp_path / "fleet", tmp_path / "o.yaml")) == [
        f"{(tmp_path / 'o.yaml').as_posix()}: [outside-root] overlay file"
        f" {(tmp_path / 'o.yaml').as_posix()} is not under {tmp_path / 'fleet'}"]


# --- loading: patch contents ---------------------------------------------------------------

def test_invalid_json_pointers(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - target: {kind: Cluster}
          patch: |
            - {op: add, path: spec/paused, value: true}
            - {op: add, path: /metadata/annotations/a~2b, value: x}
            - {op: move, from: "", path: /spec/x}
        """})
    hint = ("a JSON pointer starts with '/', such as /spec/prefix; write '~1' for '/' and '~0' for"
            " '~' inside a key")
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        f"overlays/a/overlay.yaml:2:3: [invalid-pointer] patches[0] operation 1 (add): path"
        f" 'spec/paused' is not a JSON pointer to a field | {hint}",
        f"overlays/a/overlay.yaml:2:3: [invalid-pointer] patches[0] operation 2 (add): path"
        f" '/metadata/annotations/a~2b' is not a JSON pointer to a field | {hint}",
        f"overlays/a/overlay.yaml:2:3: [invalid-pointer] patches[0] operation 3 (move): from ''"
        f" is not a JSON pointer to a field | {hint}",
    ]


def test_bad_operations(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - target: {kind: Cluster}
          patch: |
            - {op: replce, path: /spec/x, value: 1}
        - target: {kind: Cluster}
          patch: |
            - {op: add, path: /spec/x, vaule: 1}
        """})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:2:3: [invalid-patch] patches[0] operation 1: unknown operation"
        " 'replce' | did you mean 'replace'?",
        "overlays/a/overlay.yaml:5:3: [invalid-patch] patches[1] operation 1 (add /spec/x) has no"
        " value | add 'value:' (kustomize would use null)",
        "overlays/a/overlay.yaml:5:3: [unknown-key] unknown key 'vaule' in patches[1] operation 1"
        " | did you mean 'value'?",
    ]


def test_patches_that_are_neither_kind(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - patch: |
            spec: {paused: true}
        - target: {kind: Cluster}
          patch: '[a, b]'
        - target: {kind: Cluster}
        - patch: '[]'
          path: p.yaml
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: a}
            ---
            kind: Cluster
            metadata: {name: b}
        - patch: "kind: [unclosed"
        """})
    smp_hint = ("a strategic-merge patch is an object with apiVersion, kind and metadata.name; a"
                " JSON 6902 patch is a list of operations")
    lines = problems(lambda: load_overlay(tmp_path, "a"))
    assert lines[:5] == [
        f"overlays/a/overlay.yaml:2:3: [invalid-patch] patches[0] is neither a strategic-merge nor a"
        f" JSON 6902 patch | {smp_hint}",
        "overlays/a/overlay.yaml:4:3: [invalid-patch] patches[1] is a list, but not of JSON 6902"
        " operations | each operation is a mapping such as {op: replace, path: /spec/prefix,"
        " value: 24}",
        "overlays/a/overlay.yaml:6:3: [invalid-patch] patches[2] needs exactly one of 'path' and"
        " 'patch' | 'patch' holds the patch itself, 'path' names a file beside the overlay",
        "overlays/a/overlay.yaml:7:3: [invalid-patch] patches[3] needs exactly one of 'path' and"
        " 'patch' | 'patch' holds the patch itself, 'path' names a file beside the overlay",
        "overlays/a/overlay.yaml:9:3: [invalid-patch] patches[4] has 2 documents and a target"
        " | kustomize allows several strategic-merge patches in one entry only without a target:"
        " split them into entries",
    ]
    assert lines[5].startswith("overlays/a/overlay.yaml:16:10: [yaml-syntax] patches[5]: ")
    assert lines[5].endswith("(line 1 of the patch)")


def test_directives_kustomize_would_not_apply(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: web, namespace: dev}
            $patch: replace
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                $retainKeys: [class]
                controlPlane: {$patch: merge-deep}
          options: {allowNameChange: true}
        """})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:2:3: [unsupported-patch] patches[0]: $patch: replace on a whole"
        " object | kustomize ignores the whole patch then; replace spec with"
        " 'spec: {$patch: replace, …}'",
        "overlays/a/overlay.yaml:7:3: [invalid-patch] patches[1]: unknown $patch strategy"
        " 'merge-deep' at spec.topology.controlPlane | use delete, replace or merge",
        "overlays/a/overlay.yaml:7:3: [unsupported-patch] patches[1]: directive '$retainKeys' at"
        " spec.topology is not supported | kustomize would copy it into the object as a field; set"
        " the list or map you want instead",
        "overlays/a/overlay.yaml:15:13: [unsupported-patch] patches[1].options.allowNameChange is"
        " not supported | an overlay adjusts objects; it cannot rename or retype them",
    ]


def test_invalid_targets(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": """\
        patches:
        - target:
            name: "web-(a"
            labelSelector: "tier=front end"
            annotationSelector: "a in b"
          patch: '[]'
        """})
    assert problems(lambda: load_overlay(tmp_path, "a")) == [
        "overlays/a/overlay.yaml:3:11: [invalid-target] patches[0].target.name: missing ): "
        "web-(a | a regular expression in RE2 syntax, as kustomize takes it (no lookaround, no "
        "backreferences), such as web-.*",
        "overlays/a/overlay.yaml:4:20: [invalid-target] patches[0].target.labelSelector: found 'end',"
        " expected ',' or the end | a label selector is like 'a=b,c in (d,e),!f'",
        "overlays/a/overlay.yaml:5:25: [invalid-target] patches[0].target.annotationSelector:"
        " expected '(' after 'a in' | a label selector is like 'a=b,c in (d,e),!f'",
    ]


# --- applying: errors ----------------------------------------------------------------------

def test_patch_matching_nothing_is_an_error_unless_optional(tmp_path: Path) -> None:
    overlay = """\
        patches:
        - target: {kind: Cluster, name: "api-.*"}
          patch: |
            - {op: add, path: /spec/paused, value: true}
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: api}
            spec: {paused: true}
        """
    hint = ("the objects are: Cluster dev/web, InClusterIPPool dev/web-pool; fix the target, or add"
            " 'optional: true' to the entry if the patch is meant for some clusters only")
    assert apply_problems(tmp_path, overlay) == [
        f"overlays/a/overlay.yaml:2:3: [patch-no-match] patches[0] (target kind=Cluster,"
        f" name=api-.*) matches no object | {hint}",
        f"overlays/a/overlay.yaml:5:3: [patch-no-match] patches[1] (Cluster api) matches no object"
        f" | {hint}",
    ]
    assert apply(tmp_path / "optional", """\
        patches:
        - target: {kind: Cluster, name: "api-.*"}
          optional: true
          patch: |
            - {op: add, path: /spec/paused, value: true}
        - optional: true
          patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: api}
            spec: {paused: true}
        """) == OBJECTS


def test_failing_test_operation(tmp_path: Path) -> None:
    assert apply_problems(tmp_path, """\
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: test, path: /spec/prefix, value: 24}
            - {op: test, path: /spec/gateway, value: 10.0.0.254}
            - {op: replace, path: /spec/gateway, value: 10.0.0.254}
        """) == [
        "overlays/a/overlay.yaml:2:3: [patch-test-failed] patches[0] on InClusterIPPool dev/web-pool:"
        " operation 2 (test /spec/gateway): the value at /spec/gateway is \"10.0.0.1\", not"
        " \"10.0.0.254\" | the object is not what the patch expects: check the inventory, or the"
        " test value"]


def test_test_compares_json_types(tmp_path: Path) -> None:
    [line] = apply_problems(tmp_path, """\
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: test, path: /spec/prefix, value: 24.0}
        """)
    assert "the value at /spec/prefix is 24, not 24.0" in line


def test_operations_that_do_not_apply(tmp_path: Path) -> None:
    assert apply_problems(tmp_path, """\
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: remove, path: /spec/excludedAddresses}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: add, path: /spec/nodeNetwork/name, value: nodes}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: replace, path: /spec/addresses/1, value: 10.0.0.50}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: add, path: /spec/prefix/bits, value: 24}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: copy, from: /spec/nope, path: /spec/x}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: move, from: /spec, path: /spec/inner}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: add, path: /spec/addresses/first, value: 10.0.0.50}
        """) == [
        "overlays/a/overlay.yaml:2:3: [patch-failed] patches[0] on InClusterIPPool dev/web-pool:"
        " operation 1 (remove /spec/excludedAddresses): there is nothing at /spec/excludedAddresses",
        "overlays/a/overlay.yaml:5:3: [patch-failed] patches[1] on InClusterIPPool dev/web-pool:"
        " operation 1 (add /spec/nodeNetwork/name): there is nothing at /spec/nodeNetwork",
        "overlays/a/overlay.yaml:8:3: [patch-failed] patches[2] on InClusterIPPool dev/web-pool:"
        " operation 1 (replace /spec/addresses/1): index 1 is out of range: the list at"
        " /spec/addresses has 1 items",
        "overlays/a/overlay.yaml:11:3: [patch-failed] patches[3] on InClusterIPPool dev/web-pool:"
        " operation 1 (add /spec/prefix/bits): /spec/prefix is a scalar, not a mapping or list",
        "overlays/a/overlay.yaml:14:3: [patch-failed] patches[4] on InClusterIPPool dev/web-pool:"
        " operation 1 (copy /spec/nope to /spec/x): there is nothing at /spec/nope to copy"
        " | kustomize would write null",
        "overlays/a/overlay.yaml:17:3: [patch-failed] patches[5] on InClusterIPPool dev/web-pool:"
        " operation 1 (move /spec to /spec/inner): cannot move /spec into itself",
        "overlays/a/overlay.yaml:20:3: [patch-failed] patches[6] on InClusterIPPool dev/web-pool:"
        " operation 1 (add /spec/addresses/first): 'first' is not an index into the list at"
        " /spec/addresses",
    ]


@pytest.mark.parametrize(("op", "shown", "change"), [
    ("{op: replace, path: /metadata/name, value: api}", "replace /metadata/name",
     "metadata.name from 'web' to 'api'"),
    ("{op: remove, path: /metadata/namespace}", "remove /metadata/namespace",
     "metadata.namespace from 'dev' to nothing"),
    ("{op: add, path: /kind, value: MachineDeployment}", "add /kind",
     "kind from 'Cluster' to 'MachineDeployment'"),
    ("{op: replace, path: /apiVersion, value: cluster.x-k8s.io/v1beta2}", "replace /apiVersion",
     "apiVersion from 'cluster.x-k8s.io/v1beta1' to 'cluster.x-k8s.io/v1beta2'"),
    ("{op: move, from: /metadata/name, path: /metadata/generateName}",
     "move /metadata/name to /metadata/generateName", "metadata.name from 'web' to nothing"),
])
def test_changing_identity_is_refused(tmp_path: Path, op: str, shown: str, change: str) -> None:
    assert apply_problems(tmp_path, f"""\
        patches:
        - target: {{kind: Cluster}}
          patch: |
            - {{op: test, path: /spec/topology/controlPlane/replicas, value: 1}}
            - {op}
        """) == [
        f"overlays/a/overlay.yaml:2:3: [patch-identity] patches[0] on Cluster dev/web: operation 2"
        f" ({shown}) would change {change} | an overlay adjusts objects; it cannot rename, move or"
        f" retype them (the inventory decides those)"]


def test_strategic_merge_identity_fields_only_address(tmp_path: Path) -> None:
    # As in kustomize: with a target, a patch's apiVersion, kind, name and namespace are ignored.
    [cluster, pool] = apply(tmp_path, """\
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            apiVersion: v1
            kind: Anything
            metadata: {name: not-important, namespace: elsewhere}
            spec: {prefix: 25}
        """)
    assert pool["metadata"] == POOL["metadata"]
    assert (pool["apiVersion"], pool["kind"], pool["spec"]["prefix"]) == (
        POOL["apiVersion"], "InClusterIPPool", 25)


def test_kind_conflicts_and_directives_in_replaced_lists(tmp_path: Path) -> None:
    assert apply_problems(tmp_path, """\
        patches:
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                controlPlane: 3
        - target: {kind: InClusterIPPool}
          patch: |
            kind: InClusterIPPool
            metadata: {name: any}
            spec:
              addresses:
              - {$patch: replace}
              - 10.0.0.50
        """) == [
        "overlays/a/overlay.yaml:2:3: [patch-failed] patches[0] on Cluster dev/web:"
        " spec.topology.controlPlane is a mapping in the object but a scalar in the patch | a patch"
        " can replace a value only with one of the same kind (mapping, list or scalar); delete it"
        " first with null",
        "overlays/a/overlay.yaml:9:3: [unsupported-patch] patches[1] on InClusterIPPool dev/web-pool:"
        " '$patch' inside the list spec.addresses[0] | this list has no merge key, so a patch"
        " replaces it whole and kustomize would copy the directive into the object; write the whole"
        " list instead",
    ]


def test_all_problems_of_all_overlays_at_once(tmp_path: Path) -> None:
    fleet(tmp_path, {
        "overlays/a/overlay.yaml": "patches:\n- target: {kind: Nope}\n  patch: '[]'\n",
        "overlays/b/overlay.yaml": "components: [../c]\n",
        "overlays/c/overlay.yaml": "patches:\n- target: {name: nope}\n  patch: '[]'\n",
    })
    overlays = [load_overlay(tmp_path, "a"), load_overlay(tmp_path, "b")]
    lines = problems(lambda: apply_overlays(OBJECTS, overlays))
    assert [line.split(" | ")[0] for line in lines] == [
        "overlays/a/overlay.yaml:2:3: [patch-no-match] patches[0] (target kind=Nope) matches no"
        " object",
        "overlays/c/overlay.yaml:2:3: [patch-no-match] patches[0] (target name=nope) matches no"
        " object",
    ]


def test_load_collects_problems_of_every_component(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "components: [../b, ../c]\nlable: []\n",
                     "overlays/b/overlay.yaml": "patches: {}\n",
                     "overlays/c/overlay.yaml": "components: [../missing]\n"})
    assert [line.split(" | ")[0] for line in problems(lambda: load_overlay(tmp_path, "a"))] == [
        "overlays/a/overlay.yaml:2:1: [unknown-key] unknown key 'lable' in the overlay",
        "overlays/b/overlay.yaml:1:10: [wrong-type] patches must be a list, not a mapping",
        "overlays/c/overlay.yaml:1:14: [overlay-missing] no overlay 'missing':"
        " overlays/missing/overlay.yaml does not exist",
    ]


# --- the deliberate difference: variables and machineDeployments merge by name -----------

NAMED = """\
    patches:
    - target: {kind: Cluster}
      patch: |
        kind: Cluster
        metadata: {name: any}
        spec:
          topology:
            variables:
            - name: vcenter
              value:
                server: vc02
                network: {dhcp: false}
            - name: worker
              value:
                nameservers: [10.0.0.11]
            - name: ntp
              value: [10.0.0.1]
            - name: cni
              $patch: delete
            workers:
              machineDeployments:
              - name: md-1
                replicas: 4
                failureDomain: null
              - name: md-2
                class: tkg-worker-gpu
                replicas: 1
    """


def test_variables_and_machine_deployments_merge_by_name(tmp_path: Path) -> None:
    [cluster, _] = apply(tmp_path, NAMED)
    topology = cluster["spec"]["topology"]
    assert topology["variables"] == [
        {"name": "vcenter", "value": {"server": "vc02", "datacenter": "/dc0",
                                      "network": {"name": "nodes", "dhcp": False}}},
        {"name": "worker", "value": {"machine": {"numCPUs": 2, "memoryMiB": 4096},
                                     "nameservers": ["10.0.0.11"]}},
        {"name": "ntp", "value": ["10.0.0.1"]},
    ]
    assert topology["workers"]["machineDeployments"] == [
        {"class": "tkg-worker", "name": "md-0", "replicas": 2},
        {"class": "tkg-worker", "name": "md-1", "replicas": 4},
        {"name": "md-2", "class": "tkg-worker-gpu", "replicas": 1},
    ]


def test_named_list_replace_marker_and_missing_names(tmp_path: Path) -> None:
    [cluster, _] = apply(tmp_path, """\
        patches:
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                variables:
                - $patch: replace
                - {name: cni, value: calico}
        """)
    assert cluster["spec"]["topology"]["variables"] == [{"name": "cni", "value": "calico"}]
    assert apply_problems(tmp_path / "x", """\
        patches:
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: any}
            spec:
              topology:
                workers:
                  machineDeployments: [{replicas: 3}]
        """) == [
        "overlays/a/overlay.yaml:2:3: [invalid-patch] patches[0] on Cluster dev/web: each item of"
        " spec.topology.workers.machineDeployments needs a name | fleetgen merges"
        " spec.topology.workers.machineDeployments by name"]


def test_name_merge_is_for_clusters_and_strategic_merge_only(tmp_path: Path) -> None:
    other = copy.deepcopy(CLUSTER)
    other["apiVersion"] = "example.com/v1"
    without_delete = "".join(line for line in NAMED.splitlines(keepends=True)
                             if "name: cni" not in line and "$patch" not in line)
    [patched] = apply(tmp_path, without_delete, [other])
    assert patched["spec"]["topology"]["variables"] == [
        {"name": "vcenter", "value": {"server": "vc02", "network": {"dhcp": False}}},
        {"name": "worker", "value": {"nameservers": ["10.0.0.11"]}},
        {"name": "ntp", "value": ["10.0.0.1"]}]
    [cluster, _] = apply(tmp_path / "json", """\
        patches:
        - target: {kind: Cluster}
          patch: |
            - {op: replace, path: /spec/topology/variables, value: [{name: cni, value: calico}]}
        """)
    assert cluster["spec"]["topology"]["variables"] == [{"name": "cni", "value": "calico"}]


# --- applying: purity, order, determinism ------------------------------------------------

def test_apply_is_pure_and_keeps_order(tmp_path: Path) -> None:
    objects = [copy.deepcopy(POOL), copy.deepcopy(CLUSTER), {**copy.deepcopy(POOL),
                                                             "metadata": {"name": "spare",
                                                                          "namespace": "dev"}}]
    before = copy.deepcopy(objects)
    result = apply(tmp_path, """\
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata: {name: web-pool, namespace: dev}
            $patch: delete
        - target: {kind: Cluster}
          patch: |
            - {op: add, path: /spec/topology/variables/1/value/extra, value: [1]}
        labels:
        - pairs: {env: dev}
        """, objects)
    assert objects == before
    assert [o["metadata"]["name"] for o in result] == ["web", "spare"]
    assert all(o["metadata"]["labels"]["env"] == "dev" for o in result)
    assert "extra" not in CLUSTER["spec"]["topology"]["variables"][1]["value"]


def test_same_inputs_same_outputs(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": NAMED + "commonAnnotations: {b: '2', a: '1'}\n"})
    first = apply_overlays(OBJECTS, [load_overlay(tmp_path, "a")])
    again = apply_overlays(OBJECTS, [load_overlay(tmp_path, "a")])
    assert first == again
    assert [list(o["metadata"]) for o in first] == [list(o["metadata"]) for o in again]
    assert load_overlay(tmp_path, "a") == load_overlay(tmp_path, "a")


def test_json_patch_adds_annotation_to_an_object_without_annotations(tmp_path: Path) -> None:
    # kustomize keeps internal annotations on every object while a JSON patch runs, so this
    # works there; an untouched object keeps having no annotations.
    [cluster, pool] = apply(tmp_path, """\
        patches:
        - target: {name: web}
          patch: |
            - {op: test, path: /metadata/name, value: web}
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: add, path: /metadata/annotations/owner, value: net}
        """)
    assert pool["metadata"]["annotations"] == {"owner": "net"}
    assert "annotations" not in cluster["metadata"]


@pytest.mark.parametrize(("selector", "error"), [
    ("tier=a b", "found 'b', expected ',' or the end"),
    ("tier=a,", "a selector term is missing after ','"),
    ("tier!a", "found '!' after 'tier', expected =, ==, !=, in or notin"),
    ("a/b/c=d", "invalid label key 'a/b/c'"),
    ("x=-a", "invalid value '-a' for 'x'"),
    ("x > three", "'x >' needs a whole number, not 'three'"),
])
def test_selector_errors(selector: str, error: str) -> None:
    with pytest.raises(ValueError, match=f"^{error}$"):
        parse_selector(selector)


def test_overlay_name_must_stay_in_overlays(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "{}\n", "clusters/overlay.yaml": "{}\n"})
    assert problems(lambda: load_overlay(tmp_path, "../clusters")) == [
        "overlays/../clusters/overlay.yaml: [outside-root] overlay '../clusters' is outside"
        " overlays/ | overlays are folders under overlays/ of the fleet root"]


def test_target_null_on_a_json_patch(tmp_path: Path) -> None:
    fleet(tmp_path, {"overlays/a/overlay.yaml": "patches:\n- target: null\n  patch: '[]'\n"})
    assert [line.split(" | ")[0] for line in problems(lambda: load_overlay(tmp_path, "a"))] == [
        "overlays/a/overlay.yaml:2:3: [invalid-patch] patches[0] is a JSON 6902 patch without a"
        " target"]
