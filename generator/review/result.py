"""What a review found: the changes to rendered/, their risks, and what was compared."""

from __future__ import annotations

from dataclasses import dataclass

from generator.check.fleet import Fleet
from generator.problems import Problem
from generator.review.diff import Change
from generator.review.live import Effect
from generator.review.risks import Risk


@dataclass(frozen=True)
class Review:
    changes: list[Change]
    risks: list[Risk]
    fleet: Fleet
    compared: str  # what the new render was compared with, for the report
    # diff --live: live objects fleetgen does not render (left alone), what admission does that
    # the live objects show (never a change), and warnings about the exports
    unmanaged: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()
    warnings: tuple[Problem, ...] = ()
