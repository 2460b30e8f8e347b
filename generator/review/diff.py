"""Stage: compare two versions of ``rendered/`` semantically.

Kubernetes objects are matched by apiVersion, kind, namespace and name; inside them, lists whose
items all carry a unique ``name`` (topology variables, machine deployments) are compared by name,
so reordering alone is no change; pool ``addresses`` are compared as address sets. Flat configs
and feature files are compared key by key, other text files line by line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from collections.abc import Mapping
from typing import Any, Literal

from deepdiff import DeepDiff
from ruamel.yaml.error import YAMLError

from generator.net.addresses import AddressSet
from generator.load.model import POOL_KINDS
from generator.secrets import masked, scrub
from generator.problems import path_text
from generator.render.layout import cluster_folder
from generator.review.tree import changed_only, unchanged
from generator.yaml.fast import load_fast_all

Kind = Literal["added", "removed", "changed"]
IGNORED_FIELDS = ("TKR_DATA",)  # written by a TKG webhook at admission, never by fleetgen


@dataclass(frozen=True)
class FieldChange:
    """One changed field. ``path``/``old``/``new`` are the matching form the risk rules read
    (list items matched by name as ``[name]``, with ``name`` dropped from values);
    ``object_path``/``object_old``/``object_new`` are as they are in the objects
    (``spec.topology.variables[name=network]``, values whole): what reports show."""

    path: str
    old: Any
    new: Any
    object_path: str = ""
    object_old: Any = None
    object_new: Any = None

    @property
    def shown(self) -> tuple[str, Any, Any]:
        if not self.object_path:
            return self.path, self.old, self.new
        return self.object_path, self.object_old, self.object_new


@dataclass(frozen=True)
class AddressDelta:
    added: AddressSet
    removed: AddressSet

    @property
    def net(self) -> int:
        return self.added.size - self.removed.size


@dataclass(frozen=True)
class ObjectRef:
    """A Kubernetes object as the report names it: structured, so nothing parses titles."""

    kind: str
    namespace: str | None  # None for cluster-scoped objects (a GlobalInClusterIPPool)
    name: str


@dataclass
class Change:
    kind: Kind
    file: str                       # below rendered/
    title: str                      # "Cluster prod/payments" or the file for non-objects
    cluster: str | None             # the mgmt/ns/name folder it belongs to, if any
    fields: list[FieldChange] = field(default_factory=list)
    addresses: AddressDelta | None = None
    old: Any = None
    new: Any = None
    ref: ObjectRef | None = None    # the object, when the change is to a Kubernetes object
    live: bool = False              # the old side is the live object (diff --live)
    removes: tuple[str, ...] = ()   # diff --live: what a sync removes from the live object

    @property
    def object_kind(self) -> str | None:
        return self.title.split(" ", 1)[0] if " " in self.title else None


def dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…`` through maps only; None where a step is missing or not a map (an
    old ``rendered/`` or a live export is input: any shape may come)."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- parsing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One comparable unit of a rendered tree: an object, a config mapping or a text file."""

    key: str
    file: str
    title: str
    content: Any
    ref: ObjectRef | None = None


def items_of(files: dict[str, bytes]) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for path, data in sorted(files.items()):
        name = PurePosixPath(path).name
        if name == "kustomization.yaml" or name.startswith("."):
            continue  # indexes: derived from the objects, which are compared themselves
        if not name.endswith(".yaml"):
            out[path] = Item(path, path, path, data.decode("utf-8", "replace"))
            continue
        try:
            docs = load_fast_all(data.decode("utf-8", "replace"))
        except YAMLError:
            out[path] = Item(path, path, path, data.decode("utf-8", "replace"))
            continue
        for doc in docs:
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            if isinstance(meta, dict) and "name" in meta and "kind" in doc:
                ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
                # Scoped by the management cluster's folder: the same namespace/name on two
                # management clusters is two objects, and a Cluster moved from one management
                # cluster to another is a removal and an addition, not "no change".
                scope = path.split("/", 1)[0]
                key = f"{scope}|{doc.get('apiVersion')}|{doc['kind']}|{ns}{meta['name']}"
                out[key] = Item(key, path, f"{doc['kind']} {ns}{meta['name']}", doc,
                                ObjectRef(str(doc["kind"]), str(meta["namespace"])
                                          if meta.get("namespace") else None, str(meta["name"])))
            else:
                out[path] = Item(path, path, path, doc)
    return out


# --- comparing -------------------------------------------------------------------------------

def by_name(value: Any) -> Any:
    """Lists of named maps become maps keyed ``[name]``, recursively, so order does not count."""
    if isinstance(value, dict):
        return {k: by_name(v) for k, v in value.items() if k not in IGNORED_FIELDS and not (
            k == "name" and v in IGNORED_FIELDS)}
    if isinstance(value, list):
        names = [v.get("name") for v in value if isinstance(v, dict)]
        if value and len(names) == len(value) and None not in names and \
                len(set(map(str, names))) == len(names):
            return {f"[{v['name']}]": by_name({k: x for k, x in v.items() if k != "name"})
                    for v in value if v.get("name") not in IGNORED_FIELDS}
        return [by_name(v) for v in value]
    return value


_ABSENT = object()


def _unmatched(value: Any) -> Any:
    """A value as in the object, less the fields the comparison ignores."""
    if isinstance(value, dict):
        return {k: _unmatched(v) for k, v in value.items() if k not in IGNORED_FIELDS}
    if isinstance(value, list):
        return [_unmatched(v) for v in value
                if not (isinstance(v, dict) and v.get("name") in IGNORED_FIELDS)]
    return value


def in_object(doc: Any, parts: list[Any]) -> tuple[list[Any], Any]:
    """A matching-form path (``[name]`` parts) followed in the object itself: the path as
    people write it (``[name=network]``) and the value there (``_ABSENT`` if none)."""
    node: Any = doc
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str) and part.startswith("[") and part.endswith("]") and \
                isinstance(node, list):
            name = part[1:-1]
            out.append(f"[name={name}]")
            node = next((v for v in node if isinstance(v, dict) and "name" in v
                         and str(v["name"]) == name), _ABSENT)
        elif isinstance(node, dict) and not isinstance(part, int):
            out.append(part)
            node = node.get(part, _ABSENT)
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if -len(node) <= part < len(node) else _ABSENT
        else:
            out.append(part)
            node = _ABSENT
    return out, node


def field_changes(old: Any, new: Any) -> list[FieldChange]:
    tree = DeepDiff(by_name(old), by_name(new), view="tree", verbose_level=2)
    out = []
    for report in tree.values():
        for level in report:
            parts = level.path(output_format="list")
            old_value = None if _missing(level.t1) else level.t1
            new_value = None if _missing(level.t2) else level.t2
            key = str(parts[-1]) if parts else ""
            old_path, old_object = in_object(old, parts)
            new_path, new_object = in_object(new, parts)
            shown = new_path if new_object is not _ABSENT else old_path
            out.append(FieldChange(
                path_text(parts), masked(old_value, key), masked(new_value, key),
                path_text(shown),
                None if old_object is _ABSENT else masked(_unmatched(old_object), key),
                None if new_object is _ABSENT else masked(_unmatched(new_object), key)))
    return sorted(out, key=lambda f: f.path)


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _pool_addresses(doc: Any) -> AddressSet:
    try:
        return AddressSet.parse((doc.get("spec") or {}).get("addresses") or [])
    except ValueError:
        return AddressSet()


def _without_addresses(doc: Any) -> Any:
    spec = {k: v for k, v in (doc.get("spec") or {}).items() if k != "addresses"}
    return {**doc, "spec": spec}


def _is_pool(item: Item) -> bool:
    return isinstance(item.content, dict) and item.content.get("kind") in POOL_KINDS


def compare(old_files: Mapping[str, bytes], new_files: dict[str, bytes]) -> list[Change]:
    """Every change from ``old_files`` to ``new_files`` (paths below rendered/)."""
    # Bytes first: a file that did not change holds no change, so it is never parsed (nor,
    # when git knows its blob id, read: see review.tree).
    same = unchanged(old_files, new_files)
    return compare_items(items_of(changed_only(old_files, same)),
                         items_of({p: d for p, d in new_files.items() if p not in same}))


def compare_items(old: dict[str, Item], new: dict[str, Item],
                  live: frozenset[str] = frozenset(),
                  removes: dict[str, list[str]] | None = None) -> list[Change]:
    """Every change from the ``old`` items to the ``new`` ones (``live``: the keys whose old
    item is the live object; ``removes``: by key, what a sync removes from it)."""
    changes: list[Change] = []
    for key in sorted(set(old) | set(new)):
        change = _compare_one(old.get(key), new.get(key))
        if change is None and (removes or {}).get(key):
            item = new[key]  # only what admission puts back differs: still a removal
            change = Change("changed", item.file, item.title, cluster_folder(item.file),
                            old=masked(old[key].content), new=masked(item.content), ref=item.ref)
        if change is not None:
            change.live = key in live and change.kind != "added"
            change.removes = tuple((removes or {}).get(key, ())) if change.live else ()
            changes.append(change)
    return changes


def _compare_one(a: Item | None, b: Item | None) -> Change | None:
    ref = b or a
    assert ref is not None
    cluster = cluster_folder(ref.file)
    if a is None or b is None:
        kind: Kind = "added" if a is None else "removed"
        change = Change(kind, ref.file, ref.title, cluster, old=masked(a.content) if a else None,
                        new=masked(b.content) if b else None, ref=ref.ref)
        if _is_pool(ref):
            addresses = _pool_addresses(ref.content)
            change.addresses = AddressDelta(addresses if b else AddressSet(),
                                            AddressSet() if b else addresses)
        return change
    if isinstance(a.content, str) or isinstance(b.content, str):
        if a.content == b.content:
            return None
        lines = list(difflib.unified_diff(str(a.content).splitlines(),
                                          str(b.content).splitlines(), lineterm="", n=0))
        return Change("changed", b.file, b.title, cluster, [
            FieldChange("lines", None, scrub("\n".join(lines[2:])))])
    if _is_pool(a) and _is_pool(b):
        before, after = _pool_addresses(a.content), _pool_addresses(b.content)
        fields = field_changes(_without_addresses(a.content), _without_addresses(b.content))
        delta = AddressDelta(after.difference(before), before.difference(after))
        if not (fields or delta.added or delta.removed):
            return None
        return Change("changed", b.file, b.title, cluster, fields,
                      delta if (delta.added or delta.removed) else None,
                      masked(a.content), masked(b.content), b.ref)
    fields = field_changes(a.content, b.content)
    if not fields:
        return None
    return Change("changed", b.file, b.title, cluster, fields,
                  old=masked(a.content), new=masked(b.content), ref=b.ref)
