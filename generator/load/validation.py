"""Turn one merged inventory into a ``ClusterSpec``, or into located problems.

pydantic reports errors by path; the inventory knows where each path was written, so every
problem points at the file, line and column a person has to edit, with a hint where one is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generator.load.inventory import ClusterInventory, Origin, locate
from generator.load.model import ClusterSpec
from generator.load.schema import allowed_keys
from generator.paths import Unsafe, read_input
from generator.problems import (FleetError, Location, Problem, did_you_mean, path_text, plural,
                                refused, show_value)
from generator.secrets import MASK, is_secret_key, is_secret_value
from generator.yaml.load import Path_, load_positioned

_TYPE_NAMES = {
    "string_type": "text", "int_type": "a whole number", "int_from_float": "a whole number",
    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "float_type": "a number",
}


class Locator(Protocol):
    """Anything that knows where the values of a document were written."""

    def locate(self, path: Path_, *, key: bool = False) -> Location: ...


@dataclass(frozen=True)
class _Document:
    """One YAML file's values and where each was written (for ``validate_file``)."""

    file: str
    origins: dict[Path_, Origin]

    def locate(self, path: Path_, *, key: bool = False) -> Location:
        return locate(self.origins, self.file, path, key=key)


def to_spec(inv: ClusterInventory) -> tuple[ClusterSpec | None, list[Problem]]:
    data = {"name": inv.stem, **inv.data}
    spec, problems = validate(ClusterSpec, inv, data)
    return (spec if isinstance(spec, ClusterSpec) else None), problems


def validate(model: type[BaseModel], inv: Locator, data: dict[str, Any]
             ) -> tuple[BaseModel | None, list[Problem]]:
    """``data`` as ``model``, or the located problems (positions from ``inv``)."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = {_problem(inv, data, err, model) for err in exc.errors(include_url=False)}
        return None, sorted(problems, key=Problem.sort_key)


def validate_file(model: type[BaseModel], root: Path, rel: str) -> BaseModel | None:
    """The YAML file ``rel`` below ``root`` (such as fleetgen.yaml) as ``model``, or None when
    there is no such file; read through ``paths.read_input`` (no link, a regular file of a sane
    size); raises FleetError."""
    try:
        raw = read_input(root, rel)
    except Unsafe as exc:
        raise FleetError([refused(exc)]) from None
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FleetError([Problem(Location(rel, 1, 1), "encoding",
                                  f"not UTF-8 text ({exc.reason})")]) from None
    doc, positions = load_positioned(text, rel)
    if not isinstance(doc, dict):
        raise FleetError([Problem(Location(rel, 1, 1), "not-a-mapping",
                                  f"{rel} must be a mapping of keys to values")])
    origins = {p: Origin(positions.keys[p], loc) for p, loc in positions.values.items()}
    result, problems = validate(model, _Document(rel, origins), doc)
    if result is None:
        raise FleetError(problems)
    return result


def _problem(inv: Locator, data: dict[str, Any], err: ErrorDetails,
             model: type[BaseModel] = ClusterSpec) -> Problem:
    kind = err["type"]
    loc = err["loc"]
    # For an unknown key pydantic's loc ends in that key, which is present in the data.
    path, tail = data_path(data, loc[:-1]) if kind == "extra_forbidden" else data_path(data, loc)
    if kind == "extra_forbidden":
        tail = loc[-1:]
    where = _describe(path)
    if kind == "extra_forbidden":
        key = str(tail[0]) if tail else "?"
        return Problem(inv.locate((*path, key), key=True), "unknown-key",
                       f"unknown key '{key}'{where}",
                       did_you_mean(key, allowed_keys(path, model)))
    if kind == "missing":
        key = str(tail[0]) if tail else "?"
        return Problem(inv.locate(path, key=True), "missing-key",
                       f"missing required key '{key}'{where}",
                       f"add '{key}:' here" + (" or in a _defaults.yaml above this file"
                                               if model is ClusterSpec else ""))
    value = _get(data, path)
    # A mapping key that fails validation (pydantic's loc ends in '[key]') is pointed at as a key.
    location = inv.locate(path, key=bool(loc) and loc[-1] == "[key]")
    if kind in _TYPE_NAMES:
        return Problem(location, "wrong-type",
                       f"{_name(path)} must be {_TYPE_NAMES[kind]}, not {show_value(value)}",
                       _reference_hint(path, value) or _type_hint(kind, value))
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",")]
        hint = did_you_mean(str(value), options) or f"use one of: {', '.join(o for o in options if o)}"
        return Problem(location, "invalid-value", f"{_name(path)}: {show_value(value)} is not allowed",
                       hint)
    constraint = _constraint(kind, err.get("ctx") or {}, value)
    if constraint:
        return Problem(location, "invalid-value", f"{_name(path)} {constraint}")
    message = err["msg"].removeprefix("Value error, ")
    if is_secret_value(value) or any(is_secret_key(str(part)) for part in path):
        message = message.replace(str(value), MASK)
    return Problem(location, "invalid-value", f"{_name(path)}: {message}")


def _constraint(kind: str, ctx: dict[str, Any], value: Any) -> str:
    """A bound the value breaks, in fleetgen's words (pydantic's say 'Input should be …')."""
    shown = "" if is_secret_value(value) else f", not {show_value(value)}"
    count = f", not {len(value)}" if isinstance(value, (list, dict, str)) else ""
    bound = {"greater_than_equal": ("must be at least", "ge"),
             "greater_than": ("must be more than", "gt"),
             "less_than_equal": ("must be at most", "le"),
             "less_than": ("must be less than", "lt")}.get(kind)
    if bound is not None and bound[1] in ctx:
        return f"{bound[0]} {ctx[bound[1]]}{shown}"
    sized = {"too_short": ("at least", "min_length", "item"),
             "too_long": ("at most", "max_length", "item"),
             "string_too_short": ("at least", "min_length", "character"),
             "string_too_long": ("at most", "max_length", "character")}.get(kind)
    if sized is not None and sized[1] in ctx:
        return f"must hold {sized[0]} {plural(int(ctx[sized[1]]), sized[2])}{count}"
    if kind == "string_pattern_mismatch" and "pattern" in ctx:
        return f"does not have the expected form ({ctx['pattern']}){shown}"
    return ""


def data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[Path_, Path_]:
    """Split pydantic's loc into the part that exists in the data and the rest.

    pydantic puts union member tags ('str', 'IPPool', ...) into locs; they are not keys in the
    data, so they are skipped while walking.
    """
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and index == len(loc) - 1:
            return tuple(path), (part,)
    return tuple(path), ()


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _name(path: Path_) -> str:
    return path_text(path) or "the cluster"


def _describe(path: Path_) -> str:
    return f" in {_name(path)}" if path else ""


# The mapping each identityRef is, by the section it is in: written `Kind/name` (as kubectl
# prints it) it gets this hint rather than a bare wrong-type.
_REFERENCES = {"aws": "{kind: AWSClusterRoleIdentity, name: NAME} (kind: AWSClusterRoleIdentity, "
                      "AWSClusterStaticIdentity or AWSClusterControllerIdentity)",
               "vsphere": "{kind: VSphereClusterIdentity, name: NAME} (or kind: Secret)",
               "azure": "{name: NAME, namespace: NAMESPACE} (an AzureClusterIdentity)"}


def _reference_hint(path: Path_, value: Any) -> str:
    if not (isinstance(value, str) and path and path[-1] == "identityRef"):
        return ""
    shape = _REFERENCES.get(str(path[-2]) if len(path) > 1 else "")
    if shape is None:
        return ""
    kind, _, name = value.partition("/")
    example = f" (here: {{kind: {kind}, name: {name}}})" if name and path[-2] != "azure" else ""
    return f"identityRef is a mapping: {shape}{example}"


_YAML11_BOOLEANS = {"y": "true", "yes": "true", "on": "true", "n": "false", "no": "false",
                    "off": "false"}


def _type_hint(kind: str, value: Any) -> str:
    if kind == "string_type" and isinstance(value, (int, float, bool)):
        return "YAML read this as a number or boolean; put it in quotes to keep it as text"
    if kind == "bool_type" and isinstance(value, str):
        word = value.strip().lower()
        if word in _YAML11_BOOLEANS:
            return (f"YAML 1.2 reads {value} as text, not as a boolean (YAML 1.1 did); "
                    f"write {_YAML11_BOOLEANS[word]}")
        if word in ("true", "false"):
            return "write it without quotes"
        return "write true or false"
    if kind == "int_type" and isinstance(value, str):
        return "write it without quotes" if value.strip().lstrip("+-").isdigit() else ""
    return ""
