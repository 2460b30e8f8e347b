"""Which objects a patch applies to: Kubernetes label selectors (``parse_selector``,
``Requirement``) and patch targets (``Target``, ``compile_regex``).

Target regexes are RE2, as kustomize's are (Go's regexp): matching takes time linear in the
name, whatever the pattern, and what RE2 refuses (lookaround, backreferences, huge repetitions)
is refused here too, with RE2's own message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no types

from generator.overlay.objects import id_fields, metadata


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector, as Kubernetes parses it: ``op`` is one of ``=``, ``!=``,
    ``in``, ``notin``, ``exists``, ``!``, ``>``, ``<``."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or not re.fullmatch(r"[+-]?[0-9]+", value):
            return False
        number, bound = int(value), int(self.values[0])
        return number > bound if self.op == ">" else number < bound


class Regex(Protocol):
    """A compiled RE2 pattern (only what a target uses of it)."""

    def fullmatch(self, text: str) -> object: ...


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print its own copy of every error on stderr


def compile_regex(text: str) -> Regex:
    """A target's regular expression, compiled by RE2 with Go's syntax and semantics (as
    kustomize compiles it); raise ValueError with RE2's message for what RE2 refuses.

    >>> bool(compile_regex("web-.*").fullmatch("web-1")), bool(compile_regex("w").fullmatch("ww"))
    (True, False)
    """
    try:
        compiled: Regex = re2.compile(text, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        raise ValueError(reason.decode("utf-8", "replace") if isinstance(reason, bytes)
                         else str(reason)) from None
    return compiled


@dataclass(frozen=True)
class Target:
    """Which objects a patch applies to. Group, version, kind, name and namespace are RE2 regular
    expressions (``compile_regex``) matching the whole value (kustomize anchors them); empty
    means any."""

    patterns: tuple[tuple[str, Regex], ...] = ()
    label_selector: tuple[Requirement, ...] = ()
    annotation_selector: tuple[Requirement, ...] = ()
    text: str = ""

    def matches(self, obj: dict[str, Any]) -> bool:
        fields = id_fields(obj)
        if not all(pattern.fullmatch(fields[field]) for field, pattern in self.patterns):
            return False
        meta = metadata(obj)
        return (all(r.matches(_string_map(meta.get("labels"))) for r in self.label_selector)
                and all(r.matches(_string_map(meta.get("annotations")))
                        for r in self.annotation_selector))


_SELECTOR_TOKENS = re.compile(r"\s*(!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+)")
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """Parse a Kubernetes label selector (the syntax kustomize's labelSelector and
    annotationSelector take); raise ValueError naming the problem.

    >>> [(r.key, r.op, r.values) for r in parse_selector("tier in (web, api),!legacy")]
    [('tier', 'in', ('web', 'api')), ('legacy', '!', ())]
    """
    tokens = _Tokens(_SELECTOR_TOKENS.findall(text))
    requirements: list[Requirement] = []
    while tokens.peek():
        requirements.append(_requirement(tokens))
        after = tokens.take()
        if after == "," and tokens.peek() in ("", ","):
            raise ValueError("a selector term is missing after ','")
        if after not in ("", ","):
            raise ValueError(f"found '{after}', expected ',' or the end")
    return tuple(requirements)


class _Tokens:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        self.at += 1
        return token


def _requirement(tokens: _Tokens) -> Requirement:
    token = tokens.take()
    if token == "!":
        return Requirement(_selector_key(tokens.take()), "!")
    key = _selector_key(token)
    op = tokens.peek()
    if op in ("", ","):
        return Requirement(key, "exists")
    tokens.take()
    if op in ("=", "==", "!="):
        value = "" if tokens.peek() in ("", ",") else tokens.take()
        return Requirement(key, "!=" if op == "!=" else "=", (_selector_value(key, value),))
    if op in ("in", "notin"):
        return Requirement(key, op, _selector_set(key, tokens))
    if op in (">", "<"):
        bound = tokens.take()
        if not re.fullmatch(r"[+-]?[0-9]+", bound):
            raise ValueError(f"'{key} {op}' needs a whole number, not '{bound}'")
        return Requirement(key, op, (bound,))
    raise ValueError(f"found '{op}' after '{key}', expected =, ==, !=, in or notin")


def _selector_set(key: str, tokens: _Tokens) -> tuple[str, ...]:
    if tokens.take() != "(":
        raise ValueError(f"expected '(' after '{key} in'")
    values: list[str] = []
    while tokens.peek() != ")":
        value = tokens.take()
        if value in ("", ",", "("):
            raise ValueError(f"expected a value in the set of '{key}'")
        values.append(_selector_value(key, value))
        if tokens.peek() == ",":
            tokens.take()
    tokens.take()
    return tuple(values)


def _selector_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if (not re.fullmatch(_LABEL_NAME, name) or len(name) > 63
            or "/" in key and (not re.fullmatch(_DNS_SUBDOMAIN, prefix) or len(prefix) > 253)):
        raise ValueError(f"invalid label key '{key}'")
    return key


def _selector_value(key: str, value: str) -> str:
    if value and (not re.fullmatch(_LABEL_NAME, value) or len(value) > 63):
        raise ValueError(f"invalid value '{value}' for '{key}'")
    return value


def _string_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
