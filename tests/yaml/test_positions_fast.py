"""The positioned loader's fast path (values and positions from the C parser's events) gives
exactly what ruamel's round-trip loader gives: the same values, the same line and column for every
key and value, in the same order, and the same problems for a text it cannot load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.problems import FleetError
from generator.yaml.fast import load_positioned_fast
from generator.yaml.load import load_positioned, load_positioned_all

ROOT = Path(__file__).resolve().parents[2]

Draw = st.DrawFn


def loaded(text: str, *, fast: bool, multi: bool = False) -> Any:
    """Everything a caller can see of one load: values (with their types), both position maps
    in order, or the problems raised."""
    try:
        if multi:
            docs = load_positioned_all(text, "f.yaml", fast=fast)
        else:
            docs = [load_positioned(text, "f.yaml", fast=fast)]
    except FleetError as exc:
        return ("error", [(p.location, p.code, p.message, p.hint) for p in exc.problems])
    return ("ok", [(repr(doc), pos.file, list(pos.keys.items()), list(pos.values.items()))
                   for doc, pos in docs])


def assert_same(text: str, multi: bool = False) -> Any:
    """The fast path's result equals the round-trip loader's; returns it."""
    fast = loaded(text, fast=True, multi=multi)
    assert fast == loaded(text, fast=False, multi=multi), text
    return fast


# --- generated inventory-like documents -------------------------------------------------------

PLAIN = ["vsphere", "prod", "10.0.0.1", "fd00::1", "v1.27.5+vmware.1-tkg.1", "a b  c", "é",
         "日本語", "😀 x", "on", "off", "true", "False", "~", "null", "1", "-3", "0", "22.04",
         "-0.5", "1.10", "1e3", "0x1F", ".inf", "0755", "1_000", "2024-01-01", "x#y", "a:b",
         "https://vc.example.com:8443/sdk?x=1&y=2", "/dc0/host/cluster0", "ubuntu,22.04,amd64",
         "100Gi", "<<", "=", "-x", "x-", "?x", "a'b", 'a"b', "a\\b", "%x", "x" * 90]
FLOW_PLAIN = ["vsphere", "10.0.0.1", "é", "😀", "1", "-3", "22.04", "true", "null", "~", "a b",
              "x-y", "v1.2", "a'b", "1.10", "0755"]
KEYS = ["name", "namespace", "controlPlane", "replicas", "a.b/c", "k8s.io/x", "x-y_z", "é",
        "日本", "😀", "ipPools", "endpoint", "on", "x:y", "a b", "workers", "labels", "ip"]
ODD_KEYS = ["true", "1", "null", "<<"]  # not text, or a merge key: the round-trip loader's error
TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")),
                max_size=12)


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def inline_scalar(draw: Draw, flow: bool) -> str:
    """A one-line scalar: plain, single- or double-quoted (JSON escapes are YAML's)."""
    kind = draw(st.sampled_from(["plain", "plain", "single", "double"]))
    if kind == "plain":
        return str(draw(st.sampled_from(FLOW_PLAIN if flow else PLAIN)))
    text = draw(st.one_of(TEXTS, st.sampled_from(PLAIN)))
    if kind == "single":
        return single_quoted(text.replace("\n", " ").replace("\r", " "))
    return double_quoted(text, escape_all=draw(st.booleans()))


def double_quoted(text: str, escape_all: bool) -> str:
    """``text`` double-quoted, every character beyond ASCII escaped too if ``escape_all`` (never
    as a surrogate pair, which YAML does not join)."""
    out = ""
    for char in text:
        code = ord(char)
        if char in '"\\':
            out += "\\" + char
        elif code < 0x20 or code == 0x7f or (escape_all and code > 0x7e):
            out += (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                    else f"\\U{code:08x}")
        else:
            out += char
    return '"' + out + '"'


def multiline_scalar(draw: Draw, indent: int) -> str:
    """A scalar over several lines, continued deeper than ``indent``: plain, quoted or a block
    scalar (literal or folded, with chomping, more-indented and blank lines)."""
    kind = draw(st.sampled_from(["plain", "single", "double", "block"]))
    words = draw(st.lists(st.sampled_from(["alpha", "beta", "é", "日本", "x:y", "1", "", "a b"]),
                          min_size=2, max_size=5))
    words[0] = words[0] or "first"
    if kind != "block":
        words[-1] = words[-1] or "last"
        inner = " " * (indent + draw(st.integers(1, 3)))
        body = ("\n" + inner).join(words)
        body = "\n".join(line.rstrip() for line in body.split("\n"))
        if kind == "plain":
            return body
        return single_quoted(body) if kind == "single" else '"' + body + '"'
    header = draw(st.sampled_from(["|", "|-", "|+", ">", ">-", ">+"]))
    inner = " " * (indent + draw(st.integers(1, 3)))
    lines = [inner + w if w else "" for w in words]
    lines[1:] = [(" " * draw(st.integers(0, 2)) + line) if line else line for line in lines[1:]]
    trailing = "\n" * draw(st.integers(0, 2))
    comment = draw(st.sampled_from(["", "  # c"]))
    return f"{header}{comment}\n" + "\n".join(lines) + trailing


def flow_node(draw: Draw, depth: int, indent: int) -> str:
    """A flow scalar, sequence or mapping, sometimes over several lines."""
    if depth > 2 or draw(st.integers(0, 2)) == 0:
        return inline_scalar(draw, flow=True)
    keys = draw(st.lists(st.sampled_from(KEYS[:12]), max_size=3, unique=True))
    items = [flow_node(draw, depth + 1, indent) for _ in keys]
    if draw(st.booleans()):
        parts = [f"{k}: {v}" for k, v in zip(keys, items)]
        opening, closing = "{", "}"
    else:
        parts = items
        opening, closing = "[", "]"
    out = opening + draw(st.sampled_from(["", " "]))
    for index, part in enumerate(parts):
        if index:
            out += "," + draw(st.sampled_from([" ", "", "\n" + " " * (indent + 2)]))
        out += part
    if parts and draw(st.integers(0, 4)) == 0:
        out += ","
    return out + draw(st.sampled_from(["", " "])) + closing


def filler(draw: Draw, indent: int) -> str:
    """Blank lines and comment lines, at any indentation."""
    out = ""
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        out += draw(st.sampled_from(["\n", " " * indent + "# note\n", "#\n", "   # é 日本\n",
                                     " \n"]))
    return out


def after_indicator(draw: Draw, depth: int, indent: int, in_mapping: bool) -> str:
    """What follows ``key:`` or ``- `` in a block collection at ``indent``: an inline scalar or
    flow collection, a multi-line scalar, or a nested block collection on the next lines (in a
    mapping, a sequence may stand at the key's own indentation)."""
    choice = draw(st.integers(0, 9)) if depth < 4 else 0
    comment = draw(st.sampled_from(["", "", "  # c", " #c"]))
    if choice <= 3:
        return " " + inline_scalar(draw, flow=False) + comment + "\n"
    if choice == 4:
        return " " + flow_node(draw, 1, indent) + comment + "\n"
    if choice == 5:
        return " " + multiline_scalar(draw, indent) + "\n"
    if choice == 6 and draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(["", " ", "  # empty"])) + "\n"  # an empty value
    if choice <= 8:
        deeper = indent + draw(st.integers(1, 4))
        return comment + "\n" + filler(draw, deeper) + block_mapping(draw, depth + 1, deeper)
    deeper = indent + draw(st.integers(0 if in_mapping else 1, 4))
    return comment + "\n" + filler(draw, deeper) + block_sequence(draw, depth + 1, deeper)


def key_text(draw: Draw, key: str) -> str:
    style = draw(st.sampled_from(["plain", "plain", "plain", "single", "double"]))
    if style == "single":
        return single_quoted(key)
    return double_quoted(key, escape_all=False) if style == "double" else key


def block_mapping(draw: Draw, depth: int, indent: int, compact: bool = False) -> str:
    """A block mapping at ``indent``; ``compact``: its first line follows ``- `` (no filler)."""
    names = st.sampled_from(KEYS) if draw(st.integers(0, 15)) else st.sampled_from(ODD_KEYS + KEYS)
    keys = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    out = ""
    for index, key in enumerate(keys):
        if index or not compact:
            out += filler(draw, indent)
        out += " " * indent + key_text(draw, key) + draw(st.sampled_from([":", ":", " :"]))
        out += after_indicator(draw, depth, indent, in_mapping=True)
    return out


def block_sequence(draw: Draw, depth: int, indent: int) -> str:
    """A block sequence at ``indent``: inline items, compact mappings and sequences (``- a: 1``,
    ``- - x``) and items on the lines after their ``-``."""
    out = ""
    for _ in range(draw(st.integers(1, 4))):
        out += filler(draw, indent)
        kind = draw(st.integers(0, 4)) if depth < 4 else 0
        if kind == 1:
            nested = block_mapping(draw, depth + 1, indent + 2, compact=True)
            out += " " * indent + "- " + nested[indent + 2:]
        elif kind == 2 and draw(st.booleans()):
            nested = block_sequence(draw, depth + 1, indent + 2)
            first = nested.index("-")
            out += " " * indent + "- " + nested[first:]
        else:
            out += " " * indent + "-" + after_indicator(draw, depth, indent, in_mapping=False)
    return out


@st.composite
def inventories(draw: Draw) -> str:
    """A whole inventory-like document: a block mapping (now and then a sequence or a flow
    collection) with comments and blank lines around, an optional ``---`` and ``...``."""
    head = draw(st.sampled_from(["", "", "# inventory\n", "---\n", "--- # doc\n", "\n\n"]))
    kind = draw(st.integers(0, 9))
    if kind == 0:
        body = flow_node(draw, 0, 0) + "\n"
    elif kind == 1:
        body = block_sequence(draw, 0, 0)
    else:
        body = block_mapping(draw, 0, 0)
    tail = draw(st.sampled_from(["", "", "# end\n", "...\n", "\n\n"]))
    return head + body + tail


@settings(max_examples=200, deadline=None)
@given(inventories())
def test_fast_path_equals_the_round_trip_loader(text: str) -> None:
    assert_same(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(inventories(), min_size=1, max_size=3))
def test_fast_path_equals_the_round_trip_loader_on_several_documents(texts: list[str]) -> None:
    text = "".join(t if t.startswith("---") else "---\n" + t for t in texts)
    assert_same(text, multi=True)


# --- the repository's own YAML ----------------------------------------------------------------

REPO_YAML = sorted({path.relative_to(ROOT).as_posix()
                    for pattern in ("clusters/**/*.yaml", "tests/cases/**/clusters/**/*.yaml",
                                    "tests/**/*.yaml")
                    for path in ROOT.glob(pattern)})


def test_the_repository_has_yaml_to_compare() -> None:
    assert len(REPO_YAML) > 100
    assert any(name.startswith("clusters/") for name in REPO_YAML)
    assert any(name.startswith("tests/cases/") and "/clusters/" in name for name in REPO_YAML)


@pytest.mark.parametrize("name", REPO_YAML)
def test_repository_yaml_loads_the_same(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert_same(text)
    assert_same(text, multi=True)


EDITS = [" ", "\n", ":", "-", "- ", ": ", "#", "'", '"', "[", "]", "{", "}", ",", "|", ">", "?",
         "&a", "*a", "!", "%", "@", "\t", "\\", "é", "😀", "  ", "\n  ", "---\n", "...", "''", "~",
         "\n# c\n", "\r\n", "\u2028", "0755", "1.5", "<<"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(REPO_YAML), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3),
                                                      st.sampled_from(EDITS)),
                                            min_size=1, max_size=3), st.booleans())
def test_edited_repository_yaml_loads_the_same(name: str, edits: list[tuple[float, int, str]],
                                               multi: bool) -> None:
    """Real files with a few characters deleted or inserted: mostly errors, which the C parser
    and ruamel's scanner do not always agree on; the result must still be today's."""
    text = (ROOT / name).read_text(encoding="utf-8")
    for where, deleted, inserted in edits:
        at = int(where * len(text))
        text = text[:at] + inserted + text[at + deleted:]
    assert_same(text, multi=multi)


@pytest.mark.parametrize("name", [n for n in REPO_YAML if n.startswith("clusters/")])
def test_inventories_take_the_fast_path(name: str) -> None:
    """The fleet's inventories are what the fast path is for: it must not decline them."""
    documents = load_positioned_fast((ROOT / name).read_text(encoding="utf-8"),
                                     lambda line, col: (line, col))
    assert documents is not None and len(documents) == 1


def test_positions_name_where_each_key_and_value_starts() -> None:
    text = ("# head\n"
            "name: edge-01\n"
            "labels: {tier: 'web', n: 3}\n"
            "network:\n"
            "  nameservers:\n"
            "  - 10.0.0.53\n"
            "  - |\n"
            "    fd00::53\n"
            "  note: \"two\n"
            "    lines\"\n"
            "version: 22.04\n")
    assert load_positioned_fast(text, lambda line, col: (line, col)) is not None
    assert documents_of(text) == documents_of(text, fast=False)
    doc, keys, values = documents_of(text)[0]
    assert doc == {"name": "edge-01", "labels": {"tier": "web", "n": 3},
                   "network": {"nameservers": ["10.0.0.53", "fd00::53\n"], "note": "two lines"},
                   "version": 22.04}
    assert keys == {("name",): (2, 1), ("labels",): (3, 1), ("labels", "tier"): (3, 10),
                    ("labels", "n"): (3, 23), ("network",): (4, 1),
                    ("network", "nameservers"): (5, 3), ("network", "nameservers", 0): (6, 5),
                    ("network", "nameservers", 1): (7, 5), ("network", "note"): (9, 3),
                    ("version",): (11, 1)}
    assert values == {("name",): (2, 7), ("labels",): (3, 9), ("labels", "tier"): (3, 16),
                      ("labels", "n"): (3, 26), ("network",): (5, 3),
                      ("network", "nameservers"): (6, 3), ("network", "nameservers", 0): (6, 5),
                      ("network", "nameservers", 1): (7, 5), ("network", "note"): (9, 9),
                      ("version",): (11, 10)}


def documents_of(text: str, fast: bool = True) -> list[tuple[Any, Any, Any]]:
    """Values and positions as (line, col) pairs, through either path."""
    return [(doc, {p: (loc.line, loc.col) for p, loc in pos.keys.items()},
             {p: (loc.line, loc.col) for p, loc in pos.values.items()})
            for doc, pos in load_positioned_all(text, "f.yaml", fast=fast)]


# --- what the fast path leaves to the round-trip loader ---------------------------------------

@pytest.mark.parametrize("text", [
    "a:\n",                           # an empty value: marked by what follows it
    "a: # c\nb: 1\n",
    "- \n- x\n",
    "a: 1.5e3\nb: .inf\n",            # floats other than 22.04
    "a: 'x'\n\tb: 1\n",               # a tab
    "a: x\u2028y\n",                  # a line separator: a line break for the C parser only
    "a: 1\rb: 2\r",
    "%YAML 1.2\n---\na: 1\n",         # a directive
])
def test_the_fast_path_declines_what_it_does_not_reproduce(text: str) -> None:
    assert load_positioned_fast(text, lambda line, col: (line, col)) is None
    assert_same(text)
    assert_same(text, multi=True)


@pytest.mark.parametrize(("text", "problem"), [
    ("name: a\nlabels:\n  x: 1\n  x: 2\n",
     (4, 3, "duplicate-key", "duplicate key 'x' (first at line 3)")),
    ("name: a\nspec:\n  b: 1\n c: 2\n",
     (4, 2, "yaml-syntax", ("while parsing a block mapping expected <block end>, but found "
      "'<block mapping start>' (it starts at line 1, column 1)"))),
    ("name: 'a\nb: 2\n",
     (1, 7, "yaml-syntax", "while scanning a quoted scalar found unexpected end of stream")),
    ('name: "a\nb: 2\n',
     (1, 7, "yaml-syntax", "while scanning a quoted scalar found unexpected end of stream")),
    ("a: [1, 2\nb: 3\n",
     (2, 2, "yaml-syntax", ("while parsing a flow sequence expected ',' or ']', but got ':' "
      "(it starts at line 1, column 4)"))),
    ("a:\n  - 1\n  b: 2\n",
     (3, 3, "yaml-syntax", ("while parsing a block collection expected <block end>, but found "
      "'?' (it starts at line 2, column 3)"))),
    ("a: b: c\n", (1, 5, "yaml-syntax", "mapping values are not allowed here")),
    ("a: |\n \n   x\n",  # the C parser takes it, ruamel's scanner does not
     (3, 4, "yaml-syntax", "more indented follow up line than first in a block scalar")),
    ("a: 1\n\tb: 2\n", (2, 1, "yaml-syntax", ("while scanning for the next token found "
                        "character '\\t' that cannot start any token"))),
    ("a:\n  1: x\n", (2, 3, "yaml-key", "keys must be text, not a number")),
    ("a: &x 1\nb: *x\n",
     (2, 4, "yaml-alias", "anchors and aliases are not supported in inventories")),
    ("<<: {a: 1}\n", (1, 1, "yaml-alias", "merge keys ('<<') are not supported in inventories")),
    ("a: !!binary aGk=\n",
     (1, 4, "yaml-tag", "the tag tag:yaml.org,2002:binary is not supported")),
    ("a: 1\n---\nb: 2\n",
     (2, 1, "yaml-documents", "an inventory file holds one document, not several")),
])
def test_errors_are_reported_as_before(text: str, problem: tuple[int, int, str, str]) -> None:
    result = assert_same(text)
    assert result[0] == "error"
    (location, code, message, _hint), = result[1]
    assert (location.line, location.col, code, message) == problem


@pytest.mark.parametrize(("text", "code"), [
    ('a: "\\ud85a"\nb: &x 1\nc: *x\n', "yaml-alias"),
    ('a: "\\ud85a"\nb: !!python/name:os.system x\n', "yaml-tag"),
    ('a: "\\ud85a"\n<<: {true: x}\n', "yaml-alias"),
])
def test_a_value_only_the_c_parser_refuses_does_not_get_past_the_screen(text: str,
                                                                        code: str) -> None:
    """Found while building the fast path: the C parser refuses a lone surrogate escape, the
    round-trip loader does not, and the screen used to give up on the whole text."""
    with pytest.raises(FleetError) as caught:
        load_positioned(text, "x.yaml")
    assert [p.code for p in caught.value.problems] == [code]
