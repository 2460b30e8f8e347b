"""``fleetgen new cluster``: write a commented inventory file for a new cluster in a fleet.

It only ever creates a file, never changes one: a file that exists is refused (a located
FleetError, like every other stage). The new file starts with the schema modeline
(``generator.load.schema.schema_modeline``) so editors complete and check it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.check.cluster_rules import CLUSTER_RULES
from generator.check.fleet import Cluster
from generator.commands.exits import EXIT_OK
from generator.commands.output import out
from generator.load.inventory import ClusterInventory, InventoryLoader, merge_layers
from generator.load.model import ClusterSpec
from generator.load.schema import schema_at, schema_modeline
from generator.load.validation import data_path, to_spec
from generator.net.ip import is_dns_label
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.problems import FleetError, Location, Problem, path_text
from generator.yaml.load import Path_


def new(root: Path, path: Path) -> int:
    """The command ``fleetgen new cluster PATH``: ``path`` is taken from the working folder."""
    base = root.resolve()
    target = path if path.is_absolute() else Path.cwd() / path
    written = new_cluster(base, target)
    out(f"wrote {written.relative_to(base).as_posix() if written.is_absolute() else written}")
    return EXIT_OK


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
        node = schema_at(path)
        required = node.get("required", []) if node.get("type") == "object" else []
        leaves += _leaves_to_set([(*path, key) for key in required]) if required else [path]
    return list(dict.fromkeys(leaves))


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
        node = schema_at(value)
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
