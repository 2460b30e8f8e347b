"""Moving a node pool declaration between inventory files as text, so every other line (and
comment) of the files stays as written.

A pool two clusters share must be declared once, in a ``_defaults.yaml`` above both (a pool
declared in two cluster files is a ``pool-conflict``: generator/check/pools.py). ``add_pool``
adds ``ipPools.<name>`` to a ``_defaults.yaml`` text, ``remove_pool`` takes it out of a cluster
file. Each result is read back and must hold exactly the intended values; None when the text is
written in a way these edits do not handle (flow style), for the caller to report.
"""

from __future__ import annotations

import copy
from typing import Any

from generator.problems import FleetError
from generator.yaml.dump import dump
from generator.yaml.load import load_positioned


def _read(text: str) -> tuple[Any, Any] | None:
    try:
        return load_positioned(text, "edit")
    except FleetError:
        return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the block that starts at line index ``start`` (its key at ``indent``)."""
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.lstrip().startswith("#") and _indent(line) <= indent:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the block belong to what follows
    return end


def add_pool(text: str | None, name: str, entry: dict[str, Any]) -> str | None:
    """``text`` (a _defaults.yaml, or None for a new one) with ``ipPools.<name>: entry``."""
    try:
        return _add_pool(text, name, entry)
    except (KeyError, IndexError):
        return None


def _add_pool(text: str | None, name: str, entry: dict[str, Any]) -> str | None:
    text = text or ""
    read = _read(text) if text.strip() else ({}, None)
    if read is None:
        return None
    doc, positions = read
    doc = doc if isinstance(doc, dict) else {}
    want = copy.deepcopy(doc)
    pools = want.setdefault("ipPools", {})
    if not isinstance(pools, dict) or name in pools:
        return None
    pools[name] = entry
    block = dump({name: entry}).splitlines()
    lines = text.splitlines()
    if "ipPools" not in doc:
        out = [*lines, "ipPools:", *("  " + line for line in block)]
    elif positions is None:
        return None
    else:
        at = positions.keys[("ipPools",)]
        children = [positions.keys[key] for key in positions.keys
                    if len(key) == 2 and key[0] == "ipPools"]
        if not children or any(c.line == at.line for c in children):
            return None  # flow style
        indent = children[0].col - 1
        end = _block_end(lines, at.line - 1, at.col - 1)
        out = [*lines[:end], *(" " * indent + line for line in block), *lines[end:]]
    result = "\n".join(out) + "\n"
    check = _read(result)
    return result if check is not None and check[0] == want else None


def remove_pool(text: str, name: str) -> str | None:
    """``text`` (a cluster file) without ``ipPools.<name>`` (and without ``ipPools`` when that
    was its only pool)."""
    try:
        return _remove_pool(text, name)
    except (KeyError, IndexError):
        return None


def _remove_pool(text: str, name: str) -> str | None:
    read = _read(text)
    if read is None or not isinstance(read[0], dict):
        return None
    doc, positions = read
    pools = doc.get("ipPools")
    if not isinstance(pools, dict) or name not in pools:
        return None
    want = copy.deepcopy(doc)
    del want["ipPools"][name]
    if not want["ipPools"]:
        del want["ipPools"]
    lines = text.splitlines()
    key = positions.keys[("ipPools", name)] if len(pools) > 1 else positions.keys[("ipPools",)]
    top = positions.keys[("ipPools",)]
    if key.line == top.line and len(pools) > 1:
        return None  # flow style
    end = _block_end(lines, key.line - 1, key.col - 1)
    out = [*lines[:key.line - 1], *lines[end:]]
    result = "\n".join(out) + ("\n" if out else "")
    check = _read(result) if result.strip() else ({}, None)
    return result if check is not None and (check[0] or {}) == want else None
