"""``fleetgen init`` and ``fleetgen new cluster``: start a fleet repository, or one cluster in it.

Both only ever create files, never change one: ``init_fleet`` refuses a folder that is not empty,
``new_cluster`` refuses a file that exists. Refusals are FleetErrors with located problems, like
every other stage.

Editors: every inventory file starts with a ``# yaml-language-server: $schema=…`` line. It points
at ``.fleetgen/inventory.schema.json`` in the fleet, by a path relative to the file (the YAML
language server resolves relative paths from the file that names them), rather than at
``SCHEMA_ID``: the local copy works offline and is the schema of the fleetgen version the fleet
pins, not whatever a URL serves today. ``fleetgen schema > .fleetgen/inventory.schema.json``
refreshes it after an upgrade. A fleet without the local copy gets ``SCHEMA_ID`` instead.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator import __version__
from generator.check.fleet import Cluster
from generator.check.checks import CLUSTER_RULES
from generator.load.inventory import ClusterInventory, InventoryLoader, merge_layers
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.load.model import ClusterSpec
from generator.net.ip import is_dns_label
from generator.problems import FleetError, Location, Problem, path_text
from generator.load.schema import SCHEMA_ID, inventory_schema
from generator.load.validation import data_path, to_spec
from generator.write.core import atomic_write
from generator.yaml.io import Path_

SCHEMA_FILE = ".fleetgen/inventory.schema.json"
SOURCE_INSTALL = "python -m pip install ."
"""How fleetgen's own repository (whose example fleet is a fleet repository) installs fleetgen."""


def pinned_install(version: str = __version__) -> str:
    """How a fleet repository installs fleetgen: pinned, so a render never changes by surprise."""
    return f'python -m pip install "fleetgen=={version}"'


# --- the pull-request workflow ----------------------------------------------------------------
# One text for both copies: docs/ci/github-pull-request.yml (with SOURCE_INSTALL) and the
# .github/workflows/fleetgen.yml that init writes (with pinned_install()).
# tests/test_scaffold.py holds the docs copy to this text, tests/test_ci_recipes.py checks every
# fleetgen command in it against the real command line.

_PULL_REQUEST_WORKFLOW = """\
# fleetgen checks for every pull request (see docs/ci.md in the fleetgen repository):
# the inventory is valid, a diff of rendered/ is posted as one comment, rendered/ is committed
# up to date, and risky changes are blocked.
name: fleetgen

on:
  pull_request:

permissions:
  contents: read
  pull-requests: write  # the diff comment

concurrency:
  group: fleetgen-${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  fleetgen:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    env:
      # GitHub expressions reach the scripts as variables, never pasted into them.
      BASE_REF: ${{ github.base_ref }}
      NO_COLOR: "1"
    steps:
      - uses: actions/checkout@v4
        with:
          # diff --against reads rendered/ of the base branch from git objects: full history.
          fetch-depth: 0

      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"

      - name: Install fleetgen
        run: @INSTALL@

      - name: Validate the inventory
        # Problems become annotations on the changed files; exit 2 fails the job.
        run: fleetgen validate --format github

      - name: Diff rendered/ against the base branch
        run: |
          rc=0
          fleetgen diff --against "origin/$BASE_REF" --format markdown --max-bytes 65000 > diff.md || rc=$?
          # 0 no change and 1 changes are both a report to post. 4 (a --fail-on risk) is the
          # gate's verdict, below. 2 (invalid input) and 3 (internal error) fail here.
          if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 4 ]; then
            exit "$rc"
          fi
          cat diff.md >> "$GITHUB_STEP_SUMMARY"

      - name: Post the diff as a pull-request comment
        # A pull request from a fork gets a read-only token: its diff is in the job summary.
        if: github.event.pull_request.head.repo.full_name == github.repository
        env:
          GH_TOKEN: ${{ github.token }}
          GH_REPO: ${{ github.repository }}
          PR: ${{ github.event.pull_request.number }}
        run: |
          # Edit this workflow's earlier comment; on the first run there is none, so create it.
          gh pr comment "$PR" --edit-last --body-file diff.md || gh pr comment "$PR" --body-file diff.md

      - name: rendered/ is up to date
        run: |
          rc=0
          fleetgen render --check || rc=$?
          if [ "$rc" -eq 1 ]; then
            echo "::error::rendered/ is stale: run 'fleetgen render' and commit rendered/"
          fi
          exit "$rc"

      - name: Risk gate
        run: |
          rc=0
          fleetgen diff --against "origin/$BASE_REF" --fail-on ip-removed-in-use,ip-overlap,pool-capacity,dhcp-to-ipam,cluster-removed --format json > risks.json || rc=$?
          if [ "$rc" -eq 4 ]; then
            echo "::error::this change has a blocked risk class; the risks are listed below and in the diff comment"
            cat risks.json
            exit 1
          fi
          if [ "$rc" -gt 1 ]; then
            cat risks.json
            exit "$rc"
          fi

      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: fleetgen-diff
          path: |
            diff.md
            risks.json
          if-no-files-found: ignore
"""


def pull_request_workflow(install: str) -> str:
    """The GitHub Actions pull-request workflow, installing fleetgen with ``install``."""
    return _PULL_REQUEST_WORKFLOW.replace("@INSTALL@", install)


# --- init -------------------------------------------------------------------------------------

_ROOT_DEFAULTS = """\
# Inherited by every cluster of the fleet; a _defaults.yaml in a folder below overrides it key by
# key (mappings merge, lists and scalars replace). The vSphere values are placeholders: put your
# vCenter's inventory paths here.
managementCluster: mgmt
infrastructure: vsphere
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
vsphere:
  server: vcenter.example.com
  datacenter: /dc0
  datastore: /dc0/datastore/datastore1
  folder: /dc0/vm/tkg
  resourcePool: /dc0/host/cluster0/Resources/tkg
  network: /dc0/network/tkg-nodes
"""

_EXAMPLE_DEFAULTS = """\
# Clusters under clusters/example/dev/ live in the namespace "dev" of the management cluster.
namespace: dev
plan: dev
"""

_HELLO = """\
# One vSphere cluster: nodes get their addresses by DHCP, kube-vip serves the API on a static IP.
# 192.0.2.10 is a documentation address: use a free IP on your node network, outside the DHCP
# range. `fleetgen explain hello` shows every effective value and where it comes from.
controlPlane:
  endpoint: 192.0.2.10
"""

_OVERLAYS_README = """\
# Overlays

An overlay is a folder `overlays/<name>/` holding an `overlay.yaml`: the body of a kustomize
`Component` (`patches`, `labels`, `commonAnnotations`, `components`) that fleetgen applies to the
objects it renders, so what lands in `rendered/` is final. A cluster (or a `_defaults.yaml`)
opts in by name:

```yaml
overlays: [dev-sizing]
```

fleetgen refuses a name with no folder here (`unknown-overlay`). Prefer an inventory key to an
overlay whenever one exists: keys are validated, overlays only patch the output. See fleetgen's
README for the overlay format and how it differs from kustomize.
"""

_GITIGNORE = """\
.venv/
.tools/
rendered/.fleetgen.lock
"""

_FLEET_README = """\
# Cluster fleet

The inventory of a Tanzu Kubernetes Grid / Cluster API fleet, rendered by fleetgen @VERSION@
into the manifests Flux or Argo CD sync.

```sh
python3 -m venv .venv && .venv/bin/pip install "fleetgen==@VERSION@"
.venv/bin/fleetgen validate   # every inventory and fleet check; writes nothing
.venv/bin/fleetgen render     # writes rendered/; commit it with the inventory change
```

## Layout

| path | what |
|---|---|
| `clusters/**.yaml` | one file per cluster; its name is the file name |
| `clusters/**/_defaults.yaml` | inherited by every cluster in its folder and below (nearest wins; mappings merge, lists replace) |
| `overlays/<name>/` | kustomize-style patches a cluster opts into (see `overlays/README.md`) |
| `templates/` | optional: a template here overrides fleetgen's built-in one of the same name |
| `rendered/` | generated by `fleetgen render`; never edit it by hand |
| `.fleetgen/inventory.schema.json` | the JSON Schema of an inventory file, for editors |

## Adding a cluster

```sh
.venv/bin/fleetgen new cluster clusters/example/dev/web
```

writes `clusters/example/dev/web.yaml` with only the keys the new cluster must still set, each
with a comment, and lists what it inherits. Fill them in, then `fleetgen validate` and
`fleetgen render`. `fleetgen explain web` shows every effective value and the file it comes from.

## Editors

Each inventory file starts with `# yaml-language-server: $schema=…` pointing at
`.fleetgen/inventory.schema.json` by a relative path, so editors with the YAML language server
(VS Code's YAML extension, Neovim, JetBrains) complete and check keys offline. After upgrading
fleetgen, refresh it: `fleetgen schema > .fleetgen/inventory.schema.json`.

## Continuous integration

`.github/workflows/fleetgen.yml` runs on every pull request: `fleetgen validate`, a diff of
`rendered/` posted as a comment, `fleetgen render --check`, and a gate that blocks changes that
remove node addresses in use, overlap or exhaust pools, switch a DHCP cluster to node IPAM, or
delete a cluster. Make the `fleetgen` job a required status check. fleetgen's `docs/ci.md`
describes it, a nightly drift render and the GitLab equivalents.

To upgrade fleetgen, change the version in the workflow and in your venv, run `fleetgen render`,
and review the diff of `rendered/` like any other change.
"""


def _schema_text() -> str:
    # Byte for byte what `fleetgen schema` prints, so the README's refresh command reproduces it.
    return json.dumps(inventory_schema(), indent=2, sort_keys=True) + "\n"


def schema_modeline(root: Path, file: Path) -> str:
    """The first line of an inventory file at ``file``: the fleet's own schema when it has one
    (relative, so it works offline and from any checkout), else ``SCHEMA_ID``."""
    local = root / SCHEMA_FILE
    target = Path(os.path.relpath(local, file.parent)).as_posix() if local.is_file() else SCHEMA_ID
    return f"# yaml-language-server: $schema={target}\n"


def _fleet_files(version: str) -> dict[str, str]:
    install = pinned_install(version)
    return {
        SCHEMA_FILE: _schema_text(),
        f"{CLUSTERS_DIR}/{DEFAULTS_FILE}": _ROOT_DEFAULTS,
        f"{CLUSTERS_DIR}/example/dev/{DEFAULTS_FILE}": _EXAMPLE_DEFAULTS,
        f"{CLUSTERS_DIR}/example/dev/hello.yaml": _HELLO,
        "overlays/README.md": _OVERLAYS_README,
        ".gitignore": _GITIGNORE,
        ".github/workflows/fleetgen.yml": pull_request_workflow(install),
        "README.md": _FLEET_README.replace("@VERSION@", version),
    }


def init_fleet(target: Path) -> list[Path]:
    """Scaffold a fleet repository in ``target`` (created if missing) that validates and renders
    as it is; returns the files written. Refuses a ``target`` that exists and is not empty."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FleetError([Problem(Location(str(target)), "target-not-empty",
                                  f"{target} exists and is not an empty folder; "
                                  "fleetgen init writes into a new or empty folder only",
                                  "pick a new folder name, e.g. fleetgen init my-fleet")])
    written = []
    for rel, text in _fleet_files(__version__).items():
        path = target / rel
        if rel.startswith(f"{CLUSTERS_DIR}/"):
            # The schema is written first (dict order), so every modeline can point at it.
            text = schema_modeline(target, path) + text
        atomic_write(path, text.encode("utf-8"))
        written.append(path)
    return sorted(written)


# --- new cluster ------------------------------------------------------------------------------

# What a key is, for the comment above it; keys not listed here use the schema's description.
_WHAT: dict[Path_, str] = {
    ("managementCluster",): "the management cluster the Cluster object lives on",
    ("infrastructure",): "vsphere, aws or azure; its section (vsphere:, aws:, azure:) is then "
                         "required too",
    ("kubernetes", "version"): "the TKr version, e.g. v1.27.5+vmware.1-tkg.1",
    ("controlPlane", "endpoint"): "required for vSphere kube-vip: a free static IP (or a DNS "
                                  "name) for the API server",
    ("network", "nameservers", "controlPlane"): "required with node IPAM (no DHCP): DNS servers "
                                                "of control-plane nodes, e.g. [10.0.0.10]",
    ("network", "nameservers", "worker"): "required with node IPAM (no DHCP): DNS servers of "
                                          "worker nodes, e.g. [10.0.0.10]",
    ("vsphere", "server"): "the vCenter server (host name or IP)",
    ("vsphere", "datacenter"): "the datacenter's inventory path, e.g. /dc0",
    ("vsphere", "datastore"): "the datastore's inventory path, e.g. /dc0/datastore/ds1",
    ("vsphere", "folder"): "the VM folder's inventory path, e.g. /dc0/vm/tkg",
    ("vsphere", "resourcePool"): "the resource pool's inventory path, "
                                 "e.g. /dc0/host/cluster0/Resources/tkg",
    ("aws", "region"): "the AWS region, e.g. eu-west-1",
    ("aws", "sshKeyName"): "the name of an EC2 key pair in that region",
    ("aws", "subnets"): "one {az: ...} per availability zone (1 to 3)",
    ("azure", "location"): "the Azure region, e.g. westeurope",
    ("azure", "subscriptionID"): "the Azure subscription ID",
    ("azure", "sshPublicKey"): "the SSH public key, base64-encoded",
}

# Declarations shared by many clusters: listed by name only, not value by value.
_SHARED = ("ipPools", "nodeNetworks", "managementClusters")


def new_cluster(root: Path, path: Path) -> Path:
    """Write a new, commented cluster inventory at ``path`` (relative paths are taken from
    ``root``; ``.yaml`` is added when missing) and return it.

    The file holds only the keys the cluster must still set given what it inherits from the
    ``_defaults.yaml`` files above it, each empty and with a comment, followed by a list of the
    inherited values. Once those keys are filled the cluster validates. Keys that only become
    required through a value the file must still set (the endpoint once ``infrastructure`` says
    vSphere) are not known yet: ``fleetgen validate`` names them after the first round.

    Refuses a path outside ``clusters/``, a file that exists, and a file name that is not a valid
    cluster name; raises FleetError with the problems of broken ``_defaults.yaml`` files.
    """
    root = root.resolve()
    file = _cluster_file(root, path)
    loader = InventoryLoader(root)
    chain = loader.defaults_chain(file)
    layers = [loader.layer(p) for p in chain]
    if loader.problems:
        raise FleetError(loader.problems)
    data, origins = merge_layers(layer for layer in layers if layer is not None)
    inventory = ClusterInventory(loader.rel(file), data, origins)
    required = _required(inventory)
    text = schema_modeline(root, file) + _cluster_text(inventory, [loader.rel(p) for p in chain],
                                                       required)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x": create only, so a file that appeared since the check above is not overwritten.
        with file.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise _exists(root, file) from None
    return file


def _cluster_file(root: Path, path: Path) -> Path:
    file = path if path.is_absolute() else root / path
    if file.suffix != ".yaml":
        file = file.with_name(file.name + ".yaml")
    file = file.resolve()
    base = root / CLUSTERS_DIR
    shown = path.as_posix()
    if not file.is_relative_to(base):
        raise FleetError([Problem(Location(shown), "outside-clusters",
                                  f"{shown} is not under {CLUSTERS_DIR}/ of the fleet at {root}",
                                  f"cluster files live under {CLUSTERS_DIR}/, e.g. "
                                  f"{CLUSTERS_DIR}/site-a/dev/web")])
    rel = file.relative_to(root).as_posix()
    if file.name == DEFAULTS_FILE:
        raise FleetError([Problem(Location(rel), "invalid-value",
                                  f"{DEFAULTS_FILE} holds defaults, not a cluster",
                                  "name the file after the cluster")])
    if any(part.startswith(".") for part in file.relative_to(base).parts):
        raise FleetError([Problem(Location(rel), "invalid-value",
                                  f"{rel} is in a hidden folder, which fleetgen skips")])
    if not is_dns_label(file.stem):
        raise FleetError([Problem(Location(rel), "invalid-value",
                                  f"'{file.stem}' is not a valid cluster name (the file name is "
                                  "the cluster's name)",
                                  "use lower-case letters, digits and '-', at most 63 characters")])
    if file.exists():
        raise _exists(root, file)
    return file


def _exists(root: Path, file: Path) -> FleetError:
    rel = file.relative_to(root).as_posix()
    return FleetError([Problem(Location(rel), "file-exists", f"{rel} exists already",
                               "edit it, or choose another name for the new cluster")])


def _required(inventory: ClusterInventory) -> list[Path_]:
    """The leaf keys a cluster file must still set, given what it inherits.

    Both answers come from the real checks: the model says which keys are missing, and, once
    nothing is, the cluster rules say which are required by other values (endpoint, nameservers,
    the infrastructure's section)."""
    spec, problems = to_spec(inventory)
    if spec is None:
        missing = _missing_keys({"name": inventory.stem, **inventory.data})
        broken = [p for p in problems if p.code != "missing-key"]
        if broken or any(isinstance(part, int) for path in missing for part in path):
            # A wrong inherited value (or a list item missing a key, which the new file could
            # only fix by replacing the whole list) is for the _defaults.yaml to fix: report
            # what is wrong there, not the keys the new file would ask for anyway.
            raise FleetError([p for p in problems if p.location.path != inventory.file]
                             or problems)
        return _leaves_to_set(missing)
    paths: list[Path_] = []
    cluster = Cluster(spec, inventory)
    codes = {p.code for rule in CLUSTER_RULES for p in rule(cluster)}
    if "missing-key" in codes:  # the section of the chosen infrastructure
        paths.append((spec.infrastructure,))
    if "endpoint-required" in codes:
        paths.append(("controlPlane", "endpoint"))
    if "nameservers-required" in codes:
        servers = spec.network.nameservers
        paths += [("network", "nameservers", role) for role, given in
                  (("controlPlane", servers.control_plane), ("worker", servers.worker))
                  if not given]
    return _leaves_to_set(paths)


def _missing_keys(data: dict[str, Any]) -> list[Path_]:
    try:
        ClusterSpec.model_validate(data)
    except ValidationError as exc:
        return sorted({_key_path(data, err["loc"]) for err in exc.errors(include_url=False)
                       if err["type"] == "missing"}, key=str)
    return []


def _key_path(data: Any, loc: tuple[int | str, ...]) -> Path_:
    """pydantic's loc as a path of keys (union tags dropped), then the missing key itself."""
    return (*data_path(data, loc[:-1])[0], loc[-1])


def _leaves_to_set(paths: list[Path_]) -> list[Path_]:
    """A missing mapping (``kubernetes``) stands for its required keys (``kubernetes.version``)."""
    leaves: list[Path_] = []
    for path in paths:
        node = _schema_node(path)
        required = node.get("required", []) if node.get("type") == "object" else []
        leaves += _leaves_to_set([(*path, key) for key in required]) if required else [path]
    return list(dict.fromkeys(leaves))


@functools.cache
def _full_schema() -> dict[str, Any]:
    # With `required` (generator.load.schema drops it: one file alone need not be complete).
    return ClusterSpec.model_json_schema(by_alias=True)


def _schema_node(path: Path_) -> dict[str, Any]:
    """The schema of the value at ``path``, its ``$ref`` and ``Optional`` resolved, keeping the
    description of the property that names it."""
    schema = _full_schema()
    node = _resolve(schema, schema)
    for part in path:
        if isinstance(part, int):
            child = node.get("items", {})
        else:
            extra = node.get("additionalProperties")
            child = node.get("properties", {}).get(part, extra if isinstance(extra, dict) else {})
        node = {**_resolve(schema, child), **({"description": child["description"]}
                                              if "description" in child else {})}
    return node


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = schema["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
            continue
        options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
        if len(options) == 1:
            node = options[0]
            continue
        return node




def _cluster_text(inventory: ClusterInventory, chain: list[str], required: list[Path_]) -> str:
    name = inventory.stem
    lines = [f"# Cluster '{name}': its name is this file's name."]
    lines += ["# It inherits from:", *(f"#   {rel}" for rel in chain)] if chain else [
        "# No _defaults.yaml applies here: the cluster sets everything itself."]
    lines += [f"# `fleetgen explain {name}` shows each effective value and where it comes from.",
              ""]
    if required:
        lines += ["# Set these, then run `fleetgen validate`:"]
        lines += _required_lines(inventory, required)
    else:
        lines += ["# Nothing more is required: this cluster validates as it is. Set a key here to",
                  "# override an inherited value."]
    inherited = _inherited_lines(inventory)
    if inherited:
        lines += ["", "# Inherited (set a key above to override it):", *inherited]
    return "\n".join(lines) + "\n"


def _required_lines(inventory: ClusterInventory, required: list[Path_]) -> list[str]:
    tree: dict[str, Any] = {}
    for path in required:
        node = tree
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node[str(path[-1])] = path
    return _tree_lines(inventory, tree, 0)


def _tree_lines(inventory: ClusterInventory, tree: dict[str, Any], depth: int) -> list[str]:
    pad = "  " * depth
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines += [f"{pad}{key}:", *_tree_lines(inventory, value, depth + 1)]
            continue
        node = _schema_node(value)
        what = _WHAT.get(value) or node.get("description") or "required"
        lines.append(f"{pad}# {path_text(value)}: {what}{_inherited_note(inventory, value)}")
        lines.append(f"{pad}{key}:{' []' if node.get('type') == 'array' else ''}")
    return lines


def _inherited_note(inventory: ClusterInventory, path: Path_) -> str:
    origin = inventory.origins.get(path)
    if origin is None:
        return ""
    value: Any = inventory.data
    for part in path:
        value = value[part]
    return f" (inherited: {json.dumps(value)} from {origin.value})"


def _inherited_lines(inventory: ClusterInventory) -> list[str]:
    rows = []
    for key, value in inventory.data.items():
        if key in _SHARED and isinstance(value, dict):
            origin = inventory.origins.get((key,))
            rows.append((key, ", ".join(value), str(origin.value) if origin else ""))
            continue
        for path, leaf in _leaves(value, (key,)):
            origin = inventory.origins.get(path)
            rows.append((path_text(path), json.dumps(leaf, ensure_ascii=False),
                         str(origin.value) if origin else ""))
    width = max((len(row[0]) for row in rows), default=0)
    return [f"#   {name:<{width}}  {value}  ({where})" for name, value, where in rows]


def _leaves(value: Any, path: Path_) -> list[tuple[Path_, Any]]:
    # Lists stay whole: a cluster file replaces a list, it cannot change one item.
    if isinstance(value, dict) and value:
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))]
    return [(path, value)]
