"""What the overlay filters share about the objects they change: the MISSING marker,
PatchError, and an object's metadata, identity fields and kind of value."""

from __future__ import annotations

from typing import Any


class _Missing:
    """Marks a key that is absent (or is to be removed), as opposed to one holding null."""

    def __repr__(self) -> str:
        return "MISSING"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self  # one marker, compared with 'is'


MISSING: Any = _Missing()


class PatchError(Exception):
    """A patch that cannot be applied to an object: a problem's code, message and hint."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def id_fields(obj: dict[str, Any]) -> dict[str, str]:
    """The fields a target selects on and a patch without one names its object by."""
    api_version = str(obj.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    meta = metadata(obj)
    # kustomize does not know our CRDs, so it takes every kind for namespaced: no namespace
    # means "default" (a target namespace 'default' selects a GlobalInClusterIPPool).
    return {"group": group, "version": version, "kind": str(obj.get("kind") or ""),
            "name": str(meta.get("name") or ""),
            "namespace": str(meta.get("namespace") or "default")}


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``'s metadata map, or an empty one if it has none."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def kind_of(value: Any) -> str:
    """How messages name the kind of a value: a mapping, a list or a scalar."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a scalar"


def describe(obj: dict[str, Any]) -> str:
    """An object as messages name it: ``Kind namespace/name``."""
    meta = metadata(obj)
    namespace = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {namespace}{meta.get('name', '?')}"
