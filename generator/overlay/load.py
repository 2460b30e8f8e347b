"""Loading overlay files: the loaded form (``Overlay``, ``Patch``) and ``load_overlay`` /
``load_overlay_file``, which check every field and tell strategic-merge patches from JSON 6902
ones, each problem located."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.overlay.jsonpatch import parse_pointer
from generator.overlay.selector import Regex, Requirement, Target, compile_regex, parse_selector
from generator.overlay.strategic import is_directive
from generator.load.settings import Limits
from generator.paths import OVERLAY_FILE, OVERLAYS_DIR, Reader, Unsafe
from generator.problems import (FleetError, Location, Problem, did_you_mean, path_text, refused,
                                show_value)
from generator.yaml.load import Path_, Positions, load_positioned, load_positioned_all


_FIELDS = ("patches", "labels", "commonAnnotations", "components")
_PATCH_FIELDS = ("path", "patch", "target", "options", "optional")
_TARGET_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector",
                  "annotationSelector")
_LABEL_FIELDS = ("pairs", "includeSelectors", "includeTemplates")
_OPTION_FIELDS = ("allowNameChange", "allowKindChange")
_OPS = ("add", "remove", "replace", "move", "copy", "test")
_OP_FIELDS = ("op", "path", "from", "value")


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
    budget: int = Limits().patch_size  # what a JSON 6902 patch may build in one object


@dataclass(frozen=True)
class Overlay:
    """A loaded overlay with its components loaded (each an Overlay, in order)."""

    name: str
    file: str  # relative to the fleet root
    components: tuple[Overlay, ...]
    patches: tuple[Patch, ...]
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    reads: tuple[tuple[str, str], ...] = ()  # what loading it read (paths.Reader.seen)


def load_overlay(root: Path, name: str, limits: Limits | None = None) -> Overlay:
    """Load ``overlays/<name>/overlay.yaml`` under the fleet ``root`` and every component it uses;
    raise FleetError with every problem found (``limits``: fleetgen.yaml's, bounding the component
    graph and JSON 6902 patches)."""
    loader = _Loader(root, limits)
    folder = root / OVERLAYS_DIR / name
    overlay = loader.component(folder, name, Location(f"{OVERLAYS_DIR}/{name}/{OVERLAY_FILE}"),
                               "overlay")
    return loader.finish(overlay)


def load_overlay_file(root: Path, path: Path, limits: Limits | None = None) -> Overlay:
    """Load an overlay file anywhere under ``root`` (such as a cluster's own patches beside its
    inventory); its ``path:`` entries resolve against its folder, its components must still be
    folders under ``overlays/``."""
    loader = _Loader(root, limits)
    full = Path(os.path.normpath(path if path.is_absolute() else loader.root / path))
    if not _inside(full, loader.root):
        loader.problems.append(Problem(Location(path.as_posix()), "outside-root",
                                       f"overlay file {path.as_posix()} is not under {root}"))
        return loader.finish(None)
    rel = loader.rel(full)
    if not loader.reader.exists(rel):
        loader.problems.append(Problem(Location(rel), "overlay-missing",
                                       f"no overlay file {rel}"))
        return loader.finish(None)
    return loader.finish(loader.file(full, rel))


class _Loader:
    """Loads each overlay file once (a component may be used by several overlays) and finds
    component cycles along the way. The graph is bounded: components nest at most
    ``limits.component_depth`` deep, and one overlay applies at most
    ``limits.overlay_components`` components, a component listed twice counting twice (kustomize
    applies it twice), so forty components each listing the next one twice cannot ask for 2⁴⁰
    applications."""

    def __init__(self, root: Path, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._applied: dict[str, int] = {}  # components an overlay file applies, repeats counted
        self._too_many: dict[str, Problem] = {}  # overlay files applying too many components
        self.root = root.resolve()
        self.reader = Reader(self.root)  # every file read, for the render cache
        self.overlays = self.root / OVERLAYS_DIR  # a link here leads outside it
        self.problems: list[Problem] = []
        self._cache: dict[Path, Overlay | None] = {}
        self._stack: list[tuple[Path, str]] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def finish(self, overlay: Overlay | None) -> Overlay:
        if overlay is not None and overlay.file in self._too_many:
            self.problems.append(self._too_many[overlay.file])
        if self.problems or overlay is None:
            raise FleetError(dict.fromkeys(self.problems))
        return replace(overlay, reads=tuple(sorted(self.reader.seen.items())))

    def problem(self, location: Location, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(location, code, message, hint))

    def component(self, folder: Path, shown: str, where: Location,
                  noun: str = "component") -> Overlay | None:
        """The overlay in ``folder``, which must be a folder under overlays/ (symlinks resolved);
        ``where`` is the entry that names it, ``shown`` how that entry wrote it."""
        real = self.reader.folder(folder)  # the one place a link is followed, inside overlays/
        if not _inside(real, self.overlays) or real == self.overlays:
            self.problem(where, "outside-root",
                         f"{noun} '{shown}' is outside {OVERLAYS_DIR}/",
                         f"{noun}s are folders under {OVERLAYS_DIR}/ of the fleet root")
            return None
        file = real / OVERLAY_FILE
        name = real.relative_to(self.overlays).as_posix()
        if not self.reader.exists(self.rel(file)):
            self.problem(where, "overlay-missing",
                         f"no overlay '{name}': "
                         f"{OVERLAYS_DIR}/{name}/{OVERLAY_FILE} does not exist",
                         f"create {OVERLAYS_DIR}/{name}/{OVERLAY_FILE} or fix the name")
            return None
        depth = len(self._stack)
        if depth > self.limits.component_depth:
            self.problem(where, "component-limit", f"{noun} '{name}' is {depth} components "
                         f"deep, more than {self.limits.component_depth}",
                         "limits.componentDepth in fleetgen.yaml bounds how deep components nest")
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
        self._count_applied(rel, name, components, fields)
        patches = [self._patch(file.parent, item, fields, ("patches", i))
                   for i, item in enumerate(fields.entries(doc, ("patches",)))]
        labels = [pair for i, entry in enumerate(fields.entries(doc, ("labels",)))
                  for pair in self._labels(entry, fields, ("labels", i))]
        annotations = fields.string_map(doc.get("commonAnnotations"), ("commonAnnotations",))
        return Overlay(name, rel, tuple(c for c in components if c is not None),
                       tuple(p for p in patches if p is not None), tuple(labels),
                       tuple(annotations))

    def _count_applied(self, rel: str, name: str, components: list[Overlay | None],
                       fields: _Fields) -> None:
        """Record how many components the overlay file ``rel`` applies, repeats counted (capped
        just above the limit), and the problem to report if it is the overlay being loaded and
        that is too many: at its entry that crossed the limit."""
        limit = self.limits.overlay_components
        total = 0
        for index, component in enumerate(components):
            if component is None:
                continue
            total = min(total + 1 + self._applied.get(component.file, 0), limit + 1)
            if total > limit:
                self._too_many[rel] = Problem(
                    fields.value(("components", index)), "component-limit",
                    f"overlay '{name}' applies more than {limit} components (a component "
                    "listed twice counts twice)", "limits.overlayComponents in fleetgen.yaml "
                    "bounds the components one overlay applies")
                break
        self._applied[rel] = total

    def _read_text(self, file: Path) -> str | None:
        try:  # through the one reader: no link on the way, a regular file of a sane size
            raw = self.reader.read(self.rel(file))
        except Unsafe as exc:
            self.problems.append(refused(exc))
            return None
        try:
            return raw.decode("utf-8") if raw is not None else None
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
        fields.known(entry, path, _LABEL_FIELDS, path_text(path))
        for flag in ("includeSelectors", "includeTemplates"):
            # Both only reach selectors and pod templates of built-in kinds; our CRDs have
            # neither, so kustomize changes metadata.labels alone either way.
            if flag in entry:
                fields.check_type(entry[flag], (*path, flag), bool, "true or false")
        return fields.string_map(entry.get("pairs"), (*path, "pairs"))

    def _patch(self, folder: Path, entry: Any, fields: _Fields, path: Path_) -> Patch | None:
        if not fields.check_type(entry, path, dict, "a mapping"):
            return None
        fields.known(entry, path, _PATCH_FIELDS, path_text(path))
        where = fields.value(path)
        label = path_text(path)
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
        file = Path(os.path.normpath(folder / name))
        if not _inside(file, folder):
            # kustomize's load restriction: a kustomization reads files in or below its folder
            # (lexically: the reader refuses a link on the way).
            self.problem(where, "outside-root", f"patch file '{name}' is outside the overlay's "
                         "folder", "put the patch file in the overlay's folder or below it")
            return None
        if not self.reader.exists(self.rel(file)):
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
            if len(ops) > self.limits.patch_operations:
                self.problem(where, "patch-limit", f"{label} has {len(ops)} operations, more "
                             f"than {self.limits.patch_operations}", "limits.patchOperations in "
                             "fleetgen.yaml bounds the operations of one patch")
                return None
            if not all([self._check_op(op, i, where, label) for i, op in enumerate(ops)]):
                return None
            return Patch(where, label, True, tuple(ops), target, optional,
                         self.limits.patch_size)
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
        """Refuse directives kustomize would not apply (see the package docstring)."""
        ok = True
        if isinstance(node, list):
            return all([self._check_smp(item, (*path, i), where, label)
                        for i, item in enumerate(node)])
        if not isinstance(node, dict):
            return True
        at = path_text(path) or "the top"
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
            elif is_directive(key):
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
            if parse_pointer(pointer) is None:
                self.problem(where, "invalid-pointer",
                             f"{name} ({kind}): {field} {show_value(pointer)} is not a JSON "
                             "pointer to a field", "a JSON pointer starts with '/', such as "
                             "/spec/prefix; write '~1' for '/' and '~0' for '~' inside a key")
                ok = False
        if kind in ("add", "replace", "test") and "value" not in op:
            self.problem(where, "invalid-patch", f"{name} ({kind} {op.get('path')}) has no value",
                         "add 'value:' (kustomize would use null)")
            ok = False
        return ok

    def _target(self, raw: Any, fields: _Fields, path: Path_) -> Target | None:
        if raw is None or not fields.check_type(raw, path, dict, "a mapping"):
            return None
        fields.known(raw, path, _TARGET_FIELDS, path_text(path))
        patterns: list[tuple[str, Regex]] = []
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
                    patterns.append((field, compile_regex(value)))
            except ValueError as exc:
                self.problem(fields.value((*path, field)), "invalid-target",
                             f"{path_text((*path, field))}: {exc}",
                             "a label selector is like 'a=b,c in (d,e),!f'" if
                             field.endswith("Selector") else "a regular expression in RE2 "
                             "syntax, as kustomize takes it (no lookaround, no backreferences), "
                             "such as web-.*")
        return Target(tuple(patterns), selectors.get("labelSelector", ()),
                      selectors.get("annotationSelector", ()), ", ".join(shown))

    def _options(self, raw: Any, fields: _Fields, path: Path_) -> None:
        if raw is None or not fields.check_type(raw, path, dict, "a mapping"):
            return
        fields.known(raw, path, _OPTION_FIELDS, path_text(path))
        for key in _OPTION_FIELDS:
            if raw.get(key):
                self.problem(fields.key((*path, key)), "unsupported-patch",
                             f"{path_text((*path, key))} is not supported",
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
                            f"{path_text(path)} must be {shown}, not {show_value(value)}")
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
