"""JSON 6902 patches with the semantics of the json-patch library kustomize uses: RFC 6901
pointers and the six operations, within a ``Budget`` of what one patch may build in an object
(forty ``copy`` operations of a value into itself would otherwise build 2⁴⁰ copies)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterator

from generator.overlay.objects import MISSING, PatchError, kind_of, metadata
from generator.problems import show_value


def annotations_while_patching(obj: dict[str, Any]) -> bool:
    """Give ``obj`` an empty metadata.annotations map if it has none; True if it was added.

    kustomize keeps internal annotations (``internal.config.kubernetes.io/previousNames``, …) on
    every object while a JSON 6902 patch runs, so to such a patch metadata.annotations always
    exists: adding /metadata/annotations/x works on an object without annotations. The map is
    dropped again when the patch leaves it empty, as kustomize drops its internal annotations."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "annotations" not in meta:
        meta["annotations"] = {}
        return True
    return False


def parse_pointer(text: Any) -> tuple[str, ...] | None:
    """The keys of an RFC 6901 pointer, or None if ``text`` is not one (or points at the whole
    object, which an overlay cannot replace).

    >>> parse_pointer("/metadata/annotations/example.com~1owner"), parse_pointer("spec/x")
    (('metadata', 'annotations', 'example.com/owner'), None)
    """
    if not isinstance(text, str) or not text.startswith("/"):
        return None
    tokens = text[1:].split("/")
    if any(re.search(r"~(?![01])", token) for token in tokens):
        return None
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)


class Budget:
    """What one patch may still build in one object, in characters of text plus one per value:
    every operation costs at least one, ``add``, ``replace`` and ``test`` the size of their value,
    ``copy`` the size of what it copies (counted before anything is copied)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def charge(self, value: Any) -> None:
        """Take ``value``'s size from the budget; raise PatchError (``patch-limit``) as soon as
        it runs out, without walking the rest of ``value``."""
        pending = [value]
        while pending:
            item = pending.pop()
            self.left -= 1 + (len(item) if isinstance(item, str) else 0)
            if self.left < 0:
                raise PatchError("patch-limit", f"would build more than {self.limit} characters "
                                 "and values", "limits.patchSize in fleetgen.yaml bounds what "
                                 "one patch may build in one object")
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)


def apply_op(doc: dict[str, Any], op: dict[str, Any], number: int,
             original: dict[str, Any], budget: Budget | None = None) -> None:
    """Apply one operation in place with the semantics of the json-patch library kustomize uses
    (evanphx/json-patch v4), which differ from RFC 6902 in places kustomize users rely on:
    negative list indexes count from the end, ``replace`` of a missing map key adds it, and
    ``test`` of a missing key against null passes. ``budget``: what the patch may still build."""
    kind, path = op["op"], parse_pointer(op["path"])
    assert path is not None  # checked at load time
    source = f"{op['from']} to " if kind in ("move", "copy") else ""
    shown = f"operation {number} ({kind} {source}{op['path']})"
    budget = budget or Budget(10 ** 6)
    try:
        budget.charge(op.get("value") if kind in ("add", "replace", "test") else None)
        if kind == "add":
            _add(_parent(doc, path), path[-1], copy.deepcopy(op["value"]), path)
        elif kind == "remove":
            _remove(_parent(doc, path), path[-1], path)
        elif kind == "replace":
            _replace(_parent(doc, path), path[-1], copy.deepcopy(op["value"]), path)
        elif kind in ("move", "copy"):
            from_path = parse_pointer(op["from"])
            assert from_path is not None
            _move_or_copy(doc, kind, from_path, path, budget)
        else:
            _test(doc, path, op["value"])
    except PatchError as error:
        raise PatchError(error.code, f"{shown}: {error.message}", error.hint) from None
    change = next(_identity_changes(original, doc), None)
    if change is not None:
        field, before, after = change
        raise PatchError("patch-identity", f"{shown} would change {field} from "
                         f"{show_value(before)} to {show_value(after)}", "an overlay adjusts "
                         "objects; it cannot rename, move or retype them (the inventory decides "
                         "those)")


def _identity_changes(before: dict[str, Any],
                      after: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for field, old, new in (("apiVersion", before.get("apiVersion"), after.get("apiVersion")),
                            ("kind", before.get("kind"), after.get("kind")),
                            ("metadata.name", metadata(before).get("name"),
                             metadata(after).get("name")),
                            ("metadata.namespace", metadata(before).get("namespace"),
                             metadata(after).get("namespace"))):
        if old != new or type(old) is not type(new):
            yield field, old, new


def _pointer_text(path: tuple[str, ...]) -> str:
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in path) if path else "/"


def _parent(doc: Any, path: tuple[str, ...]) -> Any:
    node = doc
    for depth, token in enumerate(path[:-1]):
        node = _get(node, token, path[:depth + 1])
        if node is MISSING or node is None:
            raise PatchError("patch-failed",
                             f"there is nothing at {_pointer_text(path[:depth + 1])}")
        if not isinstance(node, (dict, list)):
            raise PatchError("patch-failed", f"{_pointer_text(path[:depth + 1])} is "
                             f"{kind_of(node)}, not a mapping or list")
    return node


def _get(node: Any, token: str, at: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        return node.get(token, MISSING)
    return node[_index(node, token, at, len(node) - 1)]


def _index(items: list[Any], token: str, at: tuple[str, ...], last: int) -> int:
    """The list index ``token`` means, counting from the end when negative; ``last`` is the
    highest index allowed (len for add, len - 1 otherwise)."""
    if not re.fullmatch(r"[+-]?[0-9]+", token):
        raise PatchError("patch-failed", f"'{token}' is not an index into the list at "
                         f"{_pointer_text(at[:-1])}")
    index = int(token)
    if index < 0:
        index += last + 1
    if not 0 <= index <= last:
        raise PatchError("patch-failed", f"index {token} is out of range: the list at "
                         f"{_pointer_text(at[:-1])} has {len(items)} items")
    return index


def _add(parent: Any, token: str, value: Any, path: tuple[str, ...]) -> None:
    if isinstance(parent, dict):
        parent[token] = value
    elif token == "-":
        parent.append(value)
    else:
        parent.insert(_index(parent, token, path, len(parent)), value)


def _remove(parent: Any, token: str, path: tuple[str, ...]) -> Any:
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError("patch-failed", f"there is nothing at {_pointer_text(path)}")
        return parent.pop(token)
    return parent.pop(_index(parent, token, path, len(parent) - 1))


def _replace(parent: Any, token: str, value: Any, path: tuple[str, ...]) -> None:
    if isinstance(parent, dict):
        parent[token] = value  # json-patch v4 adds a missing key here
    else:
        parent[_index(parent, token, path, len(parent) - 1)] = value


def _move_or_copy(doc: dict[str, Any], kind: str, source: tuple[str, ...],
                  path: tuple[str, ...], budget: Budget) -> None:
    if kind == "move" and path[:len(source)] == source and path != source:
        raise PatchError("patch-failed", f"cannot move {_pointer_text(source)} into itself")
    parent = _parent(doc, source)
    if kind == "move":
        value = _remove(parent, source[-1], source)
    else:
        value = _get(parent, source[-1], source)
        if value is MISSING:
            raise PatchError("patch-failed", f"there is nothing at {_pointer_text(source)} to copy",
                             "kustomize would write null")
        budget.charge(value)
        value = copy.deepcopy(value)
    _add(_parent(doc, path), path[-1], value, path)


def _test(doc: dict[str, Any], path: tuple[str, ...], expected: Any) -> None:
    actual = _get(_parent(doc, path), path[-1], path)
    actual = None if actual is MISSING else actual
    if not _same_json(actual, expected):
        shown = "missing" if actual is None else json.dumps(actual, separators=(",", ":"))
        raise PatchError("patch-test-failed", f"the value at {_pointer_text(path)} is "
                         f"{shown}, not {json.dumps(expected, separators=(',', ':'))}",
                         "the object is not what the patch expects: check the inventory, or "
                         "the test value")


def _same_json(a: Any, b: Any) -> bool:
    """Equality as json-patch's test sees it: scalars equal only as the same JSON text (24 is not
    24.0, "24" or true); mappings regardless of key order, lists in order."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return json.dumps(a) == json.dumps(b)
