"""The hostile-input screen of inventory YAML: what a hand-written inventory never needs is
refused from the C parser's event stream alone, before anything is built.

Characters YAML refuses and huge files, aliases (an alias bomb expands exponentially) and merge
keys, explicit tags (object construction), absurd nesting, keys that are lists or mappings,
duplicate keys and, where one is expected, several documents; then every plain value YAML 1.1 and
YAML 1.2 readers disagree on (``ambiguity``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from generator.problems import FleetError, Location, Problem
from generator.secrets import is_secret_key, is_secret_value

_EVENTS = YAML(typ="safe", pure=False)  # only its C parser's events are used
_PURE_EVENTS = YAML(typ="safe", pure=True)  # where the C parser refuses what ruamel accepts

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


def screen(text: str, file: str, *, single: bool) -> None:
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
        _screen_events(_EVENTS, text, file, single, ambiguous)
    except YAMLError:
        # The C parser refuses a few texts the pure-Python one (which the round-trip loader
        # uses) accepts, such as a lone surrogate escape "\ud85a": screen its events then, or
        # aliases, tags and merge keys after such a value would reach the loader unscreened.
        ambiguous = []
        try:
            _screen_events(_PURE_EVENTS, text, file, single, ambiguous)
        except YAMLError:
            return  # a syntax error: the loader that follows reports it, with its positions
    if ambiguous:
        raise FleetError(ambiguous)


def _screen_events(parser: YAML, text: str, file: str, single: bool,
                   ambiguous: list[Problem]) -> None:
    documents = 0
    stack: list[_Frame] = []
    for event in parser.parse(text):
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
