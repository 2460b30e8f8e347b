"""One import in progress: the inventory being built from a flat config, where each of its
values came from (``Job.origins``, ``Job.sources``), and the problems found so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.load.inventory import ClusterInventory, Layer, Origin, merge_layers
from generator.load.model import PLAN_MACHINE_COUNT
from generator.problems import Location, Problem
from generator.tkg.flat import Flat, empty
from generator.tkg.variables import Kind
from generator.yaml.load import Path_

_MISSING = object()


def get_at(data: Any, path: Path_, missing: Any = None) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return missing
    return data


def put_at(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


@dataclass
class Job:
    flat: Flat
    name: str  # CLUSTER_NAME, the file name
    target_rel: str  # the target file, relative to root (clusters/…/name.yaml)
    chain: list[Layer]
    data: dict[str, Any] = field(default_factory=dict)  # the inventory file, before minimising
    origins: dict[Path_, Origin] = field(default_factory=dict)
    sources: dict[Path_, str] = field(default_factory=dict)  # inventory path → flat variable
    problems: list[Problem] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # variables that made it into `data`

    # -- problems --

    def error(self, where: Location, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(where, code, message, hint))

    def report(self, key: str, code: str, reason: str, hint: str = "") -> None:
        self.problems.append(Problem(self.flat.key_at(key), code, f"{key} not imported: {reason}",
                                     hint, "warning"))

    # -- reading values --

    def value(self, key: str, kind: Kind) -> Any:
        """The variable normalised for the model, or None (with a problem) when it cannot be."""
        raw = self.flat.values[key]
        where = self.flat.value_at(key)
        if kind == "int":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().isdigit():
                return int(raw.strip())
            self.error(where, "wrong-type", f"{key} must be a whole number, not {raw!r}")
            return None
        if kind in ("bool", "provider"):
            flag = raw if isinstance(raw, bool) else {"true": True, "false": False}.get(
                str(raw).strip().lower())
            if flag is None:
                self.error(where, "wrong-type", f"{key} must be true or false, not {raw!r}")
                return None
            return ("nsx-alb" if flag else "kube-vip") if kind == "provider" else flag
        if isinstance(raw, (dict, list)) and kind != "list":
            self.error(where, "wrong-type", f"{key} must be a single value, not a "
                       f"{'mapping' if isinstance(raw, dict) else 'list'}")
            return None
        if kind == "list":
            items = raw if isinstance(raw, list) else self.text(key).split(",")
            return [str(item).strip() for item in items if str(item).strip()]
        text = self.text(key)
        if kind == "family":
            return ",".join(part.strip() for part in text.split(","))
        if kind == "plan":
            # devcc / prodcc are the class-based spellings of the same plans.
            plan = text.removesuffix("cc")
            if plan not in PLAN_MACHINE_COUNT:
                self.error(where, "invalid-value", f"CLUSTER_PLAN '{text}' is not a TKG plan",
                           "use dev, prod, devcc or prodcc")
                return None
            return plan
        return text

    def text(self, key: str) -> str:
        raw = self.flat.values[key]
        return raw.strip() if isinstance(raw, str) else self.flat.raw(key)

    def put(self, path: Path_, value: Any, key: str) -> None:
        """Set ``path`` in the inventory and remember that ``key`` wrote it."""
        put_at(self.data, path, value)
        self.note(path, value, key)

    def note(self, path: Path_, value: Any, key: str) -> None:
        """Remember that ``key`` wrote the value at ``path`` (for locations and messages)."""
        self.used.add(key)
        self.sources[path] = key
        self.origins[path] = self.flat.origin(key)
        for end in range(1, len(path)):  # a container points at the first variable inside it
            self.origins.setdefault(path[:end], Origin(self.flat.key_at(key), self.flat.key_at(key)))
        if isinstance(value, list):
            for index in range(len(value)):
                self.sources[(*path, index)] = key
                self.origins[(*path, index)] = self.flat.origin(key)

    def given(self, key: str) -> bool:
        return key in self.flat.values and not empty(self.flat.values[key])

    # -- the merged view --

    def merged(self, data: dict[str, Any] | None = None) -> ClusterInventory:
        mine = data if data is not None else self.data
        layers = [*self.chain, (mine, {p: o for p, o in self.origins.items() if has_at(mine, p)})]
        merged, origins = merge_layers(layers)
        origins[("name",)] = self.origins[("name",)]
        return ClusterInventory(self.flat.label, {"name": self.name, **merged}, origins)


def has_at(data: dict[str, Any], path: Path_) -> bool:
    return get_at(data, path, _MISSING) is not _MISSING


def chain_value(job: Job, path: Path_) -> Any:
    merged, _ = merge_layers(job.chain)
    return get_at(merged, path)
