"""Checks on a render group's final objects, after every overlay and before anything is written
(``check_final``): no secret, and no overlay change to a field fleetgen writes from a checked
inventory key.

Overlays come after the inventory's checks, so without these an overlay could put a password
into rendered/ (``commonAnnotations: {vsphere-password: …}``, a patch setting ``password:``), or
move a cluster's pool onto another pool's range and its endpoint onto another cluster's, all of
which the inventory refuses. Secrets follow the inventory's rules (``generator.secrets``) on the
objects as they will be written. Checked network fields are the inventory's alone
(``render.derived``): an overlay that changes one is refused and told which inventory key to
change, so the network checks (which run on the inventory) always see what is written. Each
problem points at the overlay entry that made the change (its file and line; a
``commonAnnotations`` or ``labels`` entry by its file), else at the rendered file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from generator.check.fleet import Cluster
from generator.overlay.jsonpatch import parse_pointer
from generator.overlay.load import Overlay, Patch, load_overlay, load_overlay_file
from generator.overlay.objects import describe, id_fields
from generator.paths import RENDERED_DIR, cluster_overlay_file
from generator.problems import FleetError, Location, Problem, path_text
from generator.render.derived import Named, Step, changed_fields
from generator.render.layout import Output, RenderedFile
from generator.secrets import is_secret_key, is_secret_value, may_hold_secret

SECRET_HINT = ("keep it in a Secret on the management cluster and reference it (identityRef); "
               "remove it from git history too")


@dataclass(frozen=True)
class Action:
    """One step of applying overlays that can change objects: a patch entry, or an overlay's
    ``labels`` or ``commonAnnotations`` (``patch`` None, ``field`` names which)."""

    overlay: Overlay
    patch: Patch | None = None
    field: str = ""

    @property
    def location(self) -> Location:
        return self.patch.location if self.patch is not None else Location(self.overlay.file)

    @property
    def label(self) -> str:
        return self.patch.label if self.patch is not None else self.field

    def pairs(self) -> dict[str, str]:
        return dict(self.overlay.labels if self.field == "labels" else self.overlay.annotations)


def actions(overlays: Iterable[Overlay]) -> Iterator[Action]:
    """Every change step of ``overlays`` in the order kustomize applies them (components first,
    then patches, then labels, then commonAnnotations)."""
    for overlay in overlays:
        yield from actions(overlay.components)
        for patch in overlay.patches:
            yield Action(overlay, patch)
        if overlay.labels:
            yield Action(overlay, field="labels")
        if overlay.annotations:
            yield Action(overlay, field="commonAnnotations")


def chosen_overlays(cluster: Cluster | None,
                    loaded: Mapping[str, Overlay | FleetError]) -> list[Overlay]:
    """The overlays the group builder applied to ``cluster``, from its cache of loaded overlays
    (keyed by overlay name, and by file for the cluster's own overlay file)."""
    if cluster is None:
        return []
    keys = [*cluster.spec.overlays, cluster_overlay_file(cluster.inventory.file)]
    return [o for key in keys if isinstance(o := loaded.get(key), Overlay)]


def cluster_overlays(root: Path, cluster: Cluster) -> list[Overlay]:
    """The overlays a render applies to ``cluster``, loaded afresh: its ``overlays:`` in order,
    then its own ``<name>.overlay.yaml`` if there is one; raises FleetError as loading does."""
    found = [load_overlay(root, name) for name in cluster.spec.overlays]
    own = cluster_overlay_file(cluster.inventory.file)
    if (root / own).is_file():
        found.append(load_overlay_file(root, Path(own)))
    return found


def check_final(group: list[Output], rendered: list[RenderedFile], final: list[RenderedFile],
                overlays: list[Overlay]) -> None:
    """Raise FleetError with every secret in ``final`` (the group's files after its overlays)
    and every checked field its overlays changed; ``rendered`` is the same files before."""
    problems = Problems()
    for output, before_file, after_file in zip(group, rendered, final):
        if not after_file.kubernetes:
            continue
        path = f"{RENDERED_DIR}/{after_file.path}"
        for index, after in enumerate(after_file.documents):
            if not isinstance(after, dict):
                continue
            before = before_file.documents[index] if index < len(before_file.documents) else {}
            source = output.documents[index][1] if index < len(output.documents) else None
            shown = describe(after)
            _secrets(problems, after, before, overlays, path, shown)
            if before is not after:
                for field, key, where in changed_fields(after, before, source):
                    action = _first(overlays, before, after, lambda a: _touches(a, field, before))
                    problems.add(action.location if action else Location(path),
                                 "overlay-changes-checked-field",
                                 f"{action.label if action else 'an overlay'} changes "
                                 f"{_field_text(field)} of {shown}, which fleetgen writes from "
                                 f"the inventory's {key}",
                                 f"change {key} in the inventory ({where}) instead: the network "
                                 "checks (pool overlap and capacity, endpoint uniqueness, address "
                                 "families) run there")
    problems.raise_if_any()


class Problems:
    """Problems collected in order; one problem names every object it concerns."""

    def __init__(self) -> None:
        self._found: dict[tuple[Location, str, str, str], list[str]] = {}

    def add(self, where: Location, code: str, message: str, hint: str, shown: str = "") -> None:
        objects = self._found.setdefault((where, code, message, hint), [])
        if shown and shown not in objects:
            objects.append(shown)

    def raise_if_any(self) -> None:
        if self._found:
            raise FleetError([Problem(where, code, message.replace("{objects}", ", ".join(objs)),
                                      hint)
                              for (where, code, message, hint), objs in self._found.items()])


def _field_text(field: tuple[Step, ...]) -> str:
    """``spec.topology.variables[apiServerEndpoint]``; a key holding ``.`` or ``/`` (an
    annotation) is written as a subscript too."""
    return path_text(f"[{step.name}]" if isinstance(step, Named) else
                     f"[{step}]" if index and ("." in step or "/" in step) else step
                     for index, step in enumerate(field))


# --- secrets ------------------------------------------------------------------------------------

Found = tuple[tuple[Any, ...], str, str]  # path in the object, the key ('' for a value), digest


def _digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def find_secrets(value: Any, path: tuple[Any, ...] = ()) -> Iterator[Found]:
    """Every secret in ``value`` by the inventory's rules: a secret-looking key holding a scalar
    (also as a ``{name: KEY, value: …}`` item, how topology variables and env vars are written),
    and every ``<encoded:…>`` value or private key."""
    if isinstance(value, dict):
        for key, child in value.items():
            if is_secret_key(str(key)) and not isinstance(child, (dict, list)):
                yield (*path, key), str(key), _digest(child)
            else:
                yield from find_secrets(child, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, dict) else None
            if (isinstance(name, str) and is_secret_key(name) and "value" in item
                    and not isinstance(item["value"], (dict, list))):
                yield (*path, index), name, _digest(item["value"])
            else:
                yield from find_secrets(item, (*path, index))
    elif is_secret_value(value):
        yield path, "", _digest(value)


def _secrets(problems: Problems, after: dict[str, Any], before: Any, overlays: list[Overlay],
             path: str, shown: str) -> None:
    if not may_hold_secret(json.dumps(after, ensure_ascii=False, default=str)):
        return  # the common case, screened at C speed
    found = list(find_secrets(after))
    if not found:
        return
    old = set(find_secrets(before)) if before is not after else set(found)
    for secret in found:
        _path, key, digest = secret
        what = f"'{key}' looks like a secret" if key else "an encoded password or a private key"
        if secret in old:
            where, label = Location(path), "the templates"
        else:
            action = _first(overlays, before, after,
                            lambda a: _holds(a, key, digest, after))
            where = action.location if action else Location(path)
            label = action.label if action else "the overlays"
        problems.add(where, "secret-in-output",
                     f"{what}; {label} would write it to {RENDERED_DIR}/ ({{objects}})",
                     SECRET_HINT, shown)


def _holds(action: Action, key: str, digest: str, obj: dict[str, Any]) -> bool:
    """Whether ``action`` writes the secret: its key (or the value itself) is in it."""
    if action.patch is None:
        pairs = action.pairs()
        return key in pairs if key else any(_digest(v) == digest for v in pairs.values())
    if action.patch.json6902:
        for op in action.patch.documents:
            tokens = parse_pointer(op.get("path")) or ()
            if key and tokens and tokens[-1] == key:
                return True
            if _mentions(op.get("value"), key, digest):
                return True
        return False
    return any(_mentions(doc, key, digest) for doc in action.patch.documents)


def _mentions(value: Any, key: str, digest: str) -> bool:
    if isinstance(value, dict):
        return any((key and str(k) == key) or _mentions(v, key, digest) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, key, digest) for v in value)
    return (value == key) if key else _digest(value) == digest


# --- which overlay entry did it -------------------------------------------------------------------

def _first(overlays: list[Overlay], before: Any, after: dict[str, Any],
           test: Any) -> Action | None:
    """The first action (in the order applied) that applies to the object and passes ``test``."""
    for action in actions(overlays):
        if _applies(action, before, after) and test(action):
            return action
    return None


def _applies(action: Action, before: Any, after: dict[str, Any]) -> bool:
    patch = action.patch
    if patch is None:
        return True  # labels and commonAnnotations go on every object
    if patch.target is not None:
        return any(isinstance(o, dict) and patch.target.matches(o) for o in (before, after))
    mine = id_fields(after)
    return any(all(mine[f] == id_fields(doc)[f] for f in mine)
               for doc in patch.documents if isinstance(doc, dict))


def _touches(action: Action, field: tuple[Step, ...], before: Any) -> bool:
    """Whether ``action`` could change ``field`` of the object."""
    if action.patch is None:
        return (len(field) == 3 and field[0] == "metadata" and isinstance(field[2], str)
                and field[1] == ("labels" if action.field == "labels" else "annotations")
                and field[2] in action.pairs())
    if action.patch.json6902:
        return any(_pointer_touches(tokens, field, before)
                   for op in action.patch.documents
                   for name in (("path", "from") if op.get("op") == "move" else ("path",))
                   if (tokens := parse_pointer(op.get(name))) is not None)
    return any(_merge_touches(doc, field) for doc in action.patch.documents)


def _pointer_touches(tokens: tuple[str, ...], field: tuple[Step, ...], obj: Any) -> bool:
    """A JSON pointer at the field, inside it, or at one of its parents."""
    node = obj
    for depth, step in enumerate(field):
        if depth == len(tokens):
            return True
        token = tokens[depth]
        if isinstance(step, Named):
            if token == "-":
                return True
            if not (token.isdigit() and isinstance(node, list) and int(token) < len(node)):
                return False
            node = node[int(token)]
            if not (isinstance(node, dict) and node.get("name") == step.name):
                return False
        else:
            if token != step:
                return False
            node = node.get(step) if isinstance(node, dict) else None
    return True


def _merge_touches(doc: Any, field: tuple[Step, ...]) -> bool:
    """A strategic-merge patch that sets, replaces or deletes the field or a parent of it."""
    node = doc
    for step in field:
        if isinstance(node, dict):
            if node.get("$patch") in ("replace", "delete") or isinstance(step, Named) \
                    or step not in node:
                return node.get("$patch") in ("replace", "delete")
            node = node[step]
        elif isinstance(node, list):
            if not isinstance(step, Named):
                return True
            items = [i for i in node if isinstance(i, dict)
                     and (i.get("name") == step.name or "$patch" in i)]
            if not items:
                return False
            node = items[0]
        else:
            return True  # null (delete) or a scalar where the field's parent was
    return True
