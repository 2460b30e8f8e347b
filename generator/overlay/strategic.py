"""Strategic merge as kustomize applies it to CRDs it knows no merge keys for, and fleetgen's
one deliberate difference: a Cluster's variables and machineDeployments merge by name."""

from __future__ import annotations

import copy
from typing import Any

from generator.overlay.objects import MISSING, PatchError, id_fields, kind_of, metadata
from generator.problems import path_text
from generator.yaml.load import Path_


# The two lists fleetgen merges by name in a Cluster (the deliberate difference).
_NAMED_LISTS = (("spec", "topology", "variables"),
                ("spec", "topology", "workers", "machineDeployments"))
# Strategic-merge directives kyaml does not implement: it would copy them into the object.
_UNSUPPORTED_DIRECTIVES = ("$retainKeys", "$setElementOrder/", "$deleteFromPrimitiveList/")


def merge(dest: Any, patch: Any, path: Path_, named: bool) -> Any:
    """kustomize's strategic merge of ``patch`` into ``dest`` (MISSING when absent) for CRDs it
    knows no merge keys for; MISSING as a result means "remove the key".

    Maps merge key by key; null removes a key (and is dropped from new maps); lists and scalars
    replace, lists verbatim (nulls kept); ``$patch: delete`` removes a map, ``$patch: replace``
    replaces it; a null in the object counts as absent. A map, list and scalar do not replace one
    another: kustomize fails with "wrong node kind", and so does this.
    """
    if patch is None:
        return MISSING
    if dest is None:
        dest = MISSING
    if isinstance(patch, dict):
        if dest is not MISSING and not isinstance(dest, dict):
            raise _conflict(path, dest, patch)  # even for $patch: delete, as in kustomize
        strategy = patch.get("$patch", "merge")
        if strategy == "delete":
            return MISSING
        if strategy == "replace":
            dest = MISSING
        merged = {} if dest is MISSING else dict(dest)
        for key, value in patch.items():
            if key == "$patch":
                continue
            result = merge(merged.get(key, MISSING), value, (*path, key), named)
            if result is MISSING:
                merged.pop(key, None)
            else:
                merged[key] = result
        return merged
    if isinstance(patch, list):
        if named and path in _NAMED_LISTS:
            return _merge_named_items(dest, patch, path)
        if dest is not MISSING and not isinstance(dest, list):
            raise _conflict(path, dest, patch)
        _refuse_directives(patch, path)
        return copy.deepcopy(patch)
    if isinstance(dest, (dict, list)):
        raise _conflict(path, dest, patch)
    return patch


def _merge_named_items(dest: Any, patch: list[Any], path: Path_) -> list[Any]:
    """fleetgen's one deliberate difference from kustomize: in a Cluster, strategic-merge patches
    merge ``spec.topology.variables`` and ``spec.topology.workers.machineDeployments`` item by
    item, matched by ``name``.

    Why: the Cluster CRD declares no merge key, so kustomize replaces these lists whole, and an
    overlay that changes one variable would have to repeat every other variable of every cluster
    it applies to. Cluster API itself identifies both by name (names are unique in each list), so
    merging by name is what such a patch means. Within an item, maps merge as everywhere else (a
    variable's ``value`` map merges recursively, lists in it replace); an item that is new is
    added at the end; ``{name: x, $patch: delete}`` removes item x; an item ``{$patch: replace}``
    makes the patch's items the whole list. JSON 6902 patches are unaffected.
    """
    where = path_text(path)
    for item in patch:
        if not isinstance(item, dict) or not (isinstance(item.get("name"), str)
                                              or item == {"$patch": "replace"}):
            raise PatchError("invalid-patch", f"each item of {where} needs a name",
                             f"fleetgen merges {where} by name")
    if dest is not MISSING and not isinstance(dest, list):
        raise _conflict(path, dest, patch)
    replace = {"$patch": "replace"} in patch
    merged: list[Any] = [] if replace or dest is MISSING else list(dest)
    for item in patch:
        if item == {"$patch": "replace"}:
            continue
        index = next((i for i, old in enumerate(merged)
                      if isinstance(old, dict) and old.get("name") == item["name"]), None)
        result = merge(MISSING if index is None else merged[index], item, (*path, item["name"]),
                       False)
        if index is None and result is not MISSING:
            merged.append(result)
        elif index is not None and result is MISSING:
            del merged[index]
        elif index is not None:
            merged[index] = result
    return merged


def _refuse_directives(value: Any, path: Path_) -> None:
    """A list replaces whole and kustomize copies it verbatim, directives included: refuse them
    rather than write '$patch' into an object."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_directives(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            if is_directive(key):
                raise PatchError(
                    "unsupported-patch", f"'{key}' inside the list {path_text(path)}",
                    "this list has no merge key, so a patch replaces it whole and kustomize "
                    "would copy the directive into the object; write the whole list instead")
            _refuse_directives(item, (*path, key))


def is_directive(key: Any) -> bool:
    return isinstance(key, str) and (key == "$patch" or key.startswith(_UNSUPPORTED_DIRECTIVES))


def _conflict(path: Path_, dest: Any, patch: Any) -> PatchError:
    return PatchError("patch-failed",
                      f"{path_text(path)} is {kind_of(dest)} in the object but {kind_of(patch)} in "
                      "the patch", "a patch can replace a value only with one of the same kind "
                      "(mapping, list or scalar); delete it first with null")


def is_capi_cluster(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Cluster" and id_fields(obj)["group"] == "cluster.x-k8s.io"


def keep_identity(merged: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """kustomize gives a patched object back its apiVersion, kind, name and namespace, whatever
    the strategic-merge patch said: with a target, those fields of a patch only address it."""
    for field in ("apiVersion", "kind"):
        if field in original:
            merged[field] = original[field]
    before = metadata(original)
    if not isinstance(merged.get("metadata"), dict):
        merged["metadata"] = {}
    for field in ("name", "namespace"):
        if field in before:
            merged["metadata"][field] = before[field]
        else:
            merged["metadata"].pop(field, None)
    return merged
