"""Problems are values: a location, a stable code, a message and an optional hint.

Every stage collects problems instead of raising on the first one, so a run reports all of them
at once. ``FleetError`` carries a batch of problems out of a stage; the CLI turns it into exit 2.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterable, Literal

from generator.paths import Unsafe
from generator.secrets import MASK, is_secret_value, scrub

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file; ``line`` and ``col`` are 1-based, 0 when unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col or 1}"
        return self.path


# Characters that would let text from an inventory or a template forge output lines or drive the
# terminal: C0/C1 controls (line breaks included), DEL and the bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plural(count: int, word: str, many: str = "") -> str:
    """``1 cluster``, ``2 clusters`` (``many``: an irregular plural)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``), so one problem is one line.

    >>> printable("a\\nb\\x1b[31m")
    'a\\\\nb\\\\x1b[31m'
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


SHOWN = 5  # clusters a problem names before "and N more"


@dataclass(frozen=True)
class Problem:
    """One finding. Messages and hints never carry control characters (they could forge lines
    or drive a terminal) nor secret-looking values: both are neutralised here, for every stage."""

    location: Location
    code: str
    message: str
    hint: str = ""
    severity: Severity = "error"
    # The clusters a problem in a shared file (a _defaults.yaml) affects, as their files below
    # clusters/ without ".yaml" (``aws/dev/shop``); empty for a problem in a cluster's own file.
    clusters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("message", "hint"):
            value = getattr(self, name)
            clean = printable(scrub(value))
            if clean != value:
                object.__setattr__(self, name, clean)
        clusters = tuple(printable(c) for c in self.clusters)
        if clusters != self.clusters:
            object.__setattr__(self, "clusters", clusters)
        path = printable(self.location.path)
        if path != self.location.path:
            object.__setattr__(self, "location", Location(path, self.location.line,
                                                          self.location.col))

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.col, self.code, self.message)

    def text(self) -> str:
        # A problem with the command line itself is at no place: no ".:" before it.
        where = "" if self.location.path in ("", ".") and not self.location.line else \
            f"{self.location}: "
        first = f"{where}{self.severity}[{self.code}]: {self.message}{self.affects()}"
        return f"{first}\n  hint: {self.hint}" if self.hint else first

    def affects(self) -> str:
        """`` (in clusters a, b)``: the clusters named, the first few of many; "" for none."""
        if not self.clusters:
            return ""
        shown = ", ".join(self.clusters[:SHOWN])
        more = len(self.clusters) - SHOWN
        if more > 0:
            return f" (in {len(self.clusters)} clusters: {shown} and {more} more)"
        return f" (in cluster{'s' if len(self.clusters) > 1 else ''} {shown})"

    def as_dict(self) -> dict[str, object]:
        loc = asdict(self.location)
        return {**loc, "code": self.code, "severity": self.severity,
                "message": self.message, "hint": self.hint, "clusters": list(self.clusters)}

    def github(self) -> str:
        loc = self.location
        level = "error" if self.severity == "error" else "warning"
        message = f"{self.message}{self.affects()}"
        message = f"{message} (hint: {self.hint})" if self.hint else message
        return (f"::{level} file={_gh_property(loc.path)},line={loc.line or 1},"
                f"col={loc.col or 1},title={_gh_property(self.code)}::{_gh_escape(message)}")


def _gh_escape(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit escapes data."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    """A workflow command's property (``file=``, ``title=``), escaped as GitHub's toolkit
    escapes properties: a ``,`` or ``:`` in a file name could otherwise start another property
    or end the command, and move the annotation to another file."""
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def path_text(path: Iterable[Any]) -> str:
    """A path into a document as people write it: ``network.pods[0]``; a part that is already
    a subscript (``[name]``, a list item matched by name) is kept as it is."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            text += part
        else:
            text += f".{part}" if text else str(part)
    return text


def show_value(value: Any) -> str:
    """A value as a message shows it: its kind for containers, never a secret's text."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if is_secret_value(value):
        return MASK
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else repr(value)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def refused(exc: Unsafe) -> Problem:
    """The problem of an input the one reader (``paths.read_input``) would not read."""
    return Problem(Location(exc.path), exc.code, exc.message, exc.hint)


class FleetError(Exception):
    """Raised by a stage with every problem it found; at least one of them is an error."""

    def __init__(self, problems: Iterable[Problem], *, partial: bool = False,
                 unchecked: int = 0) -> None:
        # One problem in a _defaults.yaml is found once per cluster that inherits it: print it
        # once, naming those clusters.
        self.problems = sorted(merge_clusters(problems), key=Problem.sort_key)
        self.partial = partial  # some files of rendered/ were already replaced (each whole)
        self.unchecked = unchecked  # clusters the fleet checks skipped: they have errors here
        super().__init__("\n".join(p.text() for p in self.problems))

    def __reduce__(self) -> tuple[type[FleetError], tuple[list[Problem]]]:
        # Crosses process boundaries intact (parallel rendering).
        return (FleetError, (self.problems,))

    def note(self) -> str:
        """The line after the problems that says what they kept from being checked."""
        if not self.unchecked:
            return ""
        return (f"{plural(self.unchecked, 'cluster')} could not be checked (they have errors "
                "above)" if self.unchecked > 1 else
                "1 cluster could not be checked (it has errors above)")


def merge_clusters(problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` with duplicates dropped, and the copies of one problem found for several
    clusters made one problem naming all of them (sorted), in the order first found."""
    merged: dict[Problem, set[str]] = {}
    for p in problems:
        merged.setdefault(replace(p, clusters=()), set()).update(p.clusters)
    return [replace(p, clusters=tuple(sorted(c))) if c else p for p, c in merged.items()]


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def raise_if_errors(problems: list[Problem]) -> None:
    if has_errors(problems):
        raise FleetError(problems)


def format_problems(problems: Iterable[Problem], fmt: str,
                    first: frozenset[str] = frozenset()) -> str:
    """``problems`` in ``fmt``, by place, those in the files of ``first`` (the files a person
    changed) before the rest."""
    ordered = sorted(merge_clusters(problems),
                     key=lambda p: (p.location.path not in first, *p.sort_key()))
    if fmt == "json":
        return json.dumps([p.as_dict() for p in ordered], indent=2)
    if fmt == "github":
        return "\n".join(p.github() for p in ordered)
    return "\n".join(p.text() for p in ordered)
