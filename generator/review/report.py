"""``fleetgen diff`` reports: text for a terminal, markdown for one pull-request comment, JSON.

The JSON schema (``schemaVersion`` 3) is documented in README.md and stays stable: fields may be
added; renaming or removing one, or changing what it holds, bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from generator.review.diff import Change, FieldChange
from generator.check.pools import Capacity, capacity
from generator.load.model import POOL_KINDS
from generator.problems import plural
from generator.review.result import Review
from generator.review.risks import RISK_CLASSES, Risk

# 2: fields[].path names list items as [name=…] and old/new are as in the objects (1 keyed them
# "[name]" with name dropped); changes[].object/clusters and summary.pools were added.
# 3: risks[] holds one risk per subject, class and cause (2 had one per rule, so one patch that
# rolled two variables gave two); riskGroups[] (one per cause) and summary.riskGroups were added.
SCHEMA_VERSION = 3
MARK = {"added": "+", "removed": "-", "changed": "~"}
STYLE = {"added": "green", "removed": "red", "changed": "yellow"}
SECTION_OTHER = "(fleet-wide)"


def _value(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _field_line(f: FieldChange) -> str:
    path, old, new = f.shown
    if path == "lines":
        return str(new)
    if old is None:
        return f"{path}: + {_value(new)}"
    if new is None:
        return f"{path}: - {_value(old)}"
    return f"{path}: {_value(old)} → {_value(new)}"


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
class PoolTouched:
    """A pool the change touches, from the diff's object reference and the fleet's pools."""

    management_cluster: str
    kind: str
    namespace: str | None
    name: str
    clusters: tuple[str, ...]      # the mgmt/ns/name folders that draw from it
    capacity: Capacity | None      # None when the pool is gone from the new fleet

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @property
    def headroom(self) -> str:
        cap = self.capacity
        if cap is None:
            return ""
        share = f" ({round(100 * cap.headroom / cap.allocatable)} %)" if cap.allocatable else ""
        return f"{cap.headroom} of {cap.allocatable}{share}"


def pool_key(change: Change) -> tuple[str, str, str | None, str] | None:
    ref = change.ref
    if ref is None or ref.kind not in POOL_KINDS:
        return None
    return change.file.split("/", 1)[0], ref.kind, ref.namespace, ref.name


def touched_pools(review: Review) -> dict[tuple[str, str, str | None, str], PoolTouched]:
    """Per changed pool (management cluster, kind, namespace, name): its users and headroom."""
    fleet = {(p.management_cluster, p.kind, p.namespace, p.name): p for p in review.fleet.pools}
    out: dict[tuple[str, str, str | None, str], PoolTouched] = {}
    for change in review.changes:
        key = pool_key(change)
        if key is None or key in out:
            continue
        pool = fleet.get(key)
        users = tuple(sorted(u.folder for u in pool.users)) if pool else \
            ((change.cluster,) if change.cluster else ())
        cap = capacity(pool, pool.addresses) if pool and pool.addresses is not None else None
        out[key] = PoolTouched(*key, users, cap)
    return out


@dataclass(frozen=True)
class Summary:
    clusters: int
    counts: Counter[str]
    risks: Counter[str]       # risks per class (one per subject and cause)
    rows: Counter[str]        # causes per class: the rows of the risk table
    at_risk: Counter[str]     # clusters per class
    added_addresses: int
    removed_addresses: int
    pools: list[PoolTouched]


def summarize(review: Review) -> Summary:
    counts: Counter[str] = Counter(str(c.kind) for c in review.changes)
    added = sum(c.addresses.added.size for c in review.changes if c.addresses)
    removed = sum(c.addresses.removed.size for c in review.changes if c.addresses)
    pools = touched_pools(review)
    # A pool's change touches every cluster that draws from it, wherever the pool is written.
    clusters = {c.cluster for c in review.changes if c.cluster} | {
        folder for pool in pools.values() for folder in pool.clusters}
    at_risk = Counter(cls for cls, _ in {(r.cls, r.cluster) for r in review.risks if r.cluster})
    return Summary(len(clusters), counts, Counter(r.cls for r in review.risks),
                   Counter(row.cls for row in risk_rows(review.risks)), at_risk,
                   added, removed,
                   sorted(pools.values(), key=lambda p: (p.management_cluster, p.label)))


def _headroom(s: Summary, quote: str = "") -> list[str]:
    return [f"{quote}{p.label}{quote} {p.headroom}" for p in s.pools if p.capacity is not None]


def _sections(review: Review) -> list[tuple[str, list[Change], list[Risk]]]:
    names = sorted({c.cluster or SECTION_OTHER for c in review.changes} |
                   {r.cluster or SECTION_OTHER for r in review.risks})
    return [(name, [c for c in review.changes if (c.cluster or SECTION_OTHER) == name],
             [r for r in review.risks if (r.cluster or SECTION_OTHER) == name]) for name in names]


def _risk_text(s: Summary) -> str:
    """Per class, the causes (rows) and the clusters they touch: "rollout 1 cause (200
    clusters)", not the 200 risks behind that one row."""
    return ", ".join(
        f"{cls} {plural(s.rows[cls], 'cause')}"
        + (f" ({plural(s.at_risk[cls], 'cluster')})" if s.at_risk[cls] else "")
        for cls in RISK_CLASSES if s.rows[cls]) or "none"


# --- risks: one row per cause ----------------------------------------------------------------

@dataclass(frozen=True)
class RiskRow:
    """One cause: the risks of one class, in the same words, at the same place."""

    cls: str
    where: str
    what: str
    subjects: tuple[str, ...]
    clusters: tuple[str, ...]  # the clusters it touches, when every risk names one

    @property
    def names(self) -> tuple[str, ...]:
        return self.clusters or self.subjects

    @property
    def count(self) -> str:
        return plural(len(self.names), "cluster" if self.clusters else "object")

    def text(self, few: int = 3, limit: int = 0) -> str:
        """The row in words: the risk itself, or a count and the first ``few`` names."""
        what = self.what if not limit or len(self.what) <= limit else \
            self.what[:limit - 1].rstrip() + "…"
        if len(self.subjects) == 1:
            return f"{self.subjects[0]}: {what}" if self.subjects[0] else what
        names = self.names
        more = f" and {len(names) - few} more" if len(names) > few else ""
        return f"{self.count} ({', '.join(names[:few])}{more}): {what}"


def risk_rows(risks: list[Risk]) -> list[RiskRow]:
    """Risks of one class at the same place are one row, however many clusters share them: a
    defaults change that rolls 200 clusters is one row naming 200. Where one cause rolls
    different things on different clusters, the row gives each set of words once."""
    groups: dict[tuple[str, str], list[Risk]] = {}
    for r in risks:
        groups.setdefault((r.cls, r.where), []).append(r)
    rows = []
    for (cls, where), group in groups.items():
        what = "; ".join(dict.fromkeys(r.what for r in group))
        clusters = sorted({r.cluster for r in group if r.cluster})
        every = all(r.cluster for r in group) and len(clusters) == len(group)
        rows.append(RiskRow(cls, where, what, tuple(r.subject for r in group),
                            tuple(clusters) if every else ()))
    return rows


# --- text ------------------------------------------------------------------------------------

def as_text(review: Review, console: Console) -> None:
    for name, changes, _risks in _sections(review):
        if not changes:
            continue  # its risks are in the risks block below
        console.print(Text(name, style="bold"))
        for change in changes:
            for index, line in enumerate(_change_lines(change)):
                console.print(Text("  " + line, style=STYLE[change.kind] if index == 0 else ""))
    rows = risk_rows(review.risks)
    if rows:
        console.print(Text("risks", style="bold"))
    for row in rows:
        console.print(Text.assemble("  ", (f"risk {row.cls}", "bold magenta"),
                                    f"  {row.where}  {row.text()}"))
    for line in _live_lines(review):
        console.print(Text(line))
    s = summarize(review)
    headroom = "; pool headroom: " + ", ".join(_headroom(s)) if _headroom(s) else ""
    console.print(Text(f"{plural(s.clusters, 'cluster')} touched; objects +{s.counts['added']} "
                       f"~{s.counts['changed']} -{s.counts['removed']}; addresses "
                       f"+{s.added_addresses} -{s.removed_addresses}; risks: "
                       f"{_risk_text(s)}{headroom} (compared with {review.compared})"))


def _live_lines(review: Review, few: int = 5) -> list[str]:
    """diff --live: the live objects left alone, and admission's effects (never changes)."""
    lines = []
    if review.unmanaged:
        more = f" and {len(review.unmanaged) - few} more" if len(review.unmanaged) > few else ""
        lines.append(f"live objects fleetgen does not render (a sync leaves them alone): "
                     f"{', '.join(review.unmanaged[:few])}{more}")
    if review.effects:
        kinds = Counter(e.kind for e in review.effects)
        lines.append("admission effects the live objects show (not changes): "
                     + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    return lines


# --- markdown --------------------------------------------------------------------------------

def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_row(row: RiskRow, level: int) -> str:
    """Level 0 lists every cluster in a collapsible section; 1 and 2 shorten the row (the first
    few names, the words cut) so that rows are cut before any is dropped."""
    if level == 0:
        text = row.text() if len(row.subjects) == 1 else (
            f"{row.count}: {row.what} <details><summary>{'clusters' if row.clusters else 'objects'}"
            f"</summary>{', '.join(row.names)}</details>")
    else:
        text = row.text(few=2 if level == 1 else 1, limit=100 if level == 1 else 40)
    return f"| `{row.cls}` | {_md_escape(row.where)} | {_md_escape(text)} |"


def _size(lines: list[str]) -> int:
    return len("\n".join(lines).encode()) + 2


def _risk_table(rows: list[RiskRow], room: int) -> tuple[list[str], bool]:
    """The risk table in at most ``room`` bytes, and whether it is shown whole."""
    if not rows:
        return [], True
    header = ["| risk | where | what |", "|---|---|---|"]
    for level in range(3):
        lines = header + [_md_row(row, level) for row in rows]
        if _size(lines) <= room:
            return lines, level == 0
    lines = list(header)
    for index, row in enumerate(rows):
        more = f"| … | | {len(rows) - index} more risks not shown |"
        if _size([*lines, _md_row(row, 2), more]) > room and index < len(rows) - 1 or \
                _size([*lines, _md_row(row, 2)]) > room:
            return [*lines, more], False
        lines.append(_md_row(row, 2))
    return lines, False


def as_markdown(review: Review, max_bytes: int) -> str:
    """The summary, then the risk table, then a section per cluster: sections are cut first,
    then risk rows are shortened, then dropped; the summary is never cut (but for the hard cap)."""
    s = summarize(review)
    head = [f"### fleetgen diff: {review.compared}", "",
            "| clusters touched | objects added | changed | removed | addresses ± | risks | "
            "pool headroom |", "|---|---|---|---|---|---|---|",
            f"| {s.clusters} | {s.counts['added']} | {s.counts['changed']} | "
            f"{s.counts['removed']} | +{s.added_addresses} / -{s.removed_addresses} | "
            f"{_md_escape(_risk_text(s))} | "
            f"{_md_escape(', '.join(_headroom(s, '`')) or '-')} |", ""]
    footer_cut = "_Details were cut to fit --max-bytes: {n} of {total} sections are not shown._"
    sections = _sections(review)
    text = "\n".join(head)
    budget = max_bytes - len(footer_cut.encode()) - 40
    table, whole = _risk_table(risk_rows(review.risks), budget - len(text.encode()) - 1)
    text = "\n".join([text, *table, "", ""]) if table else text
    live = _live_lines(review)
    if live and whole:
        details = "\n".join(f"- {_md_escape(e.message)}" for e in review.effects)
        block = "\n".join(f"_{_md_escape(line)}_" for line in live) + "\n\n" + (
            f"<details><summary>admission effects</summary>\n\n{details}\n</details>\n\n"
            if details else "")
        if len((text + block).encode()) <= budget:
            text += block
    shown = 0
    for name, changes, risks in sections if whole else []:
        lines = [line for c in changes for line in _change_lines(c)]
        lines += [f"! {r.cls}: {r.where} {r.message}" for r in risks]
        flags = ", ".join(sorted({r.cls for r in risks}))
        section = (f"<details><summary>{_md_escape(name)}: {plural(len(changes), 'change')}"
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

def _json_pool(p: PoolTouched) -> dict[str, Any]:
    cap = p.capacity
    return {"managementCluster": p.management_cluster, "kind": p.kind, "namespace": p.namespace,
            "name": p.name, "allocatable": cap.allocatable if cap else None,
            "needed": cap.needed if cap else None, "headroom": cap.headroom if cap else None,
            "clusters": list(p.clusters)}


def _json_change(c: Change, pools: dict[tuple[str, str, str | None, str], PoolTouched]
                 ) -> dict[str, Any]:
    key = pool_key(c)
    return {
        "kind": c.kind, "file": f"rendered/{c.file}", "title": c.title, "cluster": c.cluster,
        **({"live": True} if c.live else {}),
        **({"object": {"kind": c.ref.kind, "namespace": c.ref.namespace, "name": c.ref.name}}
           if c.ref else {}),
        **({"clusters": list(pools[key].clusters)} if key in pools else {}),
        "fields": [dict(zip(("path", "old", "new"), f.shown)) for f in c.fields],
        **({"addresses": {"added": [str(r) for r in c.addresses.added.ranges],
                          "removed": [str(r) for r in c.addresses.removed.ranges],
                          "net": c.addresses.net}} if c.addresses else {}),
    }


def as_json(review: Review) -> dict[str, Any]:
    s = summarize(review)
    pools = touched_pools(review)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "compared": review.compared,
        "summary": {"clustersTouched": s.clusters, "added": s.counts["added"],
                    "changed": s.counts["changed"], "removed": s.counts["removed"],
                    "addresses": {"added": s.added_addresses, "removed": s.removed_addresses},
                    "risks": {cls: s.risks[cls] for cls in RISK_CLASSES if s.risks[cls]},
                    "riskGroups": {cls: s.rows[cls] for cls in RISK_CLASSES if s.rows[cls]},
                    "pools": [_json_pool(p) for p in s.pools]},
        "changes": [_json_change(c, pools) for c in review.changes],
        "risks": [{"class": r.cls, "message": r.message, "location": r.where,
                   "cluster": r.cluster} for r in review.risks],
        "riskGroups": [{"class": row.cls, "location": row.where, "what": row.what,
                        "subjects": list(row.subjects), "clusters": list(row.clusters)}
                       for row in risk_rows(review.risks)],
        "live": {"unmanaged": list(review.unmanaged),
                 "effects": [{"subject": e.subject, "cluster": e.cluster, "kind": e.kind,
                              "path": e.path} for e in review.effects]},
    }
