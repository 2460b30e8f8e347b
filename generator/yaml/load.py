"""The positioned loader of inventories: the line and column of every key and value, which every
problem report and ``fleetgen explain`` need, as ruamel's round-trip loader gives them; built from
the C parser's events when that gives exactly the same (``generator.yaml.fast``), five times
faster, else by that loader. And ``load_inventory_data``, the same values through the fast loader
when no position is wanted. Every text is screened first (``generator.yaml.screen``).

Both read YAML 1.2, so ``off`` stays a string and ``1.10`` is a float the strict model then refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from generator.problems import FleetError, Location, Problem
from generator.yaml.fast import load_positioned_fast, load_screened
from generator.yaml.screen import screen

Path_ = tuple[str | int, ...]
"""A path into a YAML document: map keys and list indexes."""


@dataclass
class Positions:
    """Where each key and value of one loaded document stands."""

    file: str
    keys: dict[Path_, Location] = field(default_factory=dict)
    values: dict[Path_, Location] = field(default_factory=dict)


def _roundtrip_loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


_RT = _roundtrip_loader()


def load_positioned(text: str, file: str, *, fast: bool = True) -> tuple[Any, Positions]:
    """Load one inventory document into plain Python values plus the position of every node.

    Raises FleetError with located problems on bad YAML: syntax errors, duplicate keys, and
    everything ``screen`` refuses. Built from the C parser's events when that path gives exactly
    what ruamel's round-trip loader gives (``_fast``), else by that loader; ``fast=False`` always
    takes the round-trip loader, the reference the tests and the benchmark hold the fast path to.
    """
    try:
        screen(text, file, single=True)
        documents = _fast(text, file) if fast else None
        if documents is not None and len(documents) <= 1:
            return documents[0] if documents else (None, Positions(file))
        doc = _RT.load(text)
    except YAMLError as exc:
        raise FleetError([_yaml_problem(exc, file)]) from None
    positions = Positions(file)
    return _plain(doc, (), positions), positions


def load_positioned_all(text: str, file: str, *, fast: bool = True
                        ) -> list[tuple[Any, Positions]]:
    """Every document of a multi-document file, each with its positions (see load_positioned)."""
    try:
        screen(text, file, single=False)
        documents = _fast(text, file) if fast else None
        if documents is not None:
            return documents
        docs = list(_RT.load_all(text))
    except YAMLError as exc:
        raise FleetError([_yaml_problem(exc, file)]) from None
    out = []
    for doc in docs:
        positions = Positions(file)
        out.append((_plain(doc, (), positions), positions))
    return out


def _fast(text: str, file: str) -> list[tuple[Any, Positions]] | None:
    """The documents and positions from the C parser's events (``load_positioned_fast``), five
    times faster than the round-trip loader and equal to what it gives; None for anything that
    path leaves to the round-trip loader (anchors, tags, empty values, errors...)."""
    docs = load_positioned_fast(text, partial(Location, file))
    if docs is None:
        return None
    return [(doc, Positions(file, keys, values)) for doc, keys, values in docs]


def load_inventory_data(text: str, file: str) -> Any:
    """An inventory document's values through the C loader (no positions), with the same
    screening and errors as ``load_positioned``; anything odd is re-read with positions so that
    the problem is located."""
    try:
        screen(text, file, single=True)
        doc = load_screened(text)
    except YAMLError as exc:
        raise FleetError([_yaml_problem(exc, file)]) from None
    if not _plain_keys(doc):
        load_positioned(text, file)  # raises the located yaml-key problem
    return doc


def _plain_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_keys(v) for v in value)
    return True


def _yaml_problem(exc: YAMLError, file: str) -> Problem:
    if isinstance(exc, DuplicateKeyError):
        return _marked_problem(exc, file, "duplicate-key",
                               "a key may appear only once in a mapping")
    if isinstance(exc, MarkedYAMLError):
        return _marked_problem(exc, file, "yaml-syntax", "")
    return Problem(Location(file, 1, 1), "yaml-syntax", " ".join(str(exc).split()))


def _marked_problem(exc: MarkedYAMLError, file: str, code: str, hint: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end of stream" in str(exc.problem or ""):
        mark = exc.context_mark  # an unclosed quote or bracket: where it opens, not the file's end
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
    if code == "duplicate-key":
        # Name both lines, never the values (one of them may be a secret).
        key = re.search(r'duplicate key "(.*?)"', message)
        first = exc.context_mark
        message = (f"duplicate key '{key.group(1) if key else '?'}'"
                   + (f" (first at line {first.line + 1})" if first is not None else ""))
    message = message.split(' in "<unicode string>"')[0]
    start = exc.context_mark
    if code != "duplicate-key" and start is not None and mark is not start and \
            start.line != (mark.line if mark is not None else start.line):
        message += f" (it starts at line {start.line + 1}, column {start.column + 1})"
    return Problem(Location(file, line, col), code, " ".join(message.split()), hint)


def _plain(node: Any, path: Path_, pos: Positions) -> Any:
    """Turn ruamel's commented containers into dict/list/scalars, recording positions."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            if not isinstance(key, str):
                raise FleetError([Problem(Location(pos.file, kline + 1, kcol + 1), "yaml-key",
                                          f"keys must be text, not {_kind(key)}",
                                          "put the key in quotes")])
            child = (*path, str(key))
            pos.keys[child] = Location(pos.file, kline + 1, kcol + 1)
            pos.values[child] = Location(pos.file, vline + 1, vcol + 1)
            out[str(key) if isinstance(key, str) else key] = _plain(value, child, pos)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, col = node.lc.item(index)
            child = (*path, index)
            pos.keys[child] = pos.values[child] = Location(pos.file, line + 1, col + 1)
            items.append(_plain(value, child, pos))
        return items
    return _scalar(node)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, (list, tuple)) else "a mapping" if isinstance(
        value, dict) else "a value of another type"


def _scalar(value: Any) -> Any:
    # ruamel's round-trip scalars subclass int/float/str to remember their formatting; the model
    # wants the plain types (bool first: it is an int subclass).
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, TaggedScalar):  # an empty `!!str` (the only tag the screen lets by)
        return str(value.value or "")
    return value
