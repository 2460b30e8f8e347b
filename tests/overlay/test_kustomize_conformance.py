"""fleetgen overlays mean what kustomize Components mean.

Each case is a set of rendered objects and one or more overlays. It runs through
``apply_overlays`` and through real ``kubectl kustomize`` (the objects as resources, each overlay
folder as a ``kind: Component`` with the same fields), and both must give the same objects, or
both must refuse. Cases stay away from ``spec.topology.variables`` and
``spec.topology.workers.machineDeployments`` in strategic-merge patches, the one place fleetgen
merges by name on purpose; ``test_kustomize_replaces_named_lists_where_fleetgen_merges`` shows
that difference against kustomize itself.

Comments marked "kustomize:" note behaviour that surprised us and that fleetgen matches.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from generator.overlay.apply import apply_overlays
from generator.overlay.load import load_overlay
from generator.problems import FleetError
from support.kubectl import kubectl

OBJECTS = Path(__file__).resolve().parent / "kustomize_cases" / "objects"
_yaml = YAML(typ="safe")


@dataclass(frozen=True)
class Case:
    id: str
    objects: str  # a file in kustomize_cases/objects/
    overlays: dict[str, str]  # overlay name -> overlay.yaml
    files: dict[str, str] = field(default_factory=dict)  # more files, relative to overlays/
    apply: tuple[str, ...] = ("a",)
    fails: bool = False  # kustomize and fleetgen both refuse


P, DEV, EDGE, AWS, AZURE = ("vsphere-payments", "site-a-dev", "edge-and-lab", "aws-shop",
                            "azure-crm")
CLUSTER = "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\n"
POOL = "apiVersion: ipam.cluster.x-k8s.io/v1alpha2\nkind: InClusterIPPool\n"
GLOBAL_POOL = "apiVersion: ipam.cluster.x-k8s.io/v1alpha2\nkind: GlobalInClusterIPPool\n"


def ov(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def jp(target: str, *ops: str) -> str:
    """An overlay with one JSON 6902 patch (operations as flow mappings)."""
    lines = "".join(f"      - {op}\n" for op in ops)
    return f"patches:\n- target: {target}\n  patch: |\n{lines}"


CASES = [
    # --- strategic merge: maps, scalars, lists ---
    Case("smp-map-merge", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata:
              name: payments
              namespace: prod
              annotations:
                fleet.example.com/backup: daily
            spec:
              topology:
                controlPlane:
                  replicas: 5
        """)}),
    Case("smp-nested-merge-new-keys", AWS, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: shop, namespace: prod}
            spec:
              topology:
                controlPlane:
                  metadata:
                    annotations:
                      fleet.example.com/tier: gold
                    labels:
                      fleet.example.com/pci: "true"
                  nodeDrainTimeout: 10m
                rolloutAfter: "2024-06-01T00:00:00Z"
        """)}),
    Case("smp-scalar-replace", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata: {name: payments-pool, namespace: prod}
            spec:
              prefix: 23
              gateway: 10.10.10.254
        """)}),
    Case("smp-list-replace", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata: {name: payments-pool, namespace: prod}
            spec:
              addresses: [10.10.10.2-10.10.10.50]
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: payments, namespace: prod}
            spec:
              clusterNetwork:
                pods:
                  cidrBlocks: [100.100.0.0/16]
        """)}),
    # kustomize: a list of maps with a 'name' field is still replaced whole, no merge by name.
    Case("smp-named-map-list-replaced", EDGE, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: sandbox, namespace: default}
            spec:
              topology:
                workers:
                  machinePools:
                  - name: mp-gpu
                    replicas: 4
        """)}),
    Case("smp-delete-map-key", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: payments, namespace: prod}
            spec:
              topology:
                controlPlane:
                  metadata:
                    $patch: delete
        """)}),
    Case("smp-delete-whole-object", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: GlobalInClusterIPPool
            metadata: {name: site-a-shared}
            $patch: delete
        """)}),
    Case("smp-delete-objects-by-target", DEV, {"a": ov("""
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata: {name: any}
            $patch: delete
        """)}),
    Case("smp-replace-map", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: payments, namespace: prod}
            spec:
              clusterNetwork:
                $patch: replace
                pods:
                  cidrBlocks: [100.96.0.0/12]
        """)}),
    Case("smp-null-deletes-key", DEV, {"a": ov("""
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata:
              name: dev-nodes
              namespace: dev
              labels:
                tier: null
            spec:
              excludedAddresses: null
              notThere: null
        """)}),
    # kustomize: nulls and deleted maps vanish from a map the patch adds, leaving {}.
    Case("smp-new-map-drops-nulls", AZURE, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: crm, namespace: prod}
            spec:
              topology:
                controlPlane:
                  machineHealthCheck:
                    maxUnhealthy: null
                    unhealthyConditions:
                      $patch: delete
                  nodeVolumeDetachTimeout: 5m
        """)}),
    # kustomize: with a target the patch's own apiVersion, kind and name only address it; the
    # object keeps its identity.
    Case("smp-target-kind-name-not-important", EDGE, {"a": ov("""
        patches:
        - target: {kind: Cluster}
          patch: |
            apiVersion: v1
            kind: NotImportant
            metadata:
              name: not-important
              namespace: elsewhere
              labels:
                fleet.example.com/ha: "yes"
            spec:
              topology:
                controlPlane:
                  replicas: 3
        """)}),
    Case("smp-target-name-regex", EDGE, {"a": ov("""
        patches:
        - target: {name: "v6-.*|ds-.*"}
          patch: |
            kind: Cluster
            metadata: {name: x}
            spec:
              topology:
                version: v1.28.4+vmware.1-tkg.1
        """)}),
    Case("smp-target-label-selector", DEV, {"a": ov("""
        patches:
        - target: {labelSelector: "tier in (frontend, shared)"}
          patch: |
            kind: Any
            metadata:
              name: x
              annotations:
                fleet.example.com/reviewed: "2024-05"
        """)}),
    Case("smp-target-label-selector-notin-and-missing", DEV, {"a": ov("""
        patches:
        - target: {labelSelector: "tier notin (frontend),!team"}
          patch: |
            kind: Any
            metadata:
              name: x
              annotations:
                fleet.example.com/selected: notin
        """)}),
    Case("smp-target-annotation-selector", DEV, {"a": ov("""
        patches:
        - target: {kind: Cluster, annotationSelector: fleet.example.com/maintenance-window}
          patch: |
            kind: Cluster
            metadata: {name: x}
            spec:
              topology:
                controlPlane:
                  nodeDeletionTimeout: 30s
        """)}),
    # kustomize: it knows no scope for our CRDs and takes every kind for namespaced, so a
    # GlobalInClusterIPPool (no namespace) is in "default".
    Case("smp-target-namespace-default", EDGE, {"a": ov("""
        patches:
        - target: {namespace: default}
          patch: |
            kind: Any
            metadata:
              name: x
              labels:
                fleet.example.com/site: b
        """)}),
    Case("smp-target-namespace-and-name-regex", P, {"a": ov("""
        patches:
        - target: {namespace: "pr.*", name: ".*-pool"}
          patch: |
            kind: InClusterIPPool
            metadata: {name: x}
            spec:
              allocateReservedIPAddresses: true
        """)}),
    # kustomize: group, version and kind are regular expressions too.
    Case("smp-target-group-version-regex", P, {"a": ov("""
        patches:
        - target: {group: ipam\\.cluster\\.x-k8s\\.io, version: "v1alpha.*", kind: ".*InClusterIPPool"}
          patch: |
            kind: InClusterIPPool
            metadata: {name: x}
            spec:
              prefix: 25
        """)}),
    Case("smp-in-json-text", P, {"a": ov("""
        patches:
        - patch: '{"apiVersion": "ipam.cluster.x-k8s.io/v1alpha2", "kind": "InClusterIPPool",
            "metadata": {"name": "payments-pool", "namespace": "prod"},
            "spec": {"excludedAddresses": ["10.10.10.7"]}}'
        """)}),
    Case("smp-several-documents", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: InClusterIPPool
            metadata: {name: payments-pool, namespace: prod}
            spec: {prefix: 22}
            ---
            apiVersion: ipam.cluster.x-k8s.io/v1alpha2
            kind: GlobalInClusterIPPool
            metadata: {name: site-a-shared}
            spec: {prefix: 22}
        """)}),
    Case("smp-from-path-file", AWS, {"a": "patches:\n- path: sizing/control-plane.yaml\n"},
         files={"a/sizing/control-plane.yaml": CLUSTER + ov("""
             metadata: {name: shop, namespace: prod}
             spec:
               topology:
                 controlPlane:
                   replicas: 5
               clusterNetwork:
                 serviceDomain: shop.internal
             """)}),
    # --- JSON 6902 ---
    Case("json-add", P, {"a": jp("{kind: InClusterIPPool}",
                                 "{op: add, path: /spec/excludedAddresses, value: [10.10.10.9]}")}),
    Case("json-add-append-and-insert", DEV, {"a": jp(
        "{kind: InClusterIPPool, name: dev-nodes}",
        "{op: add, path: /spec/addresses/-, value: 10.20.1.251}",
        "{op: add, path: /spec/addresses/0, value: 10.20.1.5}",
        "{op: add, path: /spec/excludedAddresses/1, value: 10.20.1.98}")}),
    # kustomize: json-patch v4 takes negative indexes from the end; add at -1 appends.
    Case("json-negative-indexes", EDGE, {"a": jp(
        "{kind: Cluster, name: ds-lab}",
        "{op: add, path: /spec/clusterNetwork/pods/cidrBlocks/-1, value: 100.97.0.0/16}",
        "{op: remove, path: /spec/clusterNetwork/services/cidrBlocks/-1}",
        "{op: replace, path: /spec/clusterNetwork/pods/cidrBlocks/-2, value: 100.96.0.0/12}")}),
    Case("json-add-escaped-keys", P, {"a": jp(
        "{kind: Cluster}",
        "{op: add, path: /metadata/annotations/fleet.example.com~1backup-policy, value: daily}",
        "{op: add, path: /spec/topology/controlPlane/metadata/annotations/a~0b, value: tilde}",
        "{op: add, path: /metadata/labels/fleet.example.com~1pci, value: 'true'}")}),
    Case("json-remove", P, {"a": jp(
        "{kind: Cluster}",
        "{op: remove, path: /metadata/annotations/tkg~1plan}",
        "{op: remove, path: /spec/clusterNetwork/services}") + ov("""
        - target: {kind: GlobalInClusterIPPool}
          patch: |
            - {op: remove, path: /spec/gateway}
        """)}),
    Case("json-replace", AZURE, {"a": jp(
        "{kind: Cluster, name: crm}",
        "{op: replace, path: /spec/topology/version, value: v1.28.4+vmware.1-tkg.1}",
        "{op: replace, path: /spec/topology/workers/machineDeployments/0/replicas, value: 6}",
        "{op: replace, path: /spec/topology/variables/0/value, value: northeurope}")}),
    # kustomize: json-patch v4 lets replace add a missing map key (RFC 6902 says error).
    Case("json-replace-missing-key-adds", AWS, {"a": jp(
        "{kind: Cluster}",
        "{op: replace, path: /spec/topology/controlPlane/nodeDrainTimeout, value: 2m}")}),
    Case("json-move", P, {"a": jp(
        "{kind: Cluster}",
        "{op: move, from: /metadata/annotations/osInfo, "
        "path: /metadata/annotations/fleet.example.com~1os-info}",
        "{op: move, from: /spec/topology/workers/machineDeployments/0, "
        "path: /spec/topology/workers/machineDeployments/-}")}),
    Case("json-copy", P, {"a": jp(
        "{kind: InClusterIPPool}",
        "{op: copy, from: /spec/gateway, path: /metadata/annotations/fleet.example.com~1gateway}",
        "{op: copy, from: /spec/addresses, path: /spec/excludedAddresses}",
        "{op: copy, from: /spec/addresses/0, path: /spec/excludedAddresses/-}")}),
    Case("json-test-passing", AZURE, {"a": jp(
        "{kind: Cluster}",
        "{op: test, path: /spec/topology/class, value: tkg-azure-default-v1.1.1}",
        "{op: test, path: /spec/topology/controlPlane/replicas, value: 3}",
        "{op: test, path: /spec/clusterNetwork/pods, value: {cidrBlocks: [100.96.0.0/11]}}",
        "{op: replace, path: /spec/topology/controlPlane/replicas, value: 5}")}),
    # kustomize: json-patch v4's test of a missing key against null passes.
    Case("json-test-missing-is-null", P, {"a": jp(
        "{kind: InClusterIPPool}",
        "{op: test, path: /spec/excludedAddresses, value: null}",
        "{op: add, path: /spec/excludedAddresses, value: []}")}),
    Case("json-on-the-named-lists", P, {"a": jp(
        "{kind: Cluster}",
        "{op: add, path: /spec/topology/variables/-, value: {name: ntpServers, value: [10.10.10.1]}}",
        "{op: add, path: /spec/topology/workers/machineDeployments/0/failureDomain, value: az-2}",
        "{op: remove, path: /spec/topology/variables/1}")}),
    Case("json-in-json-text", P, {"a": ov("""
        patches:
        - target: {kind: GlobalInClusterIPPool, name: site-a-shared}
          patch: '[{"op": "add", "path": "/spec/excludedAddresses", "value": ["10.20.30.21"]},
                   {"op": "replace", "path": "/spec/prefix", "value": 25}]'
        """)}),
    Case("json-from-path-file", EDGE, {"a": ov("""
        patches:
        - path: edge-dns.yaml
          target:
            kind: Cluster
            namespace: edge
        """)}, files={"a/edge-dns.yaml": ov("""
            - op: add
              path: /spec/topology/variables/-
              value:
                name: imageRepository
                value: {host: harbor.edge.example.com}
            - op: replace
              path: /spec/clusterNetwork/pods/cidrBlocks/0
              value: fd00:100:97::/48
            """)}),
    # --- several patches, in list order, both kinds interleaved ---
    Case("patches-in-order", DEV, {"a": ov("""
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: add, path: /spec/addresses/-, value: 10.20.1.240}
        - target: {kind: InClusterIPPool}
          patch: |
            kind: InClusterIPPool
            metadata: {name: x}
            spec:
              addresses: [10.20.1.10-10.20.1.100]
        - target: {kind: InClusterIPPool}
          patch: |
            - {op: test, path: /spec/addresses/0, value: 10.20.1.10-10.20.1.100}
            - {op: add, path: /spec/addresses/-, value: 10.20.1.241}
        """)}),
    Case("optional-patch-matching-nothing", P, {"a": ov("""
        patches:
        - target: {kind: Cluster, name: not-this-cluster}
          optional: true
          patch: |
            - {op: add, path: /spec/paused, value: true}
        - target: {kind: Cluster}
          patch: |
            - {op: add, path: /metadata/annotations/fleet.example.com~1patched, value: "yes"}
        """)}),
    # --- labels and annotations ---
    Case("labels", DEV, {"a": ov("""
        labels:
        - pairs:
            fleet.example.com/env: dev
            tier: everything
        """)}),
    # kustomize: includeSelectors and includeTemplates reach only selectors and templates of
    # built-in kinds; on our CRDs only metadata.labels changes either way.
    Case("labels-include-selectors", EDGE, {"a": ov("""
        labels:
        - pairs: {fleet.example.com/env: edge}
          includeSelectors: true
        - pairs: {fleet.example.com/site: a}
          includeSelectors: false
          includeTemplates: true
        """)}),
    Case("labels-later-entry-wins", DEV, {"a": ov("""
        labels:
        - pairs: {fleet.example.com/stage: one, fleet.example.com/a: b}
        - pairs: {fleet.example.com/stage: two}
        """)}),
    Case("common-annotations", P, {"a": ov("""
        commonAnnotations:
          fleet.example.com/managed-by: fleetgen
          tkg/plan: overridden
        """)}),
    # kustomize: within one component patches run first, then labels, then commonAnnotations.
    Case("labels-after-patches", P, {"a": ov("""
        patches:
        - target: {kind: Cluster}
          patch: |
            - {op: add, path: /metadata/labels/fleet.example.com~1order, value: patch}
            - {op: add, path: /metadata/annotations/fleet.example.com~1order, value: patch}
        labels:
        - pairs: {fleet.example.com/order: labels}
        commonAnnotations:
          fleet.example.com/order: annotations
        """)}),
    # kustomize: a patch's selector sees labels of earlier components, not of its own overlay.
    Case("selector-sees-component-labels-not-own", DEV, {
        "a": ov("""
            components: [../b]
            labels:
            - pairs: {fleet.example.com/own: "1"}
            patches:
            - target: {labelSelector: fleet.example.com/from-b=1}
              patch: |
                - {op: add, path: /metadata/annotations/saw-b, value: "1"}
            - target: {labelSelector: "!fleet.example.com/own"}
              patch: |
                - {op: add, path: /metadata/annotations/own-not-yet, value: "1"}
            """),
        "b": "labels:\n- pairs: {fleet.example.com/from-b: '1'}\n"}),
    # --- components ---
    Case("components-in-order-before-own-patches", P, {
        "a": "components: [../y, ../x]\n" + jp("{kind: InClusterIPPool}",
                                                "{op: add, path: /spec/addresses/-, value: 10.10.10.110}"),
        "x": jp("{kind: InClusterIPPool}", "{op: add, path: /spec/addresses/-, value: 10.10.10.111}"),
        "y": jp("{kind: InClusterIPPool}", "{op: add, path: /spec/addresses/-, value: 10.10.10.112}"),
    }),
    Case("nested-components", AWS, {
        "a": "components: [../b]\ncommonAnnotations: {fleet.example.com/layer: a}\n",
        "b": "components: [../c]\nlabels:\n- pairs: {fleet.example.com/layer: b}\n"
             + jp("{kind: Cluster}", "{op: test, path: /metadata/annotations/fleet.example.com~1layer, "
                                     "value: c}",
                  "{op: replace, path: /spec/topology/controlPlane/replicas, value: 1}"),
        "c": "commonAnnotations: {fleet.example.com/layer: c}\n",
    }),
    # kustomize: a component reached twice (a -> b -> d, a -> c -> d) is applied twice.
    Case("diamond-components-apply-twice", P, {
        "a": "components: [../b, ../c]\n",
        "b": "components: [../d]\n" + jp("{kind: InClusterIPPool}",
                                         "{op: add, path: /spec/addresses/-, value: 10.10.10.120}"),
        "c": "components: [../d]\n" + jp("{kind: InClusterIPPool}",
                                         "{op: add, path: /spec/addresses/-, value: 10.10.10.121}"),
        "d": jp("{kind: InClusterIPPool}", "{op: add, path: /spec/addresses/-, value: 10.10.10.122}"),
    }),
    Case("overlays-in-order", DEV, {
        "a": jp("{kind: Cluster}", "{op: add, path: /metadata/annotations/step, value: a}"),
        "b": jp("{kind: Cluster}", "{op: test, path: /metadata/annotations/step, value: a}",
                "{op: replace, path: /metadata/annotations/step, value: b}"),
    }, apply=("a", "b")),
    Case("same-overlay-twice", P, {
        "d": jp("{kind: GlobalInClusterIPPool}", "{op: add, path: /spec/addresses/-, value: 10.20.30.200}"),
    }, apply=("d", "d")),
    Case("shared-component-from-two-overlays", EDGE, {
        "a": "components: [../monitoring]\nlabels:\n- pairs: {fleet.example.com/a: 'true'}\n",
        "b": "components: [../monitoring]\ncommonAnnotations: {fleet.example.com/b: 'true'}\n",
        "monitoring": ov("""
            patches:
            - target: {kind: Cluster}
              patch: |
                kind: Cluster
                metadata:
                  name: x
                  labels:
                    fleet.example.com/monitoring: enabled
            """),
    }, apply=("a", "b")),
    # --- refused by both ---
    Case("fails-json-test", P, {"a": jp("{kind: InClusterIPPool}",
                                        "{op: test, path: /spec/prefix, value: 23}")}, fails=True),
    Case("fails-json-test-number-types", P, {"a": jp("{kind: InClusterIPPool}",
                                                     "{op: test, path: /spec/prefix, value: '24'}")},
         fails=True),
    Case("fails-json-remove-missing", P, {"a": jp("{kind: Cluster}",
                                                  "{op: remove, path: /spec/paused}")}, fails=True),
    Case("fails-json-add-missing-parent", P, {"a": jp(
        "{kind: Cluster}", "{op: add, path: /spec/topology/machineHealthCheck/enable, value: true}")},
        fails=True),
    Case("fails-json-index-out-of-range", P, {"a": jp(
        "{kind: InClusterIPPool}", "{op: replace, path: /spec/addresses/3, value: 10.0.0.1}")},
        fails=True),
    Case("fails-json-move-missing", P, {"a": jp(
        "{kind: InClusterIPPool}", "{op: move, from: /spec/nope, path: /spec/x}")}, fails=True),
    Case("fails-json-without-target", P, {"a": "patches:\n- patch: '[]'\n"}, fails=True),
    Case("fails-smp-kind-conflict", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: payments, namespace: prod}
            spec:
              topology:
                controlPlane: 3
        """)}, fails=True),
    # kustomize: '$patch: delete' removes maps only; on a list it is a kind conflict (use null).
    Case("fails-smp-delete-directive-on-a-list", P, {"a": ov("""
        patches:
        - target: {kind: InClusterIPPool}
          patch: |
            kind: InClusterIPPool
            metadata: {name: any}
            spec:
              addresses:
                $patch: delete
        """)}, fails=True),
    Case("fails-smp-names-no-object", P, {"a": ov("""
        patches:
        - patch: |
            apiVersion: cluster.x-k8s.io/v1beta1
            kind: Cluster
            metadata: {name: payments}
            spec: {paused: true}
        """)}, fails=True),
    Case("fails-smp-unknown-strategy", P, {"a": ov("""
        patches:
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: x}
            spec:
              clusterNetwork: {$patch: merge-deep}
        """)}, fails=True),
    Case("fails-several-documents-with-target", P, {"a": ov("""
        patches:
        - target: {kind: Cluster}
          patch: |
            kind: Cluster
            metadata: {name: x}
            ---
            kind: Cluster
            metadata: {name: y}
        """)}, fails=True),
    Case("fails-component-cycle", P, {"a": "components: [../b]\n", "b": "components: [../a]\n"},
         fails=True),
    Case("fails-patch-file-outside-folder", P, {"a": "patches:\n- path: ../shared.yaml\n"},
         files={"shared.yaml": POOL + "metadata: {name: payments-pool, namespace: prod}\n"},
         fails=True),
    Case("fails-bad-name-regex", P, {"a": jp("{name: 'pay(ments'}", "{op: remove, path: /spec}")},
         fails=True),
    Case("fails-bad-label-selector", P, {"a": jp("{labelSelector: 'tier=a b'}",
                                                 "{op: remove, path: /spec}")}, fails=True),
    Case("fails-neither-patch-kind", P, {"a": "patches:\n- target: {kind: Cluster}\n  patch: text\n"},
         fails=True),
]


def _objects(name: str) -> list[dict[str, Any]]:
    return [doc for doc in _yaml.load_all((OBJECTS / f"{name}.yaml").read_text()) if doc]


def _write_case(folder: Path, case: Case) -> None:
    """The fleet (overlays/, each overlay also as a kustomize Component) in ``folder/fleet`` and
    a kustomization with the objects and those components in ``folder/build``."""
    overlays = folder / "fleet" / "overlays"
    for name, text in case.overlays.items():
        (overlays / name).mkdir(parents=True, exist_ok=True)
        (overlays / name / "overlay.yaml").write_text(text)
        (overlays / name / "kustomization.yaml").write_text(_as_component(text))
    for rel, text in case.files.items():
        (overlays / rel).parent.mkdir(parents=True, exist_ok=True)
        (overlays / rel).write_text(text)
    build = folder / "build"
    build.mkdir()
    objects = _objects(case.objects)
    (build / "objects.yaml").write_text("---\n".join(json.dumps(obj) + "\n" for obj in objects))
    (build / "kustomization.yaml").write_text(json.dumps({
        "resources": ["objects.yaml"],
        "components": [f"../fleet/overlays/{name}" for name in case.apply]}))


def _as_component(overlay_text: str) -> str:
    """The overlay as a kustomize Component: the same fields, without fleetgen's own
    ``optional``; JSON so that no YAML 1.1 reading can change a value."""
    overlay = _yaml.load(overlay_text) or {}
    for entry in overlay.get("patches") or []:
        if isinstance(entry, dict):
            entry.pop("optional", None)
    return json.dumps({"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                       **overlay}, indent=1)


Result = list[dict[str, Any]] | str  # the objects, or the error text


def _kustomize(folder: Path) -> Result:
    run = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True,
                         timeout=120)
    if run.returncode:
        return run.stderr
    return [doc for doc in _yaml.load_all(run.stdout) if doc]


def _kustomize_batch(base: Path, cases: list[Case]) -> dict[str, Result]:
    """Build many cases in one kustomize run: each case's build is wrapped in a kustomization
    whose namePrefix (applied after the case's components ran) keeps its objects apart.

    Why: kustomize spends about 0.3 s of CPU per run on start-up alone.
    """
    batch = base / "batch"
    prefixes = {case.id: f"c{index:03d}-" for index, case in enumerate(cases)}
    for case in cases:
        wrapper = batch / prefixes[case.id]
        wrapper.mkdir(parents=True)
        (wrapper / "kustomization.yaml").write_text(json.dumps({
            "resources": [f"../../{case.id}/build"], "namePrefix": prefixes[case.id]}))
    (batch / "kustomization.yaml").write_text(json.dumps({"resources": sorted(prefixes.values())}))
    built = _kustomize(batch)
    if isinstance(built, str):
        return {}  # some case fails: the caller builds them one by one to say which
    results: dict[str, Result] = {case.id: [] for case in cases}
    for case in cases:
        prefix = prefixes[case.id]
        for obj in built:
            if obj["metadata"]["name"].startswith(prefix):
                obj["metadata"]["name"] = obj["metadata"]["name"][len(prefix):]
                results[case.id].append(obj)  # type: ignore[union-attr]
    return results


@pytest.fixture(scope="module")
def kustomized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """What real kustomize makes of every case."""
    kubectl()
    base = tmp_path_factory.mktemp("kustomize")
    for case in CASES:
        _write_case(base / case.id, case)
    results = _kustomize_batch(base, [case for case in CASES if not case.fails])
    rest = [case for case in CASES if case.id not in results]
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = pool.map(lambda case: _kustomize(base / case.id / "build"), rest)
        results.update(zip((case.id for case in rest), built))
    results["_base"] = str(base)
    return results


def _fleetgen(root: Path, case: Case) -> Result:
    try:
        overlays = [load_overlay(root, name) for name in case.apply]
        return apply_overlays(_objects(case.objects), overlays)
    except FleetError as exc:
        return str(exc)


def _by_id(objects: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    def key(obj: dict[str, Any]) -> tuple[str, ...]:
        meta = obj["metadata"]
        return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]
    return sorted(((key(obj), obj) for obj in objects), key=lambda pair: pair[0])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_overlay_means_what_kustomize_means(case: Case, kustomized: dict[str, Result]) -> None:
    theirs = kustomized[case.id]
    ours = _fleetgen(Path(str(kustomized["_base"])) / case.id / "fleet", case)
    if case.fails:
        assert isinstance(theirs, str), "kustomize accepted the case"
        assert isinstance(ours, str), "fleetgen accepted what kustomize refuses"
        return
    assert not isinstance(theirs, str), theirs
    assert not isinstance(ours, str), ours
    assert _by_id(ours) == _by_id(theirs)
    assert ours != _objects(case.objects), "the case should change something"


def test_kustomize_cases_are_many_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


NAMED_LISTS_PATCH = ov("""
    patches:
    - patch: |
        apiVersion: cluster.x-k8s.io/v1beta1
        kind: Cluster
        metadata: {name: payments, namespace: prod}
        spec:
          topology:
            variables:
            - name: vcenter
              value:
                server: vc02.site-a.example.com
            workers:
              machineDeployments:
              - name: md-0
                replicas: 5
    """)


def test_kustomize_replaces_named_lists_where_fleetgen_merges(tmp_path: Path) -> None:
    kubectl()
    case = Case("named-lists", P, {"a": NAMED_LISTS_PATCH})
    _write_case(tmp_path, case)
    ours_objects, theirs_objects = _fleetgen(tmp_path / "fleet", case), _kustomize(tmp_path / "build")
    assert not isinstance(ours_objects, str) and not isinstance(theirs_objects, str)
    ours, theirs = dict(_by_id(ours_objects)), dict(_by_id(theirs_objects))
    key = ("cluster.x-k8s.io/v1beta1", "Cluster", "prod", "payments")
    ours_topology, theirs_topology = ours[key]["spec"]["topology"], theirs[key]["spec"]["topology"]

    # kustomize: the patch's lists replace the rendered ones whole.
    assert theirs_topology["variables"] == [{"name": "vcenter",
                                             "value": {"server": "vc02.site-a.example.com"}}]
    assert theirs_topology["workers"]["machineDeployments"] == [{"name": "md-0", "replicas": 5}]

    # fleetgen: items merge by name; every other variable and field stays.
    before = _objects(P)[0]["spec"]["topology"]
    assert [v["name"] for v in ours_topology["variables"]] == [v["name"] for v in before["variables"]]
    vcenter = next(v for v in ours_topology["variables"] if v["name"] == "vcenter")
    rendered = next(v for v in before["variables"] if v["name"] == "vcenter")
    assert vcenter == {"name": "vcenter",
                       "value": {**rendered["value"], "server": "vc02.site-a.example.com"}}
    assert ours_topology["workers"]["machineDeployments"] == [
        {**before["workers"]["machineDeployments"][0], "replicas": 5}]

    # Everything outside the two lists is the same.
    for topology in (ours_topology, theirs_topology):
        del topology["variables"], topology["workers"]["machineDeployments"]
    assert _by_id(list(ours.values())) == _by_id(list(theirs.values()))
