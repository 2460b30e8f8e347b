"""The fast loader of generated YAML (template output, rendered files, kubectl exports): values
built straight from the C parser's events, about four times faster than ruamel's safe loader,
with ruamel's loader itself for anything unusual. It reads YAML 1.2 and refuses aliases.
"""

from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # the C parser ruamel uses
from ruamel.yaml.constructor import ConstructorError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent,
                                MappingStartEvent, ScalarEvent, SequenceEndEvent,
                                SequenceStartEvent, StreamEndEvent)
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
