"""The one writer of canonical YAML: key order as given, two-space indentation, no anchors, no
folded lines, LF, one final newline, and every string quoted that a YAML 1.1 *or* 1.2 reader
would turn into something else (``needs_quotes``). Plain documents are written by a fast path
that gives ruamel's bytes; anything else goes through ruamel's C-accelerated dumper.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import implicit_resolvers

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


class _Unusual(Exception):
    """A value the fast path leaves to ruamel's dumper."""


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


# Printable ASCII that ruamel's dumper writes plain in block context (if it would not be read
# back as anything else: ``needs_quotes``). Its emitter is libyaml's (ruamel.yaml.clib's
# CEmitter), and this is libyaml's ``yaml_emitter_analyze_scalar`` for such text: plain unless it
# starts with '---', '...', a space or one of ``#,[]{}&*!|>'"%@` ``, or with '-', '?' or ':'
# alone or before a space, or holds ': ', ' #', or ends with ':' or a space. Flow indicators
# inside (',', '[', '?'...) only forbid plain text in flow context, which canonical YAML has not.
_PLAIN_TEXT = re.compile(
    r"(?!---|\.\.\.|[-?:](?: |\Z)|[ #,\[\]{}&*!|>'\"%@`])"
    r"(?:[!-9;-~]+|:(?! |\Z)| (?!#|\Z))+")  # runs at a time: twice as fast as char by char
# The rest of printable ASCII it writes single-quoted, ' doubled, on one line: without special
# characters or line breaks nothing makes libyaml choose double quotes, and the width never folds.
_QUOTABLE_TEXT = re.compile(r"[ -~]*")
_MAX_KEY = 127  # longer keys are written as explicit '? ' keys


def _scalar_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if not needs_quotes(value) and _PLAIN_TEXT.fullmatch(value):
            return value  # type: ignore[no-any-return]
        if _QUOTABLE_TEXT.fullmatch(value):  # needs quotes, or ruamel's analysis refuses plain
            return "'" + value.replace("'", "''") + "'"  # type: ignore[no-any-return]
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


def dump_flow(value: Any) -> str:
    """``value`` as one line of flow YAML, for the templates' ``yaml`` filter: JSON, which YAML 1.2
    and YAML 1.1 readers both read as the same value. JSON leaves some characters raw that a YAML
    reader would fold (U+0085, U+2028, U+2029: line breaks to YAML 1.1) or refuse (C1 controls,
    U+FEFF, surrogates, U+FFFE/U+FFFF); they are written as ``\\uXXXX`` escapes, which both read."""
    return _YAML_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}",
                         json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


_YAML_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
