"""The one module that reads and writes YAML.

Two loaders, chosen for what each is good at:

* inventories are read with ruamel's round-trip loader, the only one that keeps the line and column
  of every key and value, which every problem report and ``fleetgen explain`` need;
* everything on the hot path (template output, rendered files) goes through the C-accelerated safe
  loader and dumper, about four times faster.

Both read YAML 1.2, so ``off`` stays a string and ``1.10`` is a float the strict model then refuses.
The dumper quotes every string that a YAML 1.1 *or* 1.2 reader would turn into something else.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import implicit_resolvers

from generator.problems import FleetError, Location, Problem

Path_ = tuple[str | int, ...]
"""A path into a YAML document: map keys and list indexes."""


@dataclass
class Positions:
    """Where each key and value of one loaded document stands."""

    file: str
    keys: dict[Path_, Location] = field(default_factory=dict)
    values: dict[Path_, Location] = field(default_factory=dict)


# --- reading ---------------------------------------------------------------------------------

def _roundtrip_loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


_RT = _roundtrip_loader()
_SAFE = YAML(typ="safe", pure=False)


def load_positioned(text: str, file: str) -> tuple[Any, Positions]:
    """Load one inventory document into plain Python values plus the position of every node.

    Raises FleetError with a located ``yaml-syntax`` / ``duplicate-key`` problem on bad YAML.
    """
    try:
        _screen(text, file, single=True)
        doc = _RT.load(text)
    except DuplicateKeyError as exc:
        raise FleetError([_marked_problem(exc, file, "duplicate-key",
                                          "a key may appear only once in a mapping")]) from None
    except MarkedYAMLError as exc:
        raise FleetError([_marked_problem(exc, file, "yaml-syntax", "")]) from None
    except YAMLError as exc:
        raise FleetError([Problem(Location(file, 1, 1), "yaml-syntax", str(exc).strip())]) from None
    positions = Positions(file)
    return _plain(doc, (), positions), positions


MAX_DEPTH = 64
PLAIN_TAGS = {None, "!", *(f"tag:yaml.org,2002:{t}"
                           for t in ("str", "int", "float", "bool", "null", "map", "seq"))}


def _screen(text: str, file: str, *, single: bool) -> None:
    """Refuse what a hand-written inventory never needs, from the event stream alone, before
    anything is built: aliases (an alias bomb expands exponentially), explicit tags (object
    construction), absurd nesting and, where one is expected, several documents."""
    depth = documents = 0
    for event in _SAFE.parse(text):
        name = type(event).__name__
        mark = event.start_mark
        where = Location(file, mark.line + 1, mark.column + 1)
        if name == "AliasEvent":
            raise FleetError([Problem(where, "yaml-alias", "anchors and aliases are not supported "
                                      "in inventories", "put shared values in a _defaults.yaml")])
        if getattr(event, "tag", None) not in PLAIN_TAGS:
            raise FleetError([Problem(where, "yaml-tag", f"the tag {event.tag} is not supported",
                                      "remove the tag; inventories hold plain values")])
        if name in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                raise FleetError([Problem(where, "yaml-depth",
                                          f"nesting deeper than {MAX_DEPTH} levels")])
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
        elif name == "DocumentStartEvent":
            documents += 1
            if single and documents > 1:
                raise FleetError([Problem(where, "yaml-documents",
                                          "an inventory file holds one document, not several",
                                          "remove the '---' separator")])


def _marked_problem(exc: MarkedYAMLError, file: str, code: str, hint: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
    if code == "duplicate-key":
        # Name both lines, never the values (one of them may be a secret).
        key = re.search(r'duplicate key "(.*?)"', message)
        first = exc.context_mark
        message = (f"duplicate key '{key.group(1) if key else '?'}'"
                   + (f" (first at line {first.line + 1})" if first is not None else ""))
    message = message.split(' in "<unicode string>"')[0]
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
                                          f"keys must be text, not {type(key).__name__}",
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
    return value


def load_fast(text: str) -> Any:
    """Parse trusted, generated YAML (template output, rendered files) with the C loader."""
    return _SAFE.load(text)


def load_fast_all(text: str) -> list[Any]:
    return [doc for doc in _SAFE.load_all(text) if doc is not None]


# --- writing ---------------------------------------------------------------------------------

_NON_STRING = [
    re.compile(regexp.pattern, regexp.flags)
    for _versions, tag, regexp, _first in implicit_resolvers
    if tag != "tag:yaml.org,2002:str"
]


def needs_quotes(text: str) -> bool:
    """True when a plain scalar ``text`` would be read back as something other than a string by a
    YAML 1.1 or YAML 1.2 reader (``on``, ``no``, ``1.10``, ``0755``, ``1:20``, ``~``, ``2024-01-01``).

    >>> [needs_quotes(s) for s in ("on", "1.10", "0755", "1:20", "prod", "10.0.0.1")]
    [True, True, True, True, False, False]
    """
    return any(regexp.match(text) for regexp in _NON_STRING)


class _CanonicalRepresenter(SafeRepresenter):
    def ignore_aliases(self, data: Any) -> bool:  # no anchors, ever
        return True


def _represent_str(representer: SafeRepresenter, data: str) -> ScalarNode:
    style = "'" if needs_quotes(data) else None
    if "\n" in data:
        style = "|"
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_CanonicalRepresenter.add_representer(str, _represent_str)


def _dumper() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _CanonicalRepresenter
    yaml.default_flow_style = False
    yaml.width = 1 << 30  # never fold long lines
    yaml.allow_unicode = True
    yaml.line_break = "\n"  # type: ignore[assignment]
    # The safe dumper sorts mapping keys unless told not to; templates decide the order.
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    return yaml


_DUMPER = _dumper()


def dump(doc: Any) -> str:
    """Canonical YAML text of one document: key order as given, LF, final newline."""
    stream = io.StringIO()
    _DUMPER.dump(doc, stream)
    return stream.getvalue()


def load_positioned_all(text: str, file: str) -> list[tuple[Any, Positions]]:
    """Every document of a multi-document file, each with its positions (see load_positioned)."""
    try:
        docs = list(_RT.load_all(text))
    except DuplicateKeyError as exc:
        raise FleetError([_marked_problem(exc, file, "duplicate-key",
                                          "a key may appear only once in a mapping")]) from None
    except MarkedYAMLError as exc:
        raise FleetError([_marked_problem(exc, file, "yaml-syntax", "")]) from None
    except YAMLError as exc:
        raise FleetError([Problem(Location(file, 1, 1), "yaml-syntax", str(exc).strip())]) from None
    out = []
    for doc in docs:
        positions = Positions(file)
        out.append((_plain(doc, (), positions), positions))
    return out


def load_inventory_data(text: str, file: str) -> Any:
    """An inventory document's values through the C loader (no positions), with the same
    screening and errors as ``load_positioned``; anything odd is re-read with positions so that
    the problem is located."""
    try:
        _screen(text, file, single=True)
        doc = _SAFE.load(text)
    except DuplicateKeyError as exc:
        raise FleetError([_marked_problem(exc, file, "duplicate-key",
                                          "a key may appear only once in a mapping")]) from None
    except MarkedYAMLError as exc:
        raise FleetError([_marked_problem(exc, file, "yaml-syntax", "")]) from None
    except YAMLError as exc:
        raise FleetError([Problem(Location(file, 1, 1), "yaml-syntax", str(exc).strip())]) from None
    if not _plain_keys(doc):
        load_positioned(text, file)  # raises the located yaml-key problem
    return doc


def _plain_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_keys(v) for v in value)
    return True
