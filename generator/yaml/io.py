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
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # the C parser ruamel uses
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent,
                                MappingStartEvent, ScalarEvent, SequenceEndEvent,
                                SequenceStartEvent, StreamEndEvent)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import implicit_resolvers

from generator.problems import FleetError, Location, Problem
from generator.secrets import is_secret_key, is_secret_value

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

    Raises FleetError with located problems on bad YAML: syntax errors, duplicate keys, and
    everything ``_screen`` refuses.
    """
    try:
        _screen(text, file, single=True)
        doc = _RT.load(text)
    except YAMLError as exc:
        raise FleetError([_yaml_problem(exc, file)]) from None
    positions = Positions(file)
    return _plain(doc, (), positions), positions


MAX_DEPTH = 64
MAX_CHARS = 1_000_000  # inventories are a few kilobytes; the round-trip loader is slow on more
PLAIN_TAGS = {None, *(f"tag:yaml.org,2002:{t}"
                           for t in ("str", "int", "float", "bool", "null", "map", "seq"))}

# What YAML 1.2 does not allow in a stream: NUL and the other C0/C1 control characters except
# tab and line breaks, lone surrogates, U+FFFE and U+FFFF.
_NOT_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                          "\U00010000-\U0010ffff]")
_INNER_BOM = re.compile("\ufeff")  # a byte order mark anywhere but at the start
_CHARACTER_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1b: "ESC", 0x7f: "DEL",
                    0xfeff: "byte order mark"}

# Plain scalars the strict model could not catch because they are read as the same type but a
# different value, or as something YAML 1.2 does not know. ``off`` or ``1:20`` are text in
# YAML 1.2 and stay text (written quoted); ``1.10`` is a number the model refuses where text is
# expected. But ``0755`` is 755 in YAML 1.2 and 493 in YAML 1.1, and ``1_000``, ``0b11``,
# ``2024-01-01`` and ``=`` are text in YAML 1.2 that the loader would turn into numbers, dates or
# tagged values.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_OTHER_READINGS = [
    (re.compile(r"[-+]?0o[0-7_]+"), "a number in YAML 1.2 but text in YAML 1.1"),
    (re.compile(r"[-+]?(0b[01_]+|[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)"),
     "text in YAML 1.2 but a number in YAML 1.1"),
    (re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+).*)?"),
     "text in YAML 1.2 but a date in YAML 1.1"),
    (re.compile(r"="), "text in YAML 1.2 but a special value in YAML 1.1"),
]


def ambiguity(text: str) -> str | None:
    """Why the plain (unquoted) scalar ``text`` cannot be read unambiguously, or None.

    >>> [ambiguity(s) is not None for s in ("0755", "1_000", "2024-01-01", "=", "off", "3", "1.10")]
    [True, True, True, True, False, False, False]
    """
    if _LEADING_ZERO.fullmatch(text) and not re.fullmatch(r"[-+]?0+[0-7]?", text):
        digits = text.replace("_", "")
        octal = f"the octal number {int(digits, 8)}" if re.fullmatch(r"[-+]?0[0-7]+", digits) \
            else "text"
        return f"'{text}' is the number {int(digits, 10)} in YAML 1.2 but {octal} in YAML 1.1"
    for pattern, reading in _OTHER_READINGS:
        if pattern.fullmatch(text):
            return f"'{text}' is {reading}"
    return None


def _ambiguity_hint(text: str) -> str:
    hint = f'quote it ("{text}") if it is text'
    if re.fullmatch(r"[-+]?[0-9][0-9_]*", text):
        return hint + ", or write the number without leading zeros or '_'"
    return hint


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _check_text(text: str, file: str) -> None:
    if len(text) > MAX_CHARS:
        raise FleetError([Problem(Location(file, 1, 1), "yaml-size",
                                  f"the file has {len(text)} characters, more than the "
                                  f"{MAX_CHARS} an inventory file may have")])
    bad = _NOT_ALLOWED.search(text) or _INNER_BOM.search(text, 1)
    if bad is not None:
        code = ord(bad.group())
        name = _CHARACTER_NAMES.get(code, "a control character" if code < 0xa0
                                    else "a non-character")
        where = " here" if code == 0xfeff else " in YAML"
        raise FleetError([Problem(Location(file, *_position(text, bad.start())), "encoding",
                                  f"the character U+{code:04X} ({name}) is not allowed{where}",
                                  "remove it; inventories are plain UTF-8 text")])


@dataclass
class _Frame:
    """An open mapping or sequence while screening the event stream."""

    mapping: bool
    expect_key: bool = True
    key: str = ""  # the key whose value is being read
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # key → where first written

    def advance(self) -> None:
        """A node ended in this collection: in a mapping, keys and values alternate."""
        if self.mapping:
            self.expect_key = not self.expect_key


def _screen(text: str, file: str, *, single: bool) -> None:
    """Refuse what a hand-written inventory never needs, from the event stream alone, before
    anything is built: characters YAML refuses and huge files, aliases (an alias bomb expands
    exponentially) and merge keys, explicit tags (object construction), absurd nesting, keys that
    are lists or mappings, duplicate keys (naming both lines) and, where one is expected, several
    documents. Then every plain value the strict model could not catch because YAML readers
    disagree on it (``0755``, ``1_000``, ``2024-01-01``, see ``ambiguity``), all at once; values
    under secret-looking keys are never shown."""
    _check_text(text, file)
    ambiguous: list[Problem] = []
    try:
        _screen_events(text, file, single, ambiguous)
    except YAMLError:
        return  # a syntax error: the loader that follows reports it, with its own positions
    if ambiguous:
        raise FleetError(ambiguous)


def _screen_events(text: str, file: str, single: bool, ambiguous: list[Problem]) -> None:
    documents = 0
    stack: list[_Frame] = []
    for event in _SAFE.parse(text):
        name = type(event).__name__
        mark = event.start_mark
        where = Location(file, mark.line + 1, mark.column + 1)
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.mapping and parent.expect_key
        if name == "AliasEvent":
            raise FleetError([Problem(where, "yaml-alias", "anchors and aliases are not supported "
                                      "in inventories", "put shared values in a _defaults.yaml")])
        if getattr(event, "tag", None) not in PLAIN_TAGS:
            raise FleetError([Problem(where, "yaml-tag", f"the tag {event.tag} is not supported",
                                      "remove the tag; inventories hold plain values")])
        if name == "ScalarEvent":
            value = event.value
            plain = event.tag is None and not event.style and bool(event.implicit[0])
            if is_key and parent is not None:
                if plain and value == "<<":
                    raise FleetError([Problem(where, "yaml-alias", "merge keys ('<<') are not "
                                              "supported in inventories",
                                              "put shared values in a _defaults.yaml")])
                if value in parent.keys:
                    line, col = parent.keys[value]
                    first = f"line {line}" + (f", column {col}" if line == mark.line + 1 else "")
                    raise FleetError([Problem(where, "duplicate-key",
                                              f"duplicate key '{value}' (first at {first})",
                                              "a key may appear only once in a mapping")])
                parent.keys[value] = (mark.line + 1, mark.column + 1)
                parent.key = value
            secret = is_secret_value(value) or any(
                f.mapping and not f.expect_key and is_secret_key(f.key) for f in stack)
            why = ambiguity(value) if plain and not secret else None
            if why is not None:
                ambiguous.append(Problem(where, "yaml-ambiguous", why, _ambiguity_hint(value)))
            if parent is not None:
                parent.advance()
        elif name in ("MappingStartEvent", "SequenceStartEvent"):
            if is_key:
                kind = "a mapping" if name == "MappingStartEvent" else "a list"
                raise FleetError([Problem(where, "yaml-key", f"keys must be text, not {kind}",
                                          "write the key as plain text")])
            stack.append(_Frame(mapping=name == "MappingStartEvent"))
            if len(stack) > MAX_DEPTH:
                raise FleetError([Problem(where, "yaml-depth",
                                          f"nesting deeper than {MAX_DEPTH} levels")])
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            stack.pop()
            if stack:
                stack[-1].advance()
        elif name == "DocumentStartEvent":
            documents += 1
            if single and documents > 1:
                raise FleetError([Problem(where, "yaml-documents",
                                          "an inventory file holds one document, not several",
                                          "remove the '---' separator")])


def _yaml_problem(exc: YAMLError, file: str) -> Problem:
    if isinstance(exc, DuplicateKeyError):
        return _marked_problem(exc, file, "duplicate-key",
                               "a key may appear only once in a mapping")
    if isinstance(exc, MarkedYAMLError):
        return _marked_problem(exc, file, "yaml-syntax", "")
    return Problem(Location(file, 1, 1), "yaml-syntax", " ".join(str(exc).split()))


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
    return _SAFE.load(text)


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
    return [doc for doc in _SAFE.load_all(text) if doc is not None]


# --- writing ---------------------------------------------------------------------------------

_NON_STRING_BY_FIRST: dict[str, list[re.Pattern[str]]] = {}
for _versions, _tag, _regexp, _first in implicit_resolvers:
    if _tag != "tag:yaml.org,2002:str":
        for _char in _first:
            _NON_STRING_BY_FIRST.setdefault(_char, []).append(
                re.compile(_regexp.pattern, _regexp.flags))


def needs_quotes(text: str) -> bool:
    """True when a plain scalar ``text`` would be read back as something other than a string by a
    YAML 1.1 or YAML 1.2 reader (``on``, ``no``, ``1.10``, ``0755``, ``1:20``, ``~``, ``2024-01-01``).

    >>> [needs_quotes(s) for s in ("on", "1.10", "0755", "1:20", "prod", "10.0.0.1")]
    [True, True, True, True, False, False]
    """
    if not text:
        return True
    return any(regexp.match(text) for regexp in _NON_STRING_BY_FIRST.get(text[0], ()))


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
    """Canonical YAML text of one document: key order as given, LF, final newline.

    Documents of plain values (what templates and overlays give) are written by ``_block``, the
    same bytes as ruamel's dumper at a fraction of its cost (its representer is pure Python);
    anything else (floats, unusual text, top-level scalars...) goes through ruamel itself. A
    property test holds the two equal."""
    if type(doc) in (dict, list) and doc:
        lines: list[str] = []
        try:
            (_block_mapping if type(doc) is dict else _block_sequence)(doc, "", lines)
        except _Unusual:
            pass
        else:
            lines.append("")
            return "\n".join(lines)
    return ruamel_dump(doc)


def ruamel_dump(doc: Any) -> str:
    """``dump`` through ruamel's dumper alone: the reference ``dump``'s fast path must equal."""
    stream = io.StringIO()
    _DUMPER.dump(doc, stream)
    return stream.getvalue()


# Text ruamel writes plain (when it would not be read back as anything else): printable ASCII,
# no indicator or '...' at the start, no ': ' or ' #' inside, no ':' at the end, no space at either end.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_./$^=~][A-Za-z0-9_./$^=~+@,()<>;%!&*?-]*(?:[ :]+[A-Za-z0-9_./$^=~+@,()<>;%!&*?-]+)*")
_QUOTABLE_TEXT = re.compile(r"[ -~]*")  # printable ASCII: single quotes, ' doubled
_MAX_KEY = 127  # longer keys are written as explicit '? ' keys


def _scalar_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if needs_quotes(value):
            if _QUOTABLE_TEXT.fullmatch(value):
                return "'" + value.replace("'", "''") + "'"  # type: ignore[no-any-return]
        elif _PLAIN_TEXT.fullmatch(value) and ": " not in value and value[:3] != "...":
            return value  # type: ignore[no-any-return]
    elif kind is bool:
        return "true" if value else "false"
    elif kind is int:
        return str(value)
    elif value is None:
        return "null"
    raise _Unusual


def _inline(value: Any) -> str | None:
    """How a value that fits on its key's line is written, or None for a non-empty collection."""
    kind = type(value)
    if kind is dict or kind is list:
        return None if value else ("{}" if kind is dict else "[]")
    return _scalar_text(value)


def _block_mapping(doc: dict[Any, Any], indent: str, lines: list[str]) -> None:
    for key, value in doc.items():
        if type(key) is not str or len(key) > _MAX_KEY:
            raise _Unusual
        head = f"{indent}{_scalar_text(key)}:"
        text = _inline(value)
        if text is not None:
            lines.append(f"{head} {text}")
        elif type(value) is dict:
            lines.append(head)
            _block_mapping(value, indent + "  ", lines)
        else:
            lines.append(head)
            _block_sequence(value, indent, lines)  # block lists sit at their key's indent


def _block_sequence(items: list[Any], indent: str, lines: list[str]) -> None:
    for item in items:
        text = _inline(item)
        if text is not None:
            lines.append(f"{indent}- {text}")
            continue
        first = len(lines)
        if type(item) is dict:
            _block_mapping(item, indent + "  ", lines)
        else:
            _block_sequence(item, indent + "  ", lines)
        # The first line of a nested collection shares the line of its '- '.
        lines[first] = f"{indent}- {lines[first][len(indent) + 2:]}"


def load_positioned_all(text: str, file: str) -> list[tuple[Any, Positions]]:
    """Every document of a multi-document file, each with its positions (see load_positioned)."""
    try:
        _screen(text, file, single=False)
        docs = list(_RT.load_all(text))
    except YAMLError as exc:
        raise FleetError([_yaml_problem(exc, file)]) from None
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
        try:
            doc = _from_events(text)
        except _Unusual:
            doc = _SAFE.load(text)
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
