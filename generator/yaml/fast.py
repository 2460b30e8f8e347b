"""The fast loader of generated YAML (template output, rendered files, kubectl exports): values
built straight from the C parser's events, about four times faster than ruamel's safe loader,
with ruamel's loader itself for anything unusual. It reads YAML 1.2 and refuses aliases.

``load_positioned_fast`` does the same for inventories with the position of every key and value,
equal to what ruamel's round-trip loader gives, or declines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # the C parser ruamel uses
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.resolver import implicit_resolvers

_SAFE = YAML(typ="safe", pure=False)
_T = TypeVar("_T")


def _construct(load: Callable[[], _T]) -> _T:
    """ruamel's safe loader, with what its constructor raises besides YAMLError (``!!int '3x'``
    gives a ValueError) turned into the YAMLError every caller reports: these texts come from
    pull requests (rendered/) and exports, and must never end a run with exit 3."""
    try:
        return load()
    except YAMLError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConstructorError(problem=f"a value cannot be read ({exc})") from None


class AliasRefused(MarkedYAMLError):
    """Generated YAML never needs anchors: one alias bomb would expand exponentially when the
    documents are walked or written out."""


def _refuse_aliases(text: str) -> None:
    if "*" not in text:  # every alias starts with '*'; the common case costs one scan
        return
    for event in _SAFE.parse(text):
        if type(event).__name__ == "AliasEvent":
            raise AliasRefused(problem="anchors and aliases are not allowed here",
                               problem_mark=event.start_mark)


def load_fast(text: str) -> Any:
    """Parse generated YAML (template output, rendered files, kubectl exports) with the C loader.
    Raises a YAMLError on an alias (see AliasRefused).

    The common case is built straight from the C parser's events (``_from_events``): ruamel's
    Python constructor and resolver cost four times the parse. Anything that path does not handle
    exactly like ruamel's safe loader goes through ruamel's loader itself, so the result is the
    same either way (a property test holds the two equal)."""
    try:
        return _from_events(text)
    except (_Unusual, YAMLError):
        pass  # ruamel's loader gives the value, or the very error it would have given
    _refuse_aliases(text)
    return _construct(lambda: _SAFE.load(text))


class _Unusual(Exception):
    """The text holds something the event path leaves to ruamel's loader."""


_YAML12 = [(tag.rsplit(":", 1)[1], re.compile(regexp.pattern, regexp.flags), first)
           for versions, tag, regexp, first in implicit_resolvers if (1, 2) in versions]
_MAYBE_TYPED = frozenset(c for _tag, _regexp, first in _YAML12 for c in first if c)
_NON_STRING_12 = [regexp for tag, regexp, _first in _YAML12]
_BOOLS = {w: w[0] in "tT" for w in ("true", "True", "TRUE", "false", "False", "FALSE")}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NO_KEY = object()


def _plain_value(text: str) -> Any:
    """A plain scalar read as YAML 1.2 by ruamel's resolver; raises _Unusual for the rare values
    whose construction (floats, octal, timestamps, merge keys...) is left to ruamel."""
    if text and text[0] not in _MAYBE_TYPED:
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _DECIMAL.fullmatch(text):
        return int(text)
    if any(regexp.match(text) for regexp in _NON_STRING_12):
        raise _Unusual
    return text


def _from_events(text: str) -> Any:
    """One document built from the C parser's events: plain mappings, lists and scalars with no
    anchors, tags or duplicate keys; anything else raises _Unusual."""
    stack: list[list[Any]] = []  # [container, pending key] per open collection
    root: Any = _NO_KEY
    documents = 0
    parser = CParser(text)  # directly: ruamel's generator around it costs a third of the parse
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is StreamEndEvent:
            break
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            value: Any = _plain_value(event.value) if event.style == "" and \
                event.implicit[0] else event.value
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            frame: list[Any] = [{} if kind is MappingStartEvent else [], _NO_KEY]
            stack.append(frame)
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value = stack.pop()[0]
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual
            continue
        elif kind is AliasEvent:
            raise _Unusual
        else:
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            container.append(value)
        elif top[1] is _NO_KEY:
            if type(value) in (dict, list) or value in container:
                raise _Unusual  # a collection as a key, or a duplicate key
            top[1] = value
        else:
            container[top[1]] = value
            top[1] = _NO_KEY
    return None if root is _NO_KEY else root


def load_fast_all(text: str) -> list[Any]:
    _refuse_aliases(text)
    return _construct(lambda: [doc for doc in _SAFE.load_all(text) if doc is not None])


def load_screened(text: str) -> Any:
    """One document of text the inventory screen has passed (no aliases, tags or duplicate keys),
    through the event path, or ruamel's safe loader for anything unusual; raises a YAMLError."""
    try:
        return _from_events(text)
    except _Unusual:
        return _construct(lambda: _SAFE.load(text))


Path = tuple[str | int, ...]
"""A path into a document: map keys and list indexes."""

_L = TypeVar("_L")

# What the C parser and ruamel's Python scanner read differently: NEL and the Unicode line and
# paragraph separators (the C parser breaks lines at them, the round-trip loader does not), a
# carriage return without a line feed, and tabs (ruamel refuses one inside a plain scalar).
_ODD_CHARACTERS = re.compile("[\t\x85\u2028\u2029]|\r(?!\n)")
_BLOCK_STYLES = frozenset("|>")
_DECIMAL_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")  # `OS_VERSION: 22.04` in TKG cluster configs


def load_positioned_fast(text: str, make: Callable[[int, int], _L]
                         ) -> list[tuple[Any, dict[Path, _L], dict[Path, _L]]] | None:
    """Every document of ``text`` with its positions (see ``_positioned_events``), or None when
    the text holds anything that path leaves to ruamel's round-trip loader, errors included: the
    caller then loads it that way, which gives the same result or reports the error."""
    try:
        return _positioned_events(text, make)
    except (_Unusual, YAMLError):
        return None


def _positioned_events(text: str, make: Callable[[int, int], _L]
                       ) -> list[tuple[Any, dict[Path, _L], dict[Path, _L]]]:
    """Every document of ``text`` with the position of each key and value, built from the C
    parser's events: what ruamel's round-trip loader gives (its line/col are the start marks of
    the key and value nodes, which are its parser's event marks), at a fifth of the cost, for
    inventories whose every problem must be located. ``make(line, col)`` (1-based) builds one
    position; ``keys`` and ``values`` map each path to where its key and its value start (a list
    item's key is the item itself), in the round-trip loader's order.

    Raises _Unusual for what this path does not reproduce exactly: anchors, aliases, tags,
    directives, keys that are not text, duplicate keys, plain values whose construction is left
    to ruamel (merge keys, timestamps, floats other than ``22.04``: see ``_plain_value``), empty
    plain scalars (the round-trip parser marks them by the token that follows them, or by a
    comment), literal and folded scalars that are empty or start with a blank line (ruamel's
    scanner refuses a first blank line less indented than the next, the C parser does not) and
    the characters the two parsers read apart (``_ODD_CHARACTERS``).
    Raises a YAMLError where the C parser finds one (the round-trip loader then reports it)."""
    if _ODD_CHARACTERS.search(text):
        raise _Unusual
    documents: list[tuple[Any, dict[Path, _L], dict[Path, _L]]] = []
    stack: list[list[Any]] = []  # [container, key being read or _NO_KEY, path, key position]
    keys: dict[Path, _L] = {}
    values: dict[Path, _L] = {}
    root: Any = _NO_KEY
    parser = CParser(text)
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            value: Any = event.value
            if event.style == "" and event.implicit[0]:
                if not value:
                    raise _Unusual  # an empty value: see the docstring
                try:
                    value = _plain_value(value)
                except _Unusual:
                    if not _DECIMAL_FLOAT.fullmatch(value):
                        raise
                    value = float(value)  # what the round-trip constructor computes for these
            elif event.style in _BLOCK_STYLES and (not value or value[0] == "\n"):
                raise _Unusual  # leading blank lines: ruamel refuses some the C parser takes
            collection = False
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unusual
            value = {} if kind is MappingStartEvent else []
            collection = True
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()
            continue
        elif kind is DocumentStartEvent:
            if event.version is not None or event.tags:
                raise _Unusual
            keys, values, root = {}, {}, _NO_KEY
            continue
        elif kind is DocumentEndEvent:
            documents.append((None if root is _NO_KEY else root, keys, values))
            continue
        elif kind is StreamEndEvent:
            return documents
        elif kind is AliasEvent:
            raise _Unusual
        else:
            continue
        mark = event.start_mark
        if not stack:
            root = value
            path: Path = ()
        else:
            top = stack[-1]
            container = top[0]
            if type(container) is list:
                path = (*top[2], len(container))
                keys[path] = values[path] = make(mark.line + 1, mark.column + 1)
                container.append(value)
            elif top[1] is _NO_KEY:
                if collection or type(value) is not str or value in container:
                    raise _Unusual  # the round-trip loader reports it, or builds it
                top[1] = value
                top[3] = make(mark.line + 1, mark.column + 1)
                continue
            else:
                path = (*top[2], top[1])
                keys[path] = top[3]
                values[path] = make(mark.line + 1, mark.column + 1)
                container[top[1]] = value
                top[1] = _NO_KEY
        if collection:
            stack.append([value, _NO_KEY, path, None])
