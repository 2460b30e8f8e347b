"""The fleet as it would be after an import, checked before anything is written.

``check_pending`` reads the fleet under ``root`` with the files an import would write or change
(``pending``: path → text) in place of the ones on disk, and runs every check ``fleetgen
validate`` runs over the whole fleet (the settings, the model, ``check_fleet``: cluster rules,
fleet rules, overlays, management-cluster flags, node pools; and the vSphere credentials), the
way generator/pipeline.py ``load_fleet`` wires them. A new cluster's problems point at the flat
config line that produced the value (``NewCluster.origins``), not at a file that does not exist
yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from generator.check.run import check_fleet
from generator.load.inventory import (
    ClusterInventory,
    Inventory,
    InventoryLoader,
    Origin,
    discover,
    merge_layers,
    overlay_names,
)
from generator.load.settings import load_settings
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.problems import FleetError, Problem
from generator.render.credentials import with_credentials
from generator.tkg.job import has_at
from generator.yaml.load import Path_, load_inventory_data


@dataclass(frozen=True)
class NewCluster:
    """A cluster file an import writes: its text, and where its own values came from."""

    path: Path  # absolute
    text: str
    origins: dict[Path_, Origin]


class PendingLoader(InventoryLoader):
    """An ``InventoryLoader`` that reads ``pending`` texts instead of the files on disk."""

    def __init__(self, root: Path, pending: dict[Path, str]) -> None:
        super().__init__(root)
        self.pending = pending

    def _read(self, path: Path) -> dict[str, Any] | None:
        if path not in self.pending:
            return super()._read(path)
        text = self._texts[path] = self.pending[path]
        try:
            doc = load_inventory_data(text, self.rel(path))
        except FleetError as exc:
            self.problems.extend(exc.problems)
            return None
        return doc if isinstance(doc, dict) else {}

    def defaults_chain(self, cluster_file: Path) -> list[Path]:
        base = self.root / CLUSTERS_DIR
        folders = [cluster_file.parent, *cluster_file.parent.parents]
        chain = []
        for folder in reversed(folders[:folders.index(base) + 1]):
            own = folder / DEFAULTS_FILE
            if own in self.pending or (own.is_file() and not own.is_symlink()):
                chain.append(own)
        return chain


def check_pending(root: Path, pending: dict[Path, str], new: list[NewCluster]
                  ) -> list[Problem]:
    """Every problem of the fleet with ``pending`` (and the ``new`` cluster files) in place."""
    texts = {**pending, **{c.path: c.text for c in new}}
    own = {c.path: c for c in new}
    files, problems = discover(root)
    files = sorted({*files, *(p for p in texts if p.name != DEFAULTS_FILE)},
                   key=lambda p: p.relative_to(root / CLUSTERS_DIR).parts)
    loader = PendingLoader(root, texts)
    clusters = []
    for file in files:
        chain = [*loader.defaults_chain(file), file]
        values = [loader.data(p) for p in chain]
        if any(v is None for v in values):
            continue
        data, _ = merge_layers((v, {}) for v in values if v is not None)
        layers = tuple((loader.rel(p), v) for p, v in zip(chain, values) if v is not None)
        origins = partial(_origins, loader, chain, own.get(file))  # positions only if needed
        clusters.append(ClusterInventory(loader.rel(file), data, origins, layers))
    problems += loader.problems
    try:
        settings = load_settings(root)
    except FleetError as exc:
        return [*problems, *exc.problems]
    try:  # the clusters that could be read are checked all the same: every problem in one run
        fleet = check_fleet(Inventory(root, tuple(clusters), overlay_names(root)))
        with_credentials(fleet, settings.credentials.vsphere)
    except FleetError as exc:
        return [*problems, *exc.problems]
    return [*problems, *fleet.warnings]


def _origins(loader: PendingLoader, chain: list[Path], new: NewCluster | None
             ) -> dict[Path_, Origin]:
    """Where each merged value was written: the chain's files, and for a new cluster the flat
    config lines its values came from (the top of the flat config for values it implies)."""
    layers = [layer for p in chain[:-1] if (layer := loader.layer(p)) is not None]
    if new is None:
        own = loader.layer(chain[-1])
        return merge_layers([*layers, *([own] if own is not None else [])])[1]
    data = loader.data(chain[-1]) or {}
    origins = merge_layers(layers)[1]
    for path in [p for p in origins if has_at(data, p[:1])]:
        if has_at(data, path):
            del origins[path]
    origins.update({p: o for p, o in new.origins.items() if has_at(data, p)})
    return origins
