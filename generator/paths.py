"""The layout of a fleet repository: where fleetgen reads each input and writes each output.

Every stage takes these names from here, so a folder is named in one place. Standard library
only: the stamp check (``generator.cache.stamp``) reads it before anything heavy is imported.
"""

from __future__ import annotations

CLUSTERS_DIR = "clusters"  # one inventory file per cluster, below it
DEFAULTS_FILE = "_defaults.yaml"  # values for every cluster in its folder and below
CLUSTER_OVERLAY_SUFFIX = ".overlay.yaml"  # clusters/<...>/<cluster>.overlay.yaml: its own patches
OVERLAYS_DIR = "overlays"  # overlays/<name>/overlay.yaml
OVERLAY_FILE = "overlay.yaml"
TEMPLATES_DIR = "templates"  # a fleet's own templates, over the built-in ones
SETTINGS_FILE = "fleetgen.yaml"  # fleet-wide settings (optional)
RENDERED_DIR = "rendered"  # the output
GITOPS_DIR = "_gitops"  # rendered/_gitops/<mgmt>/: the Flux / Argo CD objects
MANIFEST = ".fleetgen-manifest.json"  # rendered/<MANIFEST>: the files fleetgen owns
SCHEMA_FILE = ".fleetgen/inventory.schema.json"  # the inventory schema, for editors

INPUT_FOLDERS = (CLUSTERS_DIR, OVERLAYS_DIR, TEMPLATES_DIR)  # everything a render reads ...
INPUT_FILES = (SETTINGS_FILE,)  # ... with these files


def cluster_overlay_file(inventory_file: str) -> str:
    """Where a cluster's own patches live: beside its inventory file."""
    return inventory_file.removesuffix(".yaml") + CLUSTER_OVERLAY_SUFFIX
