"""Stage 5: turn rendered documents into the exact bytes of every file, kustomizations included.

Canonical form: ``apiVersion, kind, metadata, spec`` first, then the other keys as the template
gave them; two-space indentation, no anchors, no folded lines, LF, one final newline; strings that
a YAML 1.1 or 1.2 reader would retype are quoted. Every file, kustomizations included, is written
by ``generator.yaml.dump``, the one writer of YAML.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from generator.paths import GITOPS_DIR
from generator.render.layout import RenderedFile
from generator.yaml.dump import dump

HEAD_KEYS = ("apiVersion", "kind", "metadata", "spec")
KUSTOMIZATION = "kustomization.yaml"


def canonical_object(doc: Any) -> Any:
    if not isinstance(doc, dict) or "kind" not in doc:
        return doc
    head = {k: doc[k] for k in HEAD_KEYS if k in doc}
    return {**head, **{k: v for k, v in doc.items() if k not in head}}


def file_text(rendered: RenderedFile) -> str:
    if rendered.text is not None:
        return rendered.text
    return rendered.header + "---\n".join(dump(canonical_object(doc))
                                           for doc in rendered.documents)


def _resources(paths: list[str]) -> dict[str, set[str]]:
    """Per folder that holds (or contains folders that hold) objects, what it lists."""
    resources: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            resources["/".join(parts[:depth])].add(parts[depth])
    # rendered/_gitops/ gets none either: each management cluster's bootstrap is applied on that
    # management cluster only (issue 18, helper G).
    resources.pop(GITOPS_DIR, None)
    return resources


def kustomization_paths(paths: list[str]) -> list[str]:
    """The paths of the kustomization files ``kustomizations`` writes (cheap: no text)."""
    return [f"{folder}/{KUSTOMIZATION}" for folder in sorted(_resources(paths))]


def kustomizations(paths: list[str]) -> list[RenderedFile]:
    """A kustomization.yaml in every folder that holds (or contains folders that hold) objects.

    ``paths`` are the Kubernetes object files; the top level (``rendered/`` itself) gets none,
    because each management cluster is synced on its own.
    """
    out = []
    for folder, entries in sorted(_resources(paths).items()):
        text = dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": sorted(entries, key=_resource_order)})
        out.append(RenderedFile(f"{folder}/{KUSTOMIZATION}", (), kubernetes=False, text=text))
    return out


def _resource_order(entry: str) -> tuple[int, str]:
    # Files before folders, and the shared `_global` folder before namespaces.
    return (0 if entry.endswith(".yaml") else 1, entry)


def emit(files: list[RenderedFile]) -> dict[str, bytes]:
    """The bytes of each file, by path."""
    return {f.path: file_text(f).encode("utf-8") for f in files}


def emit_kustomizations(object_paths: list[str]) -> dict[str, bytes]:
    """The kustomizations over ``object_paths`` (every Kubernetes object file of the whole fleet,
    so a partial render still lists every cluster)."""
    return emit(kustomizations(object_paths))
