"""``fleetgen diff`` reports: text for a terminal, markdown for one pull-request comment, JSON.

The JSON schema (``schemaVersion`` 1) is documented in README.md and stays stable: fields may be
added, never renamed or removed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from generator.review.diff import Change, FieldChange
from generator.check.pools import capacity
from generator.review.result import Review
from generator.review.risks import RISK_CLASSES, Risk

MARK = {"added": "+", "removed": "-", "changed": "~"}
STYLE = {"added": "green", "removed": "red", "changed": "yellow"}
SECTION_OTHER = "(fleet-wide)"


def _value(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _field_line(f: FieldChange) -> str:
    if f.path == "lines":
        return str(f.new)
    if f.old is None:
        return f"{f.path}: + {_value(f.new)}"
    if f.new is None:
        return f"{f.path}: - {_value(f.old)}"
    return f"{f.path}: {_value(f.old)} → {_value(f.new)}"


def _change_lines(change: Change) -> list[str]:
    lines = [f"{MARK[change.kind]} {change.title}"
             + (f" ({change.file})" if change.title != change.file else "")]
    if change.addresses is not None:
        delta = change.addresses
        parts = ([f"+{delta.added}"] if delta.added else []) + \
                ([f"-{delta.removed}"] if delta.removed else [])
        lines.append(f"    addresses: {' '.join(parts)} (net {delta.net:+d})")
    lines += ["    " + line for f in change.fields for line in _field_line(f).splitlines()]
    return lines


@dataclass(frozen=True)
class Summary:
    clusters: int
    counts: Counter[str]
    risks: Counter[str]
    added_addresses: int
    removed_addresses: int


def summarize(review: Review) -> Summary:
    counts: Counter[str] = Counter(str(c.kind) for c in review.changes)
    added = sum(c.addresses.added.size for c in review.changes if c.addresses)
    removed = sum(c.addresses.removed.size for c in review.changes if c.addresses)
    clusters = len({c.cluster for c in review.changes if c.cluster})
    return Summary(clusters, counts, Counter(r.cls for r in review.risks), added, removed)


def _sections(review: Review) -> list[tuple[str, list[Change], list[Risk]]]:
    names = sorted({c.cluster or SECTION_OTHER for c in review.changes} |
                   {r.cluster or SECTION_OTHER for r in review.risks})
    return [(name, [c for c in review.changes if (c.cluster or SECTION_OTHER) == name],
             [r for r in review.risks if (r.cluster or SECTION_OTHER) == name]) for name in names]


def _risk_text(risks: Counter[str]) -> str:
    return ", ".join(f"{cls} {risks[cls]}" for cls in RISK_CLASSES if risks[cls]) or "none"


# --- text ------------------------------------------------------------------------------------

def as_text(review: Review, console: Console) -> None:
    for name, changes, risks in _sections(review):
        console.print(Text(name, style="bold"))
        for change in changes:
            for index, line in enumerate(_change_lines(change)):
                console.print(Text("  " + line, style=STYLE[change.kind] if index == 0 else ""))
        for risk in risks:
            console.print(Text.assemble("  ", (f"risk {risk.cls}", "bold magenta"),
                                        f"  {risk.where}  {risk.message}"))
    s = summarize(review)
    console.print(Text(f"{s.clusters} clusters touched; objects +{s.counts['added']} "
                       f"~{s.counts['changed']} -{s.counts['removed']}; addresses "
                       f"+{s.added_addresses} -{s.removed_addresses}; risks: "
                       f"{_risk_text(s.risks)} (compared with {review.compared})"))


# --- markdown --------------------------------------------------------------------------------

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _headroom(review: Review, touched: set[str]) -> list[str]:
    out = []
    for pool in review.fleet.pools:
        if pool.name not in touched or pool.addresses is None:
            continue
        cap = capacity(pool, pool.addresses)
        out.append(f"`{pool.name}` {cap.headroom} of {cap.allocatable}")
    return out


def _grouped(risks: list[Risk]) -> list[tuple[str, str, str]]:
    """One row per (class, place, risk): a defaults change that rolls 300 clusters is one row."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in risks:
        groups.setdefault((r.cls, r.where, r.what), []).append(r.subject)
    rows = []
    for (cls, where, what), subjects in groups.items():
        if len(subjects) == 1:
            rows.append((cls, where, f"{subjects[0]}: {what}" if subjects[0] else what))
        else:
            names = ", ".join(subjects[:3]) + (f" and {len(subjects) - 3} more"
                                               if len(subjects) > 3 else "")
            rows.append((cls, where, f"{len(subjects)} objects ({names}): {what}"))
    return rows


def as_markdown(review: Review, max_bytes: int) -> str:
    s = summarize(review)
    touched = {c.title.rsplit("/", 1)[-1] for c in review.changes if c.addresses is not None}
    head = [f"### fleetgen diff: {review.compared}", "",
            "| clusters touched | objects added | changed | removed | addresses ± | risks | "
            "pool headroom |", "|---|---|---|---|---|---|---|",
            f"| {s.clusters} | {s.counts['added']} | {s.counts['changed']} | "
            f"{s.counts['removed']} | +{s.added_addresses} / -{s.removed_addresses} | "
            f"{_md_escape(_risk_text(s.risks))} | "
            f"{_md_escape(', '.join(_headroom(review, touched)) or '-')} |", ""]
    footer_cut = "_Details were cut to fit --max-bytes: {n} of {total} sections are not shown._"
    risk_rows = [f"| `{cls}` | {_md_escape(where)} | {_md_escape(what)} |"
                 for cls, where, what in _grouped(review.risks)]
    body: list[str] = []
    if risk_rows:
        body += ["| risk | where | what |", "|---|---|---|"]
    sections = _sections(review)
    text = "\n".join(head)
    budget = max_bytes - len(footer_cut.encode()) - 40
    # Risks may take at most half the budget, so cluster details are still shown.
    for row in risk_rows:
        if len(("\n".join([text, *body, row])).encode()) > budget // 2:
            body.append(f"| … | | {len(risk_rows) - (len(body) - 2)} more risks not shown |")
            break
        body.append(row)
    text = "\n".join([text, *body, "", ""]) if body else text
    shown = 0
    for name, changes, risks in sections:
        lines = [line for c in changes for line in _change_lines(c)]
        lines += [f"! {r.cls}: {r.where} {r.message}" for r in risks]
        flags = ", ".join(sorted({r.cls for r in risks}))
        section = (f"<details><summary>{_md_escape(name)}: {len(changes)} changes"
                   f"{', risks: ' + flags if flags else ''}</summary>\n\n```diff\n"
                   + "\n".join(lines).replace("```", "ˋˋˋ") + "\n```\n</details>\n")
        if len((text + section).encode()) > budget:
            break
        text += section
        shown += 1
    if shown < len(sections):
        text += "\n" + footer_cut.format(n=len(sections) - shown, total=len(sections)) + "\n"
    encoded = text.encode()
    return encoded[:max_bytes].decode("utf-8", "ignore")


# --- json ------------------------------------------------------------------------------------

def as_json(review: Review) -> dict[str, Any]:
    s = summarize(review)
    return {
        "schemaVersion": 1,
        "compared": review.compared,
        "summary": {"clustersTouched": s.clusters, "added": s.counts["added"],
                    "changed": s.counts["changed"], "removed": s.counts["removed"],
                    "addresses": {"added": s.added_addresses, "removed": s.removed_addresses},
                    "risks": {cls: s.risks[cls] for cls in RISK_CLASSES if s.risks[cls]}},
        "changes": [{
            "kind": c.kind, "file": f"rendered/{c.file}", "title": c.title, "cluster": c.cluster,
            "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields],
            **({"addresses": {"added": [str(r) for r in c.addresses.added.ranges],
                              "removed": [str(r) for r in c.addresses.removed.ranges],
                              "net": c.addresses.net}} if c.addresses else {}),
        } for c in review.changes],
        "risks": [{"class": r.cls, "message": r.message, "location": r.where,
                   "cluster": r.cluster} for r in review.risks],
    }
