"""The fast YAML paths (events → values, values → canonical text) give exactly what ruamel's own
loader and dumper give, for any document; they only skip ruamel's Python layers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from generator.yaml.dump import dump, ruamel_dump
from generator.yaml.fast import load_fast

RUAMEL = YAML(typ="safe", pure=False)  # what load_fast must agree with (see ruamel_load)

TRICKY = ["on", "off", "yes", "no", "y", "n", "true", "False", "TRUE", "~", "null", "Null", "1.10",
          "0755", "0o17", "0b11", "1:20", "1_000", "0x1F", ".inf", "-.5", ".nan", "2024-01-01",
          "2024-01-01T10:00:00Z", "<<", "=", "!", "&", "*", "", " lead", "trail ", "a: b", "a:b",
          "- x", "-x", "-", "#c", "a #c", "a#c", "@x", "`x", "%x", "?x", "? x", ":x", "x:",
          "10.0.0.1", "fd00::1", "fd00::", "1e3", "+1", "-1", "-0", "00", "0", "12345678901234567890",
          "a'b", 'a"b', "a\\b", "a\tb", "a\nb", "a\n", "é", "a  b", "{x}", "[x]", "x,y", "|", ">",
          "a|b", "https://x.example.com:8443/p?q=1&r=2", "image-type=ova,os-name=ubuntu",
          "x" * 130, "k" * 128]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=False), st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(alphabet="abz09.-_:/ #'=,", max_size=10))
keys = st.one_of(st.sampled_from(TRICKY), st.text(alphabet="abz09.-_:/ #'", max_size=8))
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25)


def typed(value: Any) -> Any:
    """Values with their types, so that 1, 1.0 and True are told apart."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


@settings(max_examples=1500, deadline=None)
@given(documents)
def test_dump_equals_ruamels_dumper(doc: Any) -> None:
    assert dump(doc) == ruamel_dump(doc)


# Text that starts with or holds YAML indicators: what ruamel's emitter writes plain in some
# places ("+8w", ")tIt]sWB", "a:b", "x #y"... ) and single-quoted in others ("{x}", "- a", "a: b").
INDICATORS = "{}[],#&*!|>'\"%@`-?:. "
AVI_LABELS = '{"fleet.example.com/owner": "platform-team"}'
indicator_text = st.one_of(
    st.text(alphabet=INDICATORS + "az09+)=", min_size=1, max_size=10),
    st.builds(lambda head, tail: head + tail,
              st.sampled_from(["---", "...", "- ", "? ", ": ", "-", "?", ":", " ", "#", "'", "{",
                               "x: ", "x #", "x ", "+", ")"]),
              st.text(alphabet=INDICATORS + "abz09", max_size=6)),
    st.sampled_from([AVI_LABELS, "+8w", ")tIt]sWB", "it's {x}", "a''b: ", "--", "-.", ".."]))
indicator_documents = st.recursive(
    indicator_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(indicator_text, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(indicator_text, indicator_documents, min_size=1, max_size=4)
       | st.lists(indicator_documents, min_size=1, max_size=4))  # no top-level scalar
def test_dump_equals_ruamels_dumper_on_indicator_text(doc: Any) -> None:
    assert dump(doc) == ruamel_dump(doc)


def test_dump_single_quotes_json_text_like_ruamel() -> None:
    doc = {"AVI_LABELS": AVI_LABELS, "l": [AVI_LABELS], AVI_LABELS: "x"}
    expected = ("AVI_LABELS: '{\"fleet.example.com/owner\": \"platform-team\"}'\n"
                "l:\n- '{\"fleet.example.com/owner\": \"platform-team\"}'\n"
                "'{\"fleet.example.com/owner\": \"platform-team\"}': x\n")
    assert dump(doc) == ruamel_dump(doc) == expected


def ruamel_load(text: str) -> Any:
    """ruamel's safe loader, except that generated YAML may not hold aliases at all."""
    try:
        if any(type(e).__name__ == "AliasEvent" for e in RUAMEL.parse(text)):
            return ("error",)
        return ("ok", typed(RUAMEL.load(text)))
    except (YAMLError, ValueError):  # ValueError: a value its constructor cannot build (!!int 'x')
        return ("error",)  # which error is ruamel's: load_fast hands every error case to it


def fast_load(text: str) -> Any:
    try:
        return ("ok", typed(load_fast(text)))
    except YAMLError:
        return ("error",)  # which error is ruamel's: load_fast hands every error case to it


def _flow(doc: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = True
    import io
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


@settings(max_examples=1500, deadline=None)
@given(documents, st.sampled_from(["block", "flow"]))
def test_load_fast_equals_ruamels_loader(doc: Any, style: str) -> None:
    text = dump(doc) if style == "block" else _flow(doc)
    assert fast_load(text) == ruamel_load(text)


PIECES = ["a", "b", "1", "-1", "0755", "1.5", "true", "no", "~", "null", "''", '""', "'x'",
          "!!str 1", "!!int '3'", "&a x", "*a", "<<", "[]", "{}", "[1, b]", "{c: d}", "|\n  z\n",
          "2024-01-01", "=", "0x1f", "1_0", ".inf", "é", "a b", "? k"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "  ", "- ", "  - "]), st.sampled_from(PIECES),
                          st.sampled_from(["", ": ", ":"]), st.sampled_from(PIECES + [""])),
                min_size=1, max_size=6),
       st.sampled_from(["", "---\n", "%YAML 1.2\n---\n"]), st.sampled_from(["", "---\nx: 1\n"]))
def test_load_fast_equals_ruamels_loader_on_odd_text(lines: list[tuple[str, str, str, str]],
                                                     head: str, tail: str) -> None:
    text = head + "".join(f"{a}{b}{c}{d}\n" for a, b, c, d in lines) + tail
    assert fast_load(text) == ruamel_load(text)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                      # duplicate key: ruamel's error
    "a: &x [1]\nb: *x\n",                # alias: refused
    "a: !!binary aGk=\n",                # tags
    "<<: {a: 1}\nb: 2\n",                # merge key
    "a: 1\n---\nb: 2\n",                 # two documents
    "[1, 2]: x\n",                       # a list as a key
    "",                                  # nothing
    "a: 0o17\nb: 1_000\nc: 0755\nd: 1.5\ne: 2024-01-01\nf: .inf\n",
])
def test_load_fast_unusual_documents(text: str) -> None:
    assert fast_load(text) == ruamel_load(text)
