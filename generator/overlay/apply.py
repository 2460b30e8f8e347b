"""Applying loaded overlays to objects in kustomize's order: components, then patches, then
labels, then commonAnnotations."""

from __future__ import annotations

import copy
from typing import Any

from generator.overlay.jsonpatch import Budget, annotations_while_patching, apply_op
from generator.overlay.load import Overlay, Patch
from generator.overlay.objects import MISSING, PatchError, describe, id_fields, metadata
from generator.overlay.strategic import is_capi_cluster, keep_identity, merge
from generator.problems import FleetError, Location, Problem


def apply_overlays(objects: list[dict[str, Any]],
                   overlays: list[Overlay]) -> list[dict[str, Any]]:
    """Apply ``overlays`` in order, as kustomize applies a list of components, to copies of
    ``objects``; return them in the same order (without objects a ``$patch: delete`` removed).
    Raise FleetError with every problem of every overlay."""
    applier = _Applier([_copy(obj) for obj in objects])
    for overlay in overlays:
        applier.overlay(overlay)
    if applier.problems:
        raise FleetError(dict.fromkeys(applier.problems))
    return applier.objects


def _copy(value: Any) -> Any:
    """A copy of plain YAML data (maps, lists, scalars): copy.deepcopy without its bookkeeping
    for shared and cyclic objects, which parsed YAML without aliases cannot hold."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    if isinstance(value, (dict, list)):
        return copy.deepcopy(value)
    return value


def _identity(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("namespace") or ""),
            str(meta.get("name")))


def overlay_objects(objects: list[dict[str, Any]], overlays: list[Overlay], where: str
                    ) -> list[dict[str, Any]]:
    """``apply_overlays`` for one cluster's rendered objects, which must come out as the same
    objects (patched): rendered/ lists every object in its kustomizations, so an overlay may not
    delete or add one (``where`` names the cluster for that error)."""
    out = apply_overlays(objects, overlays)
    if [_identity(o) for o in out] != [_identity(o) for o in objects]:
        raise FleetError([Problem(Location(overlays[-1].file), "patch-deletes-object",
                                  f"the overlays of {where} delete or replace a whole object",
                                  "remove the object in the inventory instead")])
    return out


class _Applier:
    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects
        self.problems: list[Problem] = []

    def overlay(self, overlay: Overlay) -> None:
        for component in overlay.components:
            self.overlay(component)
        for patch in overlay.patches:
            if patch.json6902:
                self._json6902(patch)
            else:
                for index, document in enumerate(patch.documents):
                    self._strategic(patch, document, index if len(patch.documents) > 1 else None)
        self._set_metadata("labels", overlay.labels)
        self._set_metadata("annotations", overlay.annotations)

    def _set_metadata(self, field: str, pairs: tuple[tuple[str, str], ...]) -> None:
        if not pairs:
            return  # kustomize does not add an empty map either
        for obj in self.objects:
            if not isinstance(obj.get("metadata"), dict):
                obj["metadata"] = {}
            meta = obj["metadata"]
            if not isinstance(meta.get(field), dict):
                meta[field] = {}
            meta[field].update(pairs)

    def _no_match(self, patch: Patch, what: str) -> None:
        if patch.optional:
            return
        shown = ", ".join(describe(obj) for obj in self.objects) or "none"
        self.problems.append(Problem(
            patch.location, "patch-no-match", f"{patch.label} ({what}) matches no object",
            f"the objects are: {shown}; fix the target, or add 'optional: true' to the entry if "
            "the patch is meant for some clusters only"))

    def _fail(self, patch: Patch, obj: dict[str, Any], error: PatchError) -> None:
        self.problems.append(Problem(patch.location, error.code,
                                     f"{patch.label} on {describe(obj)}: {error.message}",
                                     error.hint))

    def _strategic(self, patch: Patch, document: dict[str, Any], index: int | None) -> None:
        if patch.target is not None:
            chosen = [i for i, obj in enumerate(self.objects) if patch.target.matches(obj)]
            what = f"target {patch.target.text or 'any object'}"
        else:
            # Without a target the patch names its object: apiVersion, kind, name, namespace.
            chosen = [i for i, obj in enumerate(self.objects) if _same_id(obj, document)]
            what = describe(document) + (f", document {index + 1}" if index is not None else "")
        if not chosen:
            self._no_match(patch, what)
            return
        deleted: set[int] = set()
        for i in chosen:
            obj = self.objects[i]
            try:
                merged = merge(obj, document, (), is_capi_cluster(obj))
            except PatchError as error:
                self._fail(patch, obj, error)
                continue
            if merged is MISSING:
                deleted.add(i)
            else:
                self.objects[i] = keep_identity(merged, obj)
        self.objects = [obj for i, obj in enumerate(self.objects) if i not in deleted]

    def _json6902(self, patch: Patch) -> None:
        assert patch.target is not None  # refused at load time otherwise
        chosen = [i for i, obj in enumerate(self.objects) if patch.target.matches(obj)]
        if not chosen:
            self._no_match(patch, f"target {patch.target.text or 'any object'}")
            return
        for i in chosen:
            obj = copy.deepcopy(self.objects[i])
            added = annotations_while_patching(obj)
            budget = Budget(patch.budget)
            try:
                for number, op in enumerate(patch.documents, 1):
                    apply_op(obj, op, number, self.objects[i], budget)
            except PatchError as error:
                self._fail(patch, self.objects[i], error)
                continue
            meta = metadata(obj)
            if added and meta.get("annotations") == {}:
                del meta["annotations"]
            self.objects[i] = obj


def _same_id(obj: dict[str, Any], patch: dict[str, Any]) -> bool:
    mine, theirs = id_fields(obj), id_fields(patch)
    return all(mine[f] == theirs[f] for f in ("group", "version", "kind", "name", "namespace"))
