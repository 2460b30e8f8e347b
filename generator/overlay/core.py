"""Overlays: kustomize Components applied by fleetgen, so what lands in rendered/ is final.

An overlay is ``overlays/<name>/overlay.yaml``. Its fields are kustomize's and mean exactly what a
``kind: Component`` kustomization with those fields means to kustomize 5 applied to our CRDs
(``Cluster`` cluster.x-k8s.io/v1beta1, ``InClusterIPPool`` / ``GlobalInClusterIPPool``
ipam.cluster.x-k8s.io/v1alpha2); ``tests/test_kustomize_conformance.py`` holds fleetgen to that
against real kustomize. Fields: ``patches`` (strategic merge or JSON 6902, inline or ``path:``,
with an optional ``target``), ``labels``, ``commonAnnotations`` and ``components``.

Order, as kustomize applies one component: its ``components`` (in list order, each completely),
then its ``patches`` (in list order), then ``labels``, then ``commonAnnotations``. So a patch's
``labelSelector`` sees labels set by earlier components but not by its own overlay, and
``labels`` win over a patch that sets the same label. A component listed twice (also through two
other components) is applied twice, as kustomize does.

Deliberate differences from kustomize (most are refusals: where kustomize gives a result, fleetgen
gives the same one or a located error):

* a patch whose target matches nothing is an error unless the entry says ``optional: true``
  (kustomize skips such a patch silently, so a renamed object would silently lose its patch);
* strategic-merge patches merge ``spec.topology.variables`` and
  ``spec.topology.workers.machineDeployments`` of a Cluster by ``name``
  (see ``_merge_named_items``);
* refused because kustomize would ignore them, copy them into the object verbatim or guess:
  ``options`` (renames), ``$retainKeys``, ``$setElementOrder/…``, ``$deleteFromPrimitiveList/…``,
  ``$patch`` inside a list that is replaced whole, ``$patch: replace`` on a whole object, JSON
  pointers that are not RFC 6901, JSON 6902 operations without ``value``, ``copy`` from a missing
  key, and any JSON 6902 patch that changes an object's apiVersion, kind, name or namespace;
* a JSON 6902 patch that reads ``/metadata/annotations`` whole (``test``, ``copy``) sees the
  object's annotations; kustomize also shows it its own internal ones, so such a ``test`` can
  differ (see ``_annotations_while_patching`` for the part fleetgen matches);
* YAML is read as YAML 1.2 everywhere, like inventories. kustomize reads JSON 6902 patches written
  in YAML as YAML 1.1 (an unquoted ``y`` is true there) and strategic-merge patches with YAML 1.1
  numbers (``0755`` is 493 there): quote such values.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from generator.paths import OVERLAY_FILE, OVERLAYS_DIR, cluster_overlay_file
from generator.problems import FleetError, Location, Problem, did_you_mean, path_text, show_value
from generator.yaml.io import Path_, Positions, load_positioned, load_positioned_all


_FIELDS = ("patches", "labels", "commonAnnotations", "components")
_PATCH_FIELDS = ("path", "patch", "target", "options", "optional")
_TARGET_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector",
                  "annotationSelector")
_LABEL_FIELDS = ("pairs", "includeSelectors", "includeTemplates")
_OPTION_FIELDS = ("allowNameChange", "allowKindChange")
_OPS = ("add", "remove", "replace", "move", "copy", "test")
_OP_FIELDS = ("op", "path", "from", "value")

# The two lists fleetgen merges by name in a Cluster (the deliberate difference).
_NAMED_LISTS = (("spec", "topology", "variables"),
                ("spec", "topology", "workers", "machineDeployments"))
# Strategic-merge directives kyaml does not implement: it would copy them into the object.
_UNSUPPORTED_DIRECTIVES = ("$retainKeys", "$setElementOrder/", "$deleteFromPrimitiveList/")


class _Missing:
    """Marks a key that is absent (or is to be removed), as opposed to one holding null."""

    def __repr__(self) -> str:
        return "MISSING"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self  # one marker, compared with 'is'


MISSING: Any = _Missing()


# --- the loaded form ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """One term of a label selector, as Kubernetes parses it: ``op`` is one of ``=``, ``!=``,
    ``in``, ``notin``, ``exists``, ``!``, ``>``, ``<``."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or not re.fullmatch(r"[+-]?[0-9]+", value):
            return False
        number, bound = int(value), int(self.values[0])
        return number > bound if self.op == ">" else number < bound


@dataclass(frozen=True)
class Target:
    """Which objects a patch applies to. Group, version, kind, name and namespace are regular
    expressions matching the whole value (kustomize anchors them); empty means any."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    label_selector: tuple[Requirement, ...] = ()
    annotation_selector: tuple[Requirement, ...] = ()
    text: str = ""

    def matches(self, obj: dict[str, Any]) -> bool:
        fields = _id_fields(obj)
        if not all(pattern.fullmatch(fields[field]) for field, pattern in self.patterns):
            return False
        meta = _metadata(obj)
        return (all(r.matches(_string_map(meta.get("labels"))) for r in self.label_selector)
                and all(r.matches(_string_map(meta.get("annotations")))
                        for r in self.annotation_selector))


@dataclass(frozen=True)
class Patch:
    """One ``patches`` entry: a strategic-merge patch (one or more documents) or a JSON 6902 patch
    (its operations), with where it was written."""

    location: Location
    label: str  # how messages name it: "patches[0]" or "patches[0] (sizing.yaml)"
    json6902: bool
    documents: tuple[Any, ...]
    target: Target | None
    optional: bool


@dataclass(frozen=True)
class Overlay:
    """A loaded overlay with its components loaded (each an Overlay, in order)."""

    name: str
    file: str  # relative to the fleet root
    components: tuple[Overlay, ...]
    patches: tuple[Patch, ...]
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]


# --- loading -----------------------------------------------------------------------------------

def load_overlay(root: Path, name: str) -> Overlay:
    """Load ``overlays/<name>/overlay.yaml`` under the fleet ``root`` and every component it uses;
    raise FleetError with every problem found."""
    loader = _Loader(root)
    folder = root / OVERLAYS_DIR / name
    overlay = loader.component(folder, name, Location(f"{OVERLAYS_DIR}/{name}/{OVERLAY_FILE}"),
                               "overlay")
    return loader.finish(overlay)


def load_overlay_file(root: Path, path: Path) -> Overlay:
    """Load an overlay file anywhere under ``root`` (such as a cluster's own patches beside its
    inventory); its ``path:`` entries resolve against its folder, its components must still be
    folders under ``overlays/``."""
    loader = _Loader(root)
    full = (path if path.is_absolute() else root / path).resolve()
    if not _inside(full, loader.root):
        loader.problems.append(Problem(Location(path.as_posix()), "outside-root",
                                       f"overlay file {path.as_posix()} is not under {root}"))
        return loader.finish(None)
    rel = loader.rel(full)
    if not full.is_file():
        loader.problems.append(Problem(Location(rel), "overlay-missing",
                                       f"no overlay file {rel}"))
        return loader.finish(None)
    return loader.finish(loader.file(full, rel))


class _Loader:
    """Loads each overlay file once (a component may be used by several overlays) and finds
    component cycles along the way."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.overlays = (self.root / OVERLAYS_DIR).resolve()
        self.problems: list[Problem] = []
        self._cache: dict[Path, Overlay | None] = {}
        self._stack: list[tuple[Path, str]] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def finish(self, overlay: Overlay | None) -> Overlay:
        if self.problems or overlay is None:
            raise FleetError(dict.fromkeys(self.problems))
        return overlay

    def problem(self, location: Location, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(location, code, message, hint))

    def component(self, folder: Path, shown: str, where: Location,
                  noun: str = "component") -> Overlay | None:
        """The overlay in ``folder``, which must be a folder under overlays/ (symlinks resolved);
        ``where`` is the entry that names it, ``shown`` how that entry wrote it."""
        real = folder.resolve()
        if not _inside(real, self.overlays) or real == self.overlays:
            self.problem(where, "outside-root",
                         f"{noun} '{shown}' is outside {OVERLAYS_DIR}/",
                         f"{noun}s are folders under {OVERLAYS_DIR}/ of the fleet root")
            return None
        file = real / OVERLAY_FILE
        name = real.relative_to(self.overlays).as_posix()
        if not file.is_file():
            self.problem(where, "overlay-missing",
                         f"no overlay '{name}': "
                         f"{OVERLAYS_DIR}/{name}/{OVERLAY_FILE} does not exist",
                         f"create {OVERLAYS_DIR}/{name}/{OVERLAY_FILE} or fix the name")
            return None
        on_stack = [path for path, _ in self._stack]
        if file in on_stack:
            cycle = [n for _, n in self._stack[on_stack.index(file):]] + [name]
            self.problem(where, "component-cycle", "component cycle: " + " → ".join(cycle),
                         "an overlay cannot use itself, directly or through other components")
            return None
        return self.file(file, name)

    def file(self, file: Path, name: str) -> Overlay | None:
        if file not in self._cache:
            self._stack.append((file, name))
            self._cache[file] = self._read(file, name)
            self._stack.pop()
        return self._cache[file]

    def _read(self, file: Path, name: str) -> Overlay | None:
        rel = self.rel(file)
        text = self._read_text(file)
        if text is None:
            return None
        try:
            doc, pos = load_positioned(text, rel)
        except FleetError as exc:
            self.problems.extend(exc.problems)
            return None
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            self.problem(Location(rel, 1, 1), "not-a-mapping",
                         "an overlay file must be a mapping of kustomize Component fields",
                         "start the file with 'patches:', 'labels:', 'commonAnnotations:' or "
                         "'components:'")
            return None
        fields = _Fields(self, pos, rel)
        fields.known(doc, (), _FIELDS, "the overlay")
        components = [self._component_entry(file.parent, item, fields, ("components", i))
                      for i, item in enumerate(fields.entries(doc, ("components",)))]
        patches = [self._patch(file.parent, item, fields, ("patches", i))
                   for i, item in enumerate(fields.entries(doc, ("patches",)))]
        labels = [pair for i, entry in enumerate(fields.entries(doc, ("labels",)))
                  for pair in self._labels(entry, fields, ("labels", i))]
        annotations = fields.string_map(doc.get("commonAnnotations"), ("commonAnnotations",))
        return Overlay(name, rel, tuple(c for c in components if c is not None),
                       tuple(p for p in patches if p is not None), tuple(labels),
                       tuple(annotations))

    def _read_text(self, file: Path) -> str | None:
        try:
            return file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.problem(Location(self.rel(file), 1, 1), "encoding",
                         f"not UTF-8 text ({exc.reason})")
            return None

    def _component_entry(self, folder: Path, item: Any, fields: _Fields,
                         path: Path_) -> Overlay | None:
        if not fields.check_type(item, path, str, "text"):
            return None
        return self.component(folder / item, item, fields.value(path))

    def _labels(self, entry: Any, fields: _Fields, path: Path_) -> list[tuple[str, str]]:
        if not fields.check_type(entry, path, dict, "a mapping"):
            return []
        fields.known(entry, path, _LABEL_FIELDS, _name(path))
        for flag in ("includeSelectors", "includeTemplates"):
            # Both only reach selectors and pod templates of built-in kinds; our CRDs have
            # neither, so kustomize changes metadata.labels alone either way.
            if flag in entry:
                fields.check_type(entry[flag], (*path, flag), bool, "true or false")
        return fields.string_map(entry.get("pairs"), (*path, "pairs"))

    def _patch(self, folder: Path, entry: Any, fields: _Fields, path: Path_) -> Patch | None:
        if not fields.check_type(entry, path, dict, "a mapping"):
            return None
        fields.known(entry, path, _PATCH_FIELDS, _name(path))
        where = fields.value(path)
        label = _name(path)
        target = self._target(entry.get("target"), fields, (*path, "target"))
        optional = entry.get("optional", False)
        if not fields.check_type(optional, (*path, "optional"), bool, "true or false"):
            optional = False
        self._options(entry.get("options"), fields, (*path, "options"))
        if ("path" in entry) == ("patch" in entry):
            self.problem(where, "invalid-patch", f"{label} needs exactly one of 'path' and 'patch'",
                         "'patch' holds the patch itself, 'path' names a file beside the overlay")
            return None
        if "patch" in entry:
            if not fields.check_type(entry["patch"], (*path, "patch"), str, "text"):
                return None
            documents = self._inline(entry["patch"], fields.value((*path, "patch")), label)
        else:
            if not fields.check_type(entry["path"], (*path, "path"), str, "text"):
                return None
            documents = self._patch_file(folder, entry["path"], fields.value((*path, "path")))
            label = f"{label} ({entry['path']})"
        if documents is None:
            return None
        return self._classify(documents, where, label, target, optional,
                              entry.get("target") is not None)

    def _inline(self, text: str, where: Location, label: str) -> list[Any] | None:
        try:
            return [doc for doc, _ in load_positioned_all(text, where.path)]
        except FleetError as exc:
            # Positions inside the patch text are not positions in the file: report at 'patch:'.
            for p in exc.problems:
                self.problem(where, p.code, f"{label}: {p.message} (line {p.location.line} of "
                             "the patch)", p.hint)
            return None

    def _patch_file(self, folder: Path, name: str, where: Location) -> list[Any] | None:
        file = (folder / name).resolve()
        if not _inside(file, folder.resolve()):
            # kustomize's load restriction: a kustomization reads files in or below its folder.
            self.problem(where, "outside-root", f"patch file '{name}' is outside the overlay's "
                         "folder", "put the patch file in the overlay's folder or below it")
            return None
        if not file.is_file():
            self.problem(where, "missing-file", f"patch file '{name}' does not exist",
                         f"create {self.rel(file) if _inside(file, self.root) else file} "
                         "or fix the path")
            return None
        text = self._read_text(file)
        if text is None:
            return None
        try:
            return [doc for doc, _ in load_positioned_all(text, self.rel(file))]
        except FleetError as exc:
            self.problems.extend(exc.problems)
            return None

    def _classify(self, documents: list[Any], where: Location, label: str,
                  target: Target | None, optional: bool, has_target: bool) -> Patch | None:
        """Tell the two patch kinds apart as kustomize does: one document that is a list of
        mappings is a JSON 6902 patch; mappings with kind and metadata.name are strategic merge
        patches; anything else is neither."""
        documents = [doc for doc in documents if doc is not None]
        if len(documents) == 1 and isinstance(documents[0], list):
            ops = documents[0]
            if not all(isinstance(op, dict) for op in ops):
                self.problem(where, "invalid-patch",
                             f"{label} is a list, but not of JSON 6902 operations",
                             "each operation is a mapping such as "
                             "{op: replace, path: /spec/prefix, value: 24}")
                return None
            if target is None:
                if not has_target:  # otherwise the target was refused already
                    self.problem(where, "invalid-patch", f"{label} is a JSON 6902 patch without "
                                 "a target", "add 'target:' (kind, name, …) to say which objects "
                                 "it changes")
                return None
            if not all([self._check_op(op, i, where, label) for i, op in enumerate(ops)]):
                return None
            return Patch(where, label, True, tuple(ops), target, optional)
        if not documents or not all(_is_resource(doc) for doc in documents):
            self.problem(where, "invalid-patch",
                         f"{label} is neither a strategic-merge nor a JSON 6902 patch",
                         "a strategic-merge patch is an object with apiVersion, kind and "
                         "metadata.name; a JSON 6902 patch is a list of operations")
            return None
        if has_target and len(documents) > 1:
            self.problem(where, "invalid-patch",
                         f"{label} has {len(documents)} documents and a target",
                         "kustomize allows several strategic-merge patches in one entry only "
                         "without a target: split them into entries")
            return None
        if not all([self._check_smp(doc, (), where, label) for doc in documents]):
            return None
        return Patch(where, label, False, tuple(documents), target, optional)

    def _check_smp(self, node: Any, path: Path_, where: Location, label: str) -> bool:
        """Refuse directives kustomize would not apply (see the module docstring)."""
        ok = True
        if isinstance(node, list):
            return all([self._check_smp(item, (*path, i), where, label)
                        for i, item in enumerate(node)])
        if not isinstance(node, dict):
            return True
        at = _name(path) or "the top"
        for key, value in node.items():
            if key == "$patch":
                if value not in ("merge", "delete", "replace"):
                    self.problem(where, "invalid-patch", f"{label}: unknown $patch strategy "
                                 f"{show_value(value)} at {at}", "use delete, replace or merge")
                    ok = False
                elif value == "replace" and not path:
                    self.problem(where, "unsupported-patch", f"{label}: $patch: replace on a "
                                 "whole object", "kustomize ignores the whole patch then; "
                                 "replace spec with 'spec: {$patch: replace, …}'")
                    ok = False
            elif _is_directive(key):
                self.problem(where, "unsupported-patch", f"{label}: directive '{key}' at {at} is "
                             "not supported", "kustomize would copy it into the object as a "
                             "field; set the list or map you want instead")
                ok = False
            else:
                ok = self._check_smp(value, (*path, key), where, label) and ok
        return ok

    def _check_op(self, op: dict[str, Any], index: int, where: Location, label: str) -> bool:
        name = f"{label} operation {index + 1}"
        unknown = [key for key in op if key not in _OP_FIELDS]
        for key in unknown:
            self.problem(where, "unknown-key", f"unknown key '{key}' in {name}",
                         did_you_mean(str(key), list(_OP_FIELDS)))
        kind = op.get("op")
        if kind not in _OPS:
            self.problem(where, "invalid-patch", f"{name}: unknown operation {show_value(kind)}",
                         did_you_mean(str(kind), list(_OPS)) or f"use one of: {', '.join(_OPS)}")
            return False
        ok = not unknown
        for field in ("path", "from") if kind in ("move", "copy") else ("path",):
            pointer = op.get(field)
            if _pointer(pointer) is None:
                self.problem(where, "invalid-pointer",
                             f"{name} ({kind}): {field} {show_value(pointer)} is not a JSON pointer "
                             "to a field", "a JSON pointer starts with '/', such as /spec/prefix; "
                             "write '~1' for '/' and '~0' for '~' inside a key")
                ok = False
        if kind in ("add", "replace", "test") and "value" not in op:
            self.problem(where, "invalid-patch", f"{name} ({kind} {op.get('path')}) has no value",
                         "add 'value:' (kustomize would use null)")
            ok = False
        return ok

    def _target(self, raw: Any, fields: _Fields, path: Path_) -> Target | None:
        if raw is None or not fields.check_type(raw, path, dict, "a mapping"):
            return None
        fields.known(raw, path, _TARGET_FIELDS, _name(path))
        patterns: list[tuple[str, re.Pattern[str]]] = []
        selectors: dict[str, tuple[Requirement, ...]] = {}
        shown: list[str] = []
        for field in _TARGET_FIELDS:
            value = raw.get(field)
            if value is None or not fields.check_type(value, (*path, field), str, "text"):
                continue
            if value:
                shown.append(f"{field}={value}")
            try:
                if field.endswith("Selector"):
                    selectors[field] = parse_selector(value)
                elif value:
                    patterns.append((field, re.compile(value)))
            except (ValueError, re.error) as exc:
                self.problem(fields.value((*path, field)), "invalid-target",
                             f"{_name((*path, field))}: {exc}",
                             "a label selector is like 'a=b,c in (d,e),!f'" if
                             field.endswith("Selector") else "a regular expression, such as web-.*")
        return Target(tuple(patterns), selectors.get("labelSelector", ()),
                      selectors.get("annotationSelector", ()), ", ".join(shown))

    def _options(self, raw: Any, fields: _Fields, path: Path_) -> None:
        if raw is None or not fields.check_type(raw, path, dict, "a mapping"):
            return
        fields.known(raw, path, _OPTION_FIELDS, _name(path))
        for key in _OPTION_FIELDS:
            if raw.get(key):
                self.problem(fields.key((*path, key)), "unsupported-patch",
                             f"{_name((*path, key))} is not supported",
                             "an overlay adjusts objects; it cannot rename or retype them")


class _Fields:
    """Type and key checks of one overlay file, each problem at the offending key or value."""

    def __init__(self, loader: _Loader, pos: Positions, file: str) -> None:
        self.loader = loader
        self.pos = pos
        self.file = file

    def value(self, path: Path_) -> Location:
        for end in range(len(path), 0, -1):
            if path[:end] in self.pos.values:
                return self.pos.values[path[:end]]
        return Location(self.file, 1, 1)

    def key(self, path: Path_) -> Location:
        return self.pos.keys.get(path) or self.value(path)

    def known(self, mapping: dict[str, Any], path: Path_, allowed: tuple[str, ...],
              where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.loader.problem(self.key((*path, key)), "unknown-key",
                                    f"unknown key '{key}' in {where}",
                                    did_you_mean(str(key), list(allowed)))

    def check_type(self, value: Any, path: Path_, kind: type, shown: str) -> bool:
        if isinstance(value, kind):
            return True
        self.loader.problem(self.value(path), "wrong-type",
                            f"{_name(path)} must be {shown}, not {show_value(value)}")
        return False

    def entries(self, doc: dict[str, Any], path: Path_) -> list[Any]:
        value = doc.get(str(path[-1]))
        if value is None or not self.check_type(value, path, list, "a list"):
            return []
        return list(value)

    def string_map(self, value: Any, path: Path_) -> list[tuple[str, str]]:
        # kustomize refuses non-text values here too ("cannot unmarshal bool into … string").
        if value is None or not self.check_type(value, path, dict, "a mapping"):
            return []
        return [(key, item) for key, item in value.items()
                if self.check_type(item, (*path, key), str, "text")]


def _is_resource(doc: Any) -> bool:
    # kustomize parses a strategic-merge patch as an object: it needs kind and metadata.name.
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    return (isinstance(doc, dict) and isinstance(doc.get("kind"), str) and bool(doc["kind"])
            and isinstance(meta, dict) and isinstance(meta.get("name"), str) and bool(meta["name"]))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


# --- label selectors ---------------------------------------------------------------------------

_SELECTOR_TOKENS = re.compile(r"\s*(!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+)")
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """Parse a Kubernetes label selector (the syntax kustomize's labelSelector and
    annotationSelector take); raise ValueError naming the problem.

    >>> [(r.key, r.op, r.values) for r in parse_selector("tier in (web, api),!legacy")]
    [('tier', 'in', ('web', 'api')), ('legacy', '!', ())]
    """
    tokens = _Tokens(_SELECTOR_TOKENS.findall(text))
    requirements: list[Requirement] = []
    while tokens.peek():
        requirements.append(_requirement(tokens))
        after = tokens.take()
        if after == "," and tokens.peek() in ("", ","):
            raise ValueError("a selector term is missing after ','")
        if after not in ("", ","):
            raise ValueError(f"found '{after}', expected ',' or the end")
    return tuple(requirements)


class _Tokens:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        self.at += 1
        return token


def _requirement(tokens: _Tokens) -> Requirement:
    token = tokens.take()
    if token == "!":
        return Requirement(_selector_key(tokens.take()), "!")
    key = _selector_key(token)
    op = tokens.peek()
    if op in ("", ","):
        return Requirement(key, "exists")
    tokens.take()
    if op in ("=", "==", "!="):
        value = "" if tokens.peek() in ("", ",") else tokens.take()
        return Requirement(key, "!=" if op == "!=" else "=", (_selector_value(key, value),))
    if op in ("in", "notin"):
        return Requirement(key, op, _selector_set(key, tokens))
    if op in (">", "<"):
        bound = tokens.take()
        if not re.fullmatch(r"[+-]?[0-9]+", bound):
            raise ValueError(f"'{key} {op}' needs a whole number, not '{bound}'")
        return Requirement(key, op, (bound,))
    raise ValueError(f"found '{op}' after '{key}', expected =, ==, !=, in or notin")


def _selector_set(key: str, tokens: _Tokens) -> tuple[str, ...]:
    if tokens.take() != "(":
        raise ValueError(f"expected '(' after '{key} in'")
    values: list[str] = []
    while tokens.peek() != ")":
        value = tokens.take()
        if value in ("", ",", "("):
            raise ValueError(f"expected a value in the set of '{key}'")
        values.append(_selector_value(key, value))
        if tokens.peek() == ",":
            tokens.take()
    tokens.take()
    return tuple(values)


def _selector_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if (not re.fullmatch(_LABEL_NAME, name) or len(name) > 63
            or "/" in key and (not re.fullmatch(_DNS_SUBDOMAIN, prefix) or len(prefix) > 253)):
        raise ValueError(f"invalid label key '{key}'")
    return key


def _selector_value(key: str, value: str) -> str:
    if value and (not re.fullmatch(_LABEL_NAME, value) or len(value) > 63):
        raise ValueError(f"invalid value '{value}' for '{key}'")
    return value


# --- applying ----------------------------------------------------------------------------------

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


class _PatchError(Exception):
    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


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
        shown = ", ".join(_describe(obj) for obj in self.objects) or "none"
        self.problems.append(Problem(
            patch.location, "patch-no-match", f"{patch.label} ({what}) matches no object",
            f"the objects are: {shown}; fix the target, or add 'optional: true' to the entry if "
            "the patch is meant for some clusters only"))

    def _fail(self, patch: Patch, obj: dict[str, Any], error: _PatchError) -> None:
        self.problems.append(Problem(patch.location, error.code,
                                     f"{patch.label} on {_describe(obj)}: {error.message}",
                                     error.hint))

    def _strategic(self, patch: Patch, document: dict[str, Any], index: int | None) -> None:
        if patch.target is not None:
            chosen = [i for i, obj in enumerate(self.objects) if patch.target.matches(obj)]
            what = f"target {patch.target.text or 'any object'}"
        else:
            # Without a target the patch names its object: apiVersion, kind, name, namespace.
            chosen = [i for i, obj in enumerate(self.objects) if _same_id(obj, document)]
            what = _describe(document) + (f", document {index + 1}" if index is not None else "")
        if not chosen:
            self._no_match(patch, what)
            return
        deleted: set[int] = set()
        for i in chosen:
            obj = self.objects[i]
            try:
                merged = _merge(obj, document, (), _is_capi_cluster(obj))
            except _PatchError as error:
                self._fail(patch, obj, error)
                continue
            if merged is MISSING:
                deleted.add(i)
            else:
                self.objects[i] = _keep_identity(merged, obj)
        self.objects = [obj for i, obj in enumerate(self.objects) if i not in deleted]

    def _json6902(self, patch: Patch) -> None:
        assert patch.target is not None  # refused at load time otherwise
        chosen = [i for i, obj in enumerate(self.objects) if patch.target.matches(obj)]
        if not chosen:
            self._no_match(patch, f"target {patch.target.text or 'any object'}")
            return
        for i in chosen:
            obj = copy.deepcopy(self.objects[i])
            added = _annotations_while_patching(obj)
            try:
                for number, op in enumerate(patch.documents, 1):
                    _apply_op(obj, op, number, self.objects[i])
            except _PatchError as error:
                self._fail(patch, self.objects[i], error)
                continue
            meta = _metadata(obj)
            if added and meta.get("annotations") == {}:
                del meta["annotations"]
            self.objects[i] = obj


def _id_fields(obj: dict[str, Any]) -> dict[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    meta = _metadata(obj)
    # kustomize does not know our CRDs, so it takes every kind for namespaced: no namespace
    # means "default" (a target namespace 'default' selects a GlobalInClusterIPPool).
    return {"group": group, "version": version, "kind": str(obj.get("kind") or ""),
            "name": str(meta.get("name") or ""),
            "namespace": str(meta.get("namespace") or "default")}


def _same_id(obj: dict[str, Any], patch: dict[str, Any]) -> bool:
    mine, theirs = _id_fields(obj), _id_fields(patch)
    return all(mine[f] == theirs[f] for f in ("group", "version", "kind", "name", "namespace"))


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _string_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _describe(obj: dict[str, Any]) -> str:
    meta = _metadata(obj)
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {where}{meta.get('name', '?')}"


def _is_capi_cluster(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Cluster" and _id_fields(obj)["group"] == "cluster.x-k8s.io"


def _keep_identity(merged: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """kustomize gives a patched object back its apiVersion, kind, name and namespace, whatever
    the strategic-merge patch said: with a target, those fields of a patch only address it."""
    for field in ("apiVersion", "kind"):
        if field in original:
            merged[field] = original[field]
    before = _metadata(original)
    if not isinstance(merged.get("metadata"), dict):
        merged["metadata"] = {}
    for field in ("name", "namespace"):
        if field in before:
            merged["metadata"][field] = before[field]
        else:
            merged["metadata"].pop(field, None)
    return merged


# --- strategic merge ---------------------------------------------------------------------------

def _merge(dest: Any, patch: Any, path: Path_, named: bool) -> Any:
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
            result = _merge(merged.get(key, MISSING), value, (*path, key), named)
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
    where = _name(path)
    for item in patch:
        if not isinstance(item, dict) or not (isinstance(item.get("name"), str)
                                              or item == {"$patch": "replace"}):
            raise _PatchError("invalid-patch", f"each item of {where} needs a name",
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
        result = _merge(MISSING if index is None else merged[index], item, (*path, item["name"]),
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
            if _is_directive(key):
                raise _PatchError(
                    "unsupported-patch", f"'{key}' inside the list {_name(path)}",
                    "this list has no merge key, so a patch replaces it whole and kustomize "
                    "would copy the directive into the object; write the whole list instead")
            _refuse_directives(item, (*path, key))


def _is_directive(key: Any) -> bool:
    return isinstance(key, str) and (key == "$patch" or key.startswith(_UNSUPPORTED_DIRECTIVES))


def _conflict(path: Path_, dest: Any, patch: Any) -> _PatchError:
    return _PatchError("patch-failed",
                       f"{_name(path)} is {_kind(dest)} in the object but {_kind(patch)} in the "
                       "patch", "a patch can replace a value only with one of the same kind "
                       "(mapping, list or scalar); delete it first with null")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a scalar"


# --- JSON 6902 ---------------------------------------------------------------------------------

def _annotations_while_patching(obj: dict[str, Any]) -> bool:
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


def _pointer(text: Any) -> tuple[str, ...] | None:
    """The keys of an RFC 6901 pointer, or None if ``text`` is not one (or points at the whole
    object, which an overlay cannot replace).

    >>> _pointer("/metadata/annotations/example.com~1owner"), _pointer("spec/x")
    (('metadata', 'annotations', 'example.com/owner'), None)
    """
    if not isinstance(text, str) or not text.startswith("/"):
        return None
    tokens = text[1:].split("/")
    if any(re.search(r"~(?![01])", token) for token in tokens):
        return None
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)


def _apply_op(doc: dict[str, Any], op: dict[str, Any], number: int,
              original: dict[str, Any]) -> None:
    """Apply one operation in place with the semantics of the json-patch library kustomize uses
    (evanphx/json-patch v4), which differ from RFC 6902 in places kustomize users rely on:
    negative list indexes count from the end, ``replace`` of a missing map key adds it, and
    ``test`` of a missing key against null passes."""
    kind, path = op["op"], _pointer(op["path"])
    assert path is not None  # checked at load time
    source = f"{op['from']} to " if kind in ("move", "copy") else ""
    shown = f"operation {number} ({kind} {source}{op['path']})"
    try:
        if kind == "add":
            _add(_parent(doc, path), path[-1], copy.deepcopy(op["value"]), path)
        elif kind == "remove":
            _remove(_parent(doc, path), path[-1], path)
        elif kind == "replace":
            _replace(_parent(doc, path), path[-1], copy.deepcopy(op["value"]), path)
        elif kind in ("move", "copy"):
            from_path = _pointer(op["from"])
            assert from_path is not None
            _move_or_copy(doc, kind, from_path, path)
        else:
            _test(doc, path, op["value"])
    except _PatchError as error:
        raise _PatchError(error.code, f"{shown}: {error.message}", error.hint) from None
    change = next(_identity_changes(original, doc), None)
    if change is not None:
        field, before, after = change
        raise _PatchError("patch-identity", f"{shown} would change {field} from {show_value(before)} "
                          f"to {show_value(after)}", "an overlay adjusts objects; it cannot rename, "
                          "move or retype them (the inventory decides those)")


def _identity_changes(before: dict[str, Any],
                      after: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for field, old, new in (("apiVersion", before.get("apiVersion"), after.get("apiVersion")),
                            ("kind", before.get("kind"), after.get("kind")),
                            ("metadata.name", _metadata(before).get("name"),
                             _metadata(after).get("name")),
                            ("metadata.namespace", _metadata(before).get("namespace"),
                             _metadata(after).get("namespace"))):
        if old != new or type(old) is not type(new):
            yield field, old, new


def _pointer_text(path: tuple[str, ...]) -> str:
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in path) if path else "/"


def _parent(doc: Any, path: tuple[str, ...]) -> Any:
    node = doc
    for depth, token in enumerate(path[:-1]):
        node = _get(node, token, path[:depth + 1])
        if node is MISSING or node is None:
            raise _PatchError("patch-failed", f"there is nothing at {_pointer_text(path[:depth + 1])}")
        if not isinstance(node, (dict, list)):
            raise _PatchError("patch-failed", f"{_pointer_text(path[:depth + 1])} is {_kind(node)}, "
                              "not a mapping or list")
    return node


def _get(node: Any, token: str, at: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        return node.get(token, MISSING)
    return node[_index(node, token, at, len(node) - 1)]


def _index(items: list[Any], token: str, at: tuple[str, ...], last: int) -> int:
    """The list index ``token`` means, counting from the end when negative; ``last`` is the
    highest index allowed (len for add, len - 1 otherwise)."""
    if not re.fullmatch(r"[+-]?[0-9]+", token):
        raise _PatchError("patch-failed", f"'{token}' is not an index into the list at "
                          f"{_pointer_text(at[:-1])}")
    index = int(token)
    if index < 0:
        index += last + 1
    if not 0 <= index <= last:
        raise _PatchError("patch-failed", f"index {token} is out of range: the list at "
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
            raise _PatchError("patch-failed", f"there is nothing at {_pointer_text(path)}")
        return parent.pop(token)
    return parent.pop(_index(parent, token, path, len(parent) - 1))


def _replace(parent: Any, token: str, value: Any, path: tuple[str, ...]) -> None:
    if isinstance(parent, dict):
        parent[token] = value  # json-patch v4 adds a missing key here
    else:
        parent[_index(parent, token, path, len(parent) - 1)] = value


def _move_or_copy(doc: dict[str, Any], kind: str, source: tuple[str, ...],
                  path: tuple[str, ...]) -> None:
    if kind == "move" and path[:len(source)] == source and path != source:
        raise _PatchError("patch-failed", f"cannot move {_pointer_text(source)} into itself")
    parent = _parent(doc, source)
    if kind == "move":
        value = _remove(parent, source[-1], source)
    else:
        value = _get(parent, source[-1], source)
        if value is MISSING:
            raise _PatchError("patch-failed", f"there is nothing at {_pointer_text(source)} to copy",
                              "kustomize would write null")
        value = copy.deepcopy(value)
    _add(_parent(doc, path), path[-1], value, path)


def _test(doc: dict[str, Any], path: tuple[str, ...], expected: Any) -> None:
    actual = _get(_parent(doc, path), path[-1], path)
    actual = None if actual is MISSING else actual
    if not _same_json(actual, expected):
        shown = "missing" if actual is None else json.dumps(actual, separators=(",", ":"))
        raise _PatchError("patch-test-failed", f"the value at {_pointer_text(path)} is "
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


# --- messages ----------------------------------------------------------------------------------

def _name(path: Path_) -> str:
    return path_text(path)


