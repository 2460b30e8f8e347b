"""Checked clusters kept in the render cache, by inventory chain (issue 20: incremental load).

A cluster's validation and its own rules (``CLUSTER_RULES``) read nothing but the files of its
chain: the ``_defaults.yaml`` files above it and its own file. Their result, the validated spec
and every problem with its location, is therefore a function of those files' paths and texts and
of fleetgen's code, which is what ``ClusterInventory.chain_key`` digests. An unchanged cluster is
then neither parsed, merged, validated, checked nor located again: its entry is read back.

Exactness: an entry holds the spec as JSON (only the fields that were set: some behaviour depends
on whether a value was written, such as ``ipFamily``), and it is stored only when validating that
JSON gives back an equal spec with the same fields set, so a hit builds exactly the spec a fresh
validation would. Problems are stored
field by field. A bad or unreadable entry is a miss. Entries are JSON, never pickles: a cache
restored in CI must not be able to run code.
"""

from __future__ import annotations

import json
from typing import Any

from generator.cache.store import RenderCache, entry_digest
from generator.load.model import ClusterSpec
from generator.problems import Location, Problem


def problem_from(entry: Any) -> Problem:
    path, line, col, code, severity, message, hint, clusters = entry
    return Problem(Location(str(path), int(line), int(col)), str(code), str(message), str(hint),
                   "warning" if severity == "warning" else "error",
                   tuple(str(c) for c in clusters))


def problem_entry(problem: Problem) -> list[Any]:
    loc = problem.location
    return [loc.path, loc.line, loc.col, problem.code, problem.severity, problem.message,
            problem.hint, list(problem.clusters)]


def _dump(spec: ClusterSpec) -> dict[str, Any]:
    """The fields of ``spec`` that were set, as JSON values (nested models alike)."""
    dumped: dict[str, Any] = json.loads(json.dumps(
        spec.model_dump(mode="json", by_alias=True, exclude_unset=True)))
    return dumped


class CheckedClusters:
    """The checked clusters of one run: looked up by chain key, stored at the store's flush."""

    def __init__(self, store: RenderCache | None) -> None:
        self.store = store
        self._found: dict[str, tuple[dict[str, Any] | None, list[Problem]]] = {}

    @staticmethod
    def _key(chain_key: str) -> str:
        return RenderCache.key("checked", chain_key)

    def known(self, chain_keys: list[str]) -> set[str]:
        """The chain keys of ``chain_keys`` with a usable entry (read now, in one go, and kept
        for ``get``)."""
        if self.store is None:
            return set()
        keys = {self._key(k): k for k in chain_keys if k}
        for key, text in self.store.read_many(list(keys)).items():
            try:
                entry = json.loads(text)
                spec = entry["spec"]
                problems = [problem_from(p) for p in entry["problems"]]
                if entry["digest"] != entry_digest([spec, entry["problems"]]):
                    continue  # a damaged entry: a miss, never a changed cluster
            except (ValueError, KeyError, TypeError):
                continue
            # A cluster that does not validate has an error to show for it.
            if isinstance(spec, dict) or (spec is None and any(p.severity == "error"
                                                               for p in problems)):
                self._found[keys[key]] = (spec, problems)
        return set(self._found)

    def get(self, chain_key: str) -> tuple[ClusterSpec | None, list[Problem]] | None:
        """The spec (None for a cluster that does not validate) and problems of ``chain_key``;
        None when there is no usable entry."""
        if chain_key not in self._found:
            return None
        dumped, problems = self._found.pop(chain_key)
        if dumped is None:
            return None, problems
        try:
            return ClusterSpec.model_validate(dumped), problems
        except ValueError:  # an entry a fleetgen with the same code digest would never write
            return None

    def put(self, chain_key: str, spec: ClusterSpec | None, problems: list[Problem]) -> None:
        """Keep a fresh result, when it can be read back exactly."""
        if self.store is None or not chain_key:
            return
        dumped = None
        if spec is not None:
            dumped = _dump(spec)
            try:
                back = ClusterSpec.model_validate(dumped)
            except ValueError:
                return
            if back != spec or _dump(back) != dumped:
                return
        entries = [problem_entry(p) for p in problems]
        self.store.write(self._key(chain_key), json.dumps(
            {"spec": dumped, "problems": entries, "digest": entry_digest([dumped, entries])},
            sort_keys=True))
