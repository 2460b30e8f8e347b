"""Stage 1: read the ``clusters/`` tree and merge each cluster file with the defaults above it;
list the overlays under ``overlays/`` that clusters may name.

Rules (the inventory contract):

* every ``*.yaml`` under ``clusters/`` except ``_defaults.yaml`` is one cluster;
* a ``_defaults.yaml`` applies to every cluster in its folder and below, nearest folder wins;
* mappings merge key by key; lists and scalars replace whatever a farther file said;
* every merged value remembers the file, line and column it came from.

>>> merged = merge_layers([({"a": {"x": 1, "y": [1]}}, {}), ({"a": {"y": [2]}}, {})])
>>> merged[0]
{'a': {'x': 1, 'y': [2]}}
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from generator.cache.store import RenderCache
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE, OVERLAYS_DIR, Unsafe, read_input
from generator.problems import FleetError, Location, Problem, refused
from generator.secrets import is_secret_key, is_secret_value
from generator.yaml.load import Path_, Positions, load_inventory_data, load_positioned



@dataclass(frozen=True)
class Origin:
    """Where a merged key and its value were written."""

    key: Location
    value: Location


@dataclass(frozen=True)
class ClusterInventory:
    """One cluster's merged inventory, before validation.

    ``origin_source`` is the origins themselves or a function that computes them: positions come
    from ruamel's round-trip loader, four times slower than the C loader that reads the values,
    so they are computed only for a cluster whose problems, risks or fields are reported.
    ``data_source`` and ``layer_source`` are likewise the values or a function that merges them
    again on each use: a cluster the check stage knows from the cache (by ``chain_key``) is never
    parsed or merged, and no merged copy outlives its validation (memory stays flat, issue 20).
    """

    file: str  # path of the cluster file, relative to the fleet root
    data_source: dict[str, Any] | Callable[[], dict[str, Any]]
    origin_source: dict[Path_, Origin] | Callable[[], dict[Path_, Origin]]
    layer_source: (tuple[tuple[str, dict[str, Any]], ...]
                   | Callable[[], tuple[tuple[str, dict[str, Any]], ...]]) = ()
    # The digest of fleetgen's code and of every file of the chain (path and text), farthest
    # first: equal keys mean equal merged values, positions and checks. "" when not known.
    chain_key: str = ""

    @property
    def data(self) -> dict[str, Any]:
        source = self.data_source
        return source() if callable(source) else source

    @property
    def layers(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """(file, values) of each file of the chain, farthest first."""
        source = self.layer_source
        return source() if callable(source) else source

    def source_of(self, path: Path_) -> str:
        """The file whose value for ``path`` won the merge (cheap: no positions needed)."""
        for file, values in reversed(self.layers):
            node: Any = values
            for part in path:
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                    node = node[part]
                else:
                    break
            else:
                return str(file)
        return self.locate(path).path

    @cached_property
    def origins(self) -> dict[Path_, Origin]:
        source = self.origin_source
        return source() if callable(source) else source

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    def locate(self, path: Path_, *, key: bool = False) -> Location:
        """The best-known location for ``path``: the nearest enclosing node that was written down."""
        return locate(self.origins, self.file, path, key=key)


def locate(origins: dict[Path_, Origin], file: str, path: Path_, *, key: bool = False) -> Location:
    """Where ``path`` (or, with ``key``, its key) was written: the nearest enclosing node found
    in ``origins``, else the top of ``file``."""
    for end in range(len(path), 0, -1):
        origin = origins.get(path[:end])
        if origin is not None:
            return origin.key if key and end == len(path) else origin.value
    return Location(file, 1, 1)


@dataclass(frozen=True)
class Inventory:
    root: Path
    clusters: tuple[ClusterInventory, ...]
    overlays: tuple[str, ...]  # the overlay folders under overlays/, by name (see overlay_names)


Layer = tuple[dict[str, Any], dict[Path_, Origin]]


def merge_layers(layers: Iterable[Layer]) -> Layer:
    """Merge layers farthest first; see the module docstring for the rules."""
    data: dict[str, Any] = {}
    origins: dict[Path_, Origin] = {}
    for layer_data, layer_origins in layers:
        _merge_into(data, origins, layer_data, layer_origins, ())
    return data, origins


def _merge_into(dst: dict[str, Any], dst_origins: dict[Path_, Origin], src: dict[str, Any],
                src_origins: dict[Path_, Origin], path: Path_) -> None:
    for key, value in src.items():
        child = (*path, key)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            if child in src_origins:
                dst_origins[child] = src_origins[child]
            _merge_into(dst[key], dst_origins, value, src_origins, child)
            continue
        _drop_subtree(dst_origins, child)
        dst[key] = _deep_copy(value)
        dst_origins.update({p: o for p, o in src_origins.items() if p[:len(child)] == child})


def _drop_subtree(origins: dict[Path_, Origin], path: Path_) -> None:
    for stale in [p for p in origins if p[:len(path)] == path]:
        del origins[stale]


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _origins(positions: Positions) -> dict[Path_, Origin]:
    return {path: Origin(positions.keys[path], loc) for path, loc in positions.values.items()}


def _lazy_origins(loader: InventoryLoader, chain: list[Path]) -> Callable[[], dict[Path_, Origin]]:
    def origins() -> dict[Path_, Origin]:
        layers = [layer for p in chain if (layer := loader.layer(p)) is not None]
        return merge_layers(layers)[1]
    return origins


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any((is_secret_key(str(k)) and not isinstance(v, (dict, list))) or _has_secret(v)
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return is_secret_value(value)


def _secrets(value: Any, path: Path_, positions: Positions) -> Iterator[Problem]:
    """Secrets never enter the repository; the value itself is never printed."""
    hint = ("keep it in a Secret on the management cluster and reference it (identityRef); "
            "remove it from git history too")
    if isinstance(value, dict):
        for key, child in value.items():
            if is_secret_key(str(key)) and not isinstance(child, (dict, list)):
                yield Problem(positions.keys[(*path, key)], "secret-in-inventory",
                              f"'{key}' looks like a secret; inventories must not hold secrets",
                              hint)
            else:
                yield from _secrets(child, (*path, key), positions)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _secrets(child, (*path, index), positions)
    elif is_secret_value(value):
        yield Problem(positions.values[path], "secret-in-inventory",
                      "this value is an encoded password or a private key", hint)


def _listdir_sorted(folder: Path) -> list[os.DirEntry[str]]:
    # Sorted by name so the result never depends on the file system's listing order.
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda e: e.name)


def _is_utf8(name: str) -> bool:
    """False for a name the file system gave as bytes that are not UTF-8 (surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def discover(root: Path) -> tuple[list[Path], list[Problem]]:
    """Every cluster file under ``root/clusters``, in sorted order."""
    base = root / CLUSTERS_DIR
    if not base.is_dir():
        return [], [Problem(Location(CLUSTERS_DIR), "no-clusters",
                            f"no '{CLUSTERS_DIR}/' folder under {root}",
                            "run fleetgen in a fleet repository, or pass --root DIR")]
    if base.is_symlink():
        return [], [Problem(Location(CLUSTERS_DIR), "symlink", f"'{CLUSTERS_DIR}/' is a symlink",
                            "fleetgen reads only real folders inside the repository")]
    found: list[Path] = []
    problems: list[Problem] = []
    pending = [base]
    while pending:
        folder = pending.pop()
        subfolders = []
        for entry in _listdir_sorted(folder):
            if entry.name.startswith("."):
                continue
            if not _is_utf8(entry.name) and (entry.name.endswith(".yaml")
                                             or entry.is_dir(follow_symlinks=False)):
                # Printed escaped: the name cannot be written as text as it is.
                shown = os.fsencode(Path(entry.path).relative_to(root).as_posix())
                kind = "folder" if entry.is_dir(follow_symlinks=False) else "file"
                problems.append(Problem(Location(shown.decode("utf-8", "backslashreplace")),
                                        "invalid-name", f"the {kind} name is not UTF-8",
                                        f"rename the {kind}: cluster files are named after "
                                        "their cluster"))
                continue
            if entry.is_symlink():
                # Never followed: a link could leave the repository or loop back on itself.
                problems.append(Problem(Location(Path(entry.path).relative_to(root).as_posix()),
                                        "symlink", "symlinks are not followed in clusters/",
                                        "copy the file, or share values through _defaults.yaml"))
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(Path(entry.path))
            elif entry.name.endswith(".yaml") and entry.name != DEFAULTS_FILE \
                    and not entry.name.endswith(".overlay.yaml"):  # a cluster's own patches
                found.append(Path(entry.path))
        pending.extend(reversed(subfolders))
    return sorted(found, key=lambda p: p.relative_to(base).parts), problems


class InventoryLoader:
    """Loads each file once, however many clusters inherit it; the importer and the scaffold
    use it too, so "what a cluster inherits" is defined in one place."""

    def __init__(self, root: Path, cache: RenderCache | None = None) -> None:
        self.root = root
        self.cache = cache
        self.problems: list[Problem] = []
        self._texts: dict[Path, str] = {}
        self._unreadable: set[Path] = set()
        self._digests: dict[Path, str] = {}
        self._rel: dict[Path, str] = {}
        self._chains: dict[Path, list[Path]] = {}
        self._data: dict[Path, dict[str, Any] | None] = {}
        self._origins: dict[Path, dict[Path_, Origin]] = {}

    def rel(self, path: Path) -> str:
        if path not in self._rel:
            self._rel[path] = path.relative_to(self.root).as_posix()
        return self._rel[path]

    def layer(self, path: Path) -> Layer | None:
        """A file's values and their origins (positions computed now)."""
        data = self.data(path)
        return None if data is None else (data, self.origins(path))

    def data(self, path: Path) -> dict[str, Any] | None:
        """A file's values (C loader, cached), or None after recording its problems."""
        if path not in self._data:
            self._data[path] = self._read(path)
        return self._data[path]

    def origins(self, path: Path) -> dict[Path_, Origin]:
        """Where each key and value of a file stands (round-trip loader, cached)."""
        if path not in self._origins:
            _doc, positions = load_positioned(self._texts[path], self.rel(path))
            self._origins[path] = _origins(positions)
        return self._origins[path]

    def text(self, path: Path) -> str | None:
        """A file's text (read once), or None after recording why it cannot be read."""
        if path in self._texts:
            return self._texts[path]
        if path in self._unreadable:
            return None
        rel = self.rel(path)
        try:  # no link on the way, a regular file, of a sane size (paths.read_input)
            raw = read_input(self.root, rel)
        except Unsafe as exc:
            self._unreadable.add(path)
            self.problems.append(refused(exc))
            return None
        if raw is None:
            self._unreadable.add(path)
            self.problems.append(Problem(Location(rel), "unreadable", "the file went away",
                                         "run fleetgen again"))
            return None
        try:
            text = self._texts[path] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._unreadable.add(path)
            line = raw.count(b"\n", 0, exc.start) + 1
            col = exc.start - raw.rfind(b"\n", 0, exc.start)
            self.problems.append(Problem(Location(rel, line, col), "encoding",
                                         f"not UTF-8 text ({exc.reason})"))
            return None
        return text

    def chain_key(self, chain: list[Path]) -> str | None:
        """The digest of fleetgen's code and of each file of ``chain`` (its path and text), or
        None when one cannot be read (its problem is recorded)."""
        parts = []
        for path in chain:
            if path not in self._digests:
                text = self.text(path)
                if text is None:
                    return None
                self._digests[path] = hashlib.sha256(text.encode("utf-8")).hexdigest()
            parts += [self.rel(path), self._digests[path]]
        return RenderCache.key("chain", *parts)

    def _read(self, path: Path) -> dict[str, Any] | None:
        rel = self.rel(path)
        text = self.text(path)
        if text is None:
            return None
        try:
            doc = (self.cache.values(text, lambda: load_inventory_data(text, rel))
                   if self.cache else load_inventory_data(text, rel))
        except FleetError as exc:
            self.problems.extend(exc.problems)
            return None
        if doc is None:
            return {}
        if not isinstance(doc, dict):
            self.problems.append(Problem(Location(rel, 1, 1), "not-a-mapping",
                                         "an inventory file must be a mapping of keys to values",
                                         "start the file with keys such as 'managementCluster:'"))
            return None
        if _has_secret(doc):
            _doc, positions = load_positioned(text, rel)
            self.problems.extend(_secrets(doc, (), positions))
            return None
        return doc

    def defaults_chain(self, cluster_file: Path) -> list[Path]:
        """The _defaults.yaml files above a cluster file, farthest first (cached per folder)."""
        return self._chain(cluster_file.parent)

    def _chain(self, folder: Path) -> list[Path]:
        # A loop, not recursion: a cluster file may sit 1,100 folders deep.
        base = self.root / CLUSTERS_DIR
        missing = []
        at = folder
        while at not in self._chains:
            missing.append(at)
            if at == base or at == at.parent:
                break
            at = at.parent
        for at in reversed(missing):
            above = [] if at == base or at == at.parent else self._chains[at.parent]
            own = at / DEFAULTS_FILE
            # A linked defaults file is never read (discover() reports it): it could point
            # anywhere, outside the repository included.
            real = own.is_file() and not own.is_symlink()
            self._chains[at] = [*above, own] if real else above
        return self._chains[folder]


def load_inventory(root: Path, cache: RenderCache | None = None) -> Inventory:
    """Read and merge every cluster under ``root``; raise FleetError with all problems found."""
    inventory, problems, _unread = read_inventory(root, cache)
    if problems:
        raise FleetError(problems)
    return inventory


def read_inventory(root: Path, cache: RenderCache | None = None,
                   known: Callable[[list[str]], set[str]] | None = None
                   ) -> tuple[Inventory, list[Problem], int]:
    """Every cluster under ``root`` that could be read and merged, the problems found, and how
    many cluster files could not be (a file of theirs, or a _defaults.yaml above, is broken).

    ``known`` gives, of the chain keys it is asked about, those whose result the check stage
    already holds: such a chain was read, merged and checked in the same texts before, so it is
    not parsed now; its values are merged only if a later stage asks for them."""
    root = root.resolve()
    files, problems = discover(root)
    loader = InventoryLoader(root, cache)
    clusters = []
    unread = 0
    chains = [[*loader.defaults_chain(file), file] for file in files]
    keys = [loader.chain_key(chain) for chain in chains]
    held = known([k for k in keys if k is not None]) if known is not None else set()
    for file, chain, key in zip(files, chains, keys):
        if key is None:
            unread += 1
            continue
        if key not in held:
            if any(loader.data(p) is None for p in chain):
                unread += 1
                continue
        clusters.append(ClusterInventory(loader.rel(file), partial(_merged, loader, chain),
                                         _lazy_origins(loader, chain),
                                         partial(_layers, loader, chain), key))
    problems.extend(loader.problems)
    return Inventory(root, tuple(clusters), overlay_names(root)), problems, unread


def _merged(loader: InventoryLoader, chain: list[Path]) -> dict[str, Any]:
    """A chain's values merged (a fresh copy on each call: nothing shares mutable values)."""
    values = [loader.data(p) for p in chain]
    return merge_layers((v, {}) for v in values if v is not None)[0]


def _layers(loader: InventoryLoader, chain: list[Path]) -> tuple[tuple[str, dict[str, Any]], ...]:
    return tuple((loader.rel(p), v) for p in chain if (v := loader.data(p)) is not None)


def overlay_names(root: Path) -> tuple[str, ...]:
    """The overlays a cluster can name: every folder directly under ``root/overlays`` (a link to
    a folder included), sorted; none when there is no such folder."""
    return tuple(sorted(p.name for p in (root / OVERLAYS_DIR).glob("*") if p.is_dir()))
