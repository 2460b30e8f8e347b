"""``fleetgen import tkg``: one TKG flat cluster configuration (and its node pool) as an inventory.

The flat config is read the way the tanzu CLI reads it: a mapping ``KEY: value`` where a value may
be typed (``3``, ``true``) or a string (``"3"``, ``"true"``), an empty value means unset, and lists
are comma-separated. Each variable maps to one inventory path (``VARIABLES``); workers and AWS
subnets are assembled from the indexed variables (``_0``/``_1``/``_2``).

Import is a front end to the same checks as a hand-written cluster, in two stages like the
pipeline: first the flat file itself (types, secrets, required variables, the pool object), then
the merged cluster through ``to_spec``, every ``CLUSTER_RULES`` rule and the node-pool rules. Every
problem points at the flat line that produced the value (``_Import.sources`` maps each inventory
path back to its variable), or at the ``_defaults.yaml`` / pool file it came from.

What is not imported is never dropped silently: secrets are refused, and everything else fleetgen
does not model is reported (warnings, and a comment block at the top of the file). An absent
variable is inherited: from the ``_defaults.yaml`` chain above the target folder, then from the
model's defaults. The written file keeps only the values that change the rendered cluster.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from generator.check.fleet import Cluster
from generator.check.checks import CLUSTER_RULES, INFRA_NAMES, resolve_pools
from generator.load.inventory import ClusterInventory, InventoryLoader, Layer, Origin, merge_layers
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.check.pools import check_pools
from generator.ipam.migrate import inventory_pool
from generator.load.model import PLAN_MACHINE_COUNT, POOL_KINDS, ClusterSpec
from generator.problems import FleetError, Location, Problem, has_errors, path_text
from generator.load.validation import to_spec
from generator.render.views import DEFAULT_MACHINE, cluster_view
from generator.yaml.io import Path_, Positions, dump, load_positioned, load_positioned_all


@dataclass(frozen=True)
class Imported:
    path: Path  # where the inventory file goes: DIR/<CLUSTER_NAME>.yaml
    text: str  # the inventory file's text
    reported: list[Problem]  # warnings: variables not imported and why, and rule warnings


# --- the variables -----------------------------------------------------------------------------

Kind = Literal["text", "int", "bool", "list", "plan", "family", "provider"]


@dataclass(frozen=True)
class Var:
    """A flat variable that maps to one inventory path."""

    path: Path_
    kind: Kind = "text"
    infra: str | None = None  # the only infrastructure the variable applies to


def _v(*path: str, kind: Kind = "text", infra: str | None = None) -> Var:
    return Var(tuple(path), kind, infra)


# In the order the inventory file lists them (nested keys are reordered by the model anyway).
VARIABLES: dict[str, Var] = {
    "NAMESPACE": _v("namespace"),
    "INFRASTRUCTURE_PROVIDER": _v("infrastructure"),
    "CLUSTER_PLAN": _v("plan", kind="plan"),
    "KUBERNETES_VERSION": _v("kubernetes", "version"),
    "OS_NAME": _v("os", "name"),
    "OS_VERSION": _v("os", "version"),
    "OS_ARCH": _v("os", "arch"),
    "CONTROL_PLANE_MACHINE_COUNT": _v("controlPlane", "replicas", kind="int"),
    "VSPHERE_CONTROL_PLANE_ENDPOINT": _v("controlPlane", "endpoint", infra="vsphere"),
    "AVI_CONTROL_PLANE_HA_PROVIDER": _v("controlPlane", "endpointProvider", kind="provider",
                                        infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_NUM_CPUS": _v("controlPlane", "machine", "numCPUs", kind="int",
                                         infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_MEM_MIB": _v("controlPlane", "machine", "memoryMiB", kind="int",
                                        infra="vsphere"),
    "VSPHERE_CONTROL_PLANE_DISK_GIB": _v("controlPlane", "machine", "diskGiB", kind="int",
                                         infra="vsphere"),
    "CONTROL_PLANE_MACHINE_TYPE": _v("controlPlane", "machine", "instanceType", infra="aws"),
    "AWS_CONTROL_PLANE_OS_DISK_SIZE_GIB": _v("controlPlane", "machine", "rootVolumeGiB",
                                             kind="int", infra="aws"),
    "AZURE_CONTROL_PLANE_MACHINE_TYPE": _v("controlPlane", "machine", "vmSize", infra="azure"),
    "AZURE_CONTROL_PLANE_OS_DISK_SIZE_GIB": _v("controlPlane", "machine", "osDiskGiB", kind="int",
                                               infra="azure"),
    "TKG_IP_FAMILY": _v("network", "ipFamily", kind="family"),
    "CLUSTER_CIDR": _v("network", "pods", kind="list"),
    "SERVICE_CIDR": _v("network", "services", kind="list"),
    "NODE_IPAM_IP_POOL_NAME": _v("network", "nodes", "ipPool", infra="vsphere"),
    "CONTROL_PLANE_NODE_NAMESERVERS": _v("network", "nameservers", "controlPlane", kind="list"),
    "WORKER_NODE_NAMESERVERS": _v("network", "nameservers", "worker", kind="list"),
    "CONTROL_PLANE_NODE_SEARCH_DOMAINS": _v("network", "searchDomains", "controlPlane",
                                            kind="list"),
    "WORKER_NODE_SEARCH_DOMAINS": _v("network", "searchDomains", "worker", kind="list"),
    "VSPHERE_SERVER": _v("vsphere", "server", infra="vsphere"),
    "VSPHERE_DATACENTER": _v("vsphere", "datacenter", infra="vsphere"),
    "VSPHERE_DATASTORE": _v("vsphere", "datastore", infra="vsphere"),
    "VSPHERE_FOLDER": _v("vsphere", "folder", infra="vsphere"),
    "VSPHERE_RESOURCE_POOL": _v("vsphere", "resourcePool", infra="vsphere"),
    "VSPHERE_NETWORK": _v("vsphere", "network", infra="vsphere"),
    "VSPHERE_TEMPLATE": _v("vsphere", "template", infra="vsphere"),
    "VSPHERE_STORAGE_POLICY_ID": _v("vsphere", "storagePolicyID", infra="vsphere"),
    "VSPHERE_TLS_THUMBPRINT": _v("vsphere", "tlsThumbprint", infra="vsphere"),
    "AWS_REGION": _v("aws", "region", infra="aws"),
    "AWS_SSH_KEY_NAME": _v("aws", "sshKeyName", infra="aws"),
    "AWS_IDENTITY_REF_KIND": _v("aws", "identityRef", "kind", infra="aws"),
    "AWS_IDENTITY_REF_NAME": _v("aws", "identityRef", "name", infra="aws"),
    "AWS_VPC_ID": _v("aws", "vpc", "existingID", infra="aws"),
    "AWS_VPC_CIDR": _v("aws", "vpc", "cidr", infra="aws"),
    "BASTION_HOST_ENABLED": _v("aws", "bastion", kind="bool", infra="aws"),
    "AZURE_LOCATION": _v("azure", "location", infra="azure"),
    "AZURE_SUBSCRIPTION_ID": _v("azure", "subscriptionID", infra="azure"),
    "AZURE_RESOURCE_GROUP": _v("azure", "resourceGroup", infra="azure"),
    "AZURE_SSH_PUBLIC_KEY_B64": _v("azure", "sshPublicKey", infra="azure"),
    "AZURE_IDENTITY_NAME": _v("azure", "identityRef", "name", infra="azure"),
    "AZURE_IDENTITY_NAMESPACE": _v("azure", "identityRef", "namespace", infra="azure"),
    "AZURE_ENVIRONMENT": _v("azure", "environment", infra="azure"),
    "AZURE_VNET_NAME": _v("azure", "vnet", "name", infra="azure"),
    "AZURE_VNET_CIDR": _v("azure", "vnet", "cidrBlocks", kind="list", infra="azure"),
    "AZURE_VNET_RESOURCE_GROUP": _v("azure", "vnet", "resourceGroup", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_NAME": _v("azure", "controlPlaneSubnet", "name", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_CIDR": _v("azure", "controlPlaneSubnet", "cidr", infra="azure"),
    "AZURE_CONTROL_PLANE_SUBNET_SECURITY_GROUP": _v("azure", "controlPlaneSubnet", "securityGroup",
                                                    infra="azure"),
    "AZURE_NODE_SUBNET_NAME": _v("azure", "workerSubnet", "name", infra="azure"),
    "AZURE_NODE_SUBNET_CIDR": _v("azure", "workerSubnet", "cidr", infra="azure"),
    "AZURE_NODE_SUBNET_SECURITY_GROUP": _v("azure", "workerSubnet", "securityGroup",
                                           infra="azure"),
    "CNI": _v("cni"),
}

# Worker machine size: one cluster-wide value in the flat config, a per-MachineDeployment
# ``machine`` in the inventory. (variable → infrastructure, machine field, kind)
WORKER_MACHINE: dict[str, tuple[str, str, Kind]] = {
    "VSPHERE_WORKER_NUM_CPUS": ("vsphere", "numCPUs", "int"),
    "VSPHERE_WORKER_MEM_MIB": ("vsphere", "memoryMiB", "int"),
    "VSPHERE_WORKER_DISK_GIB": ("vsphere", "diskGiB", "int"),
    "NODE_MACHINE_TYPE": ("aws", "instanceType", "text"),
    "AWS_NODE_OS_DISK_SIZE_GIB": ("aws", "rootVolumeGiB", "int"),
    "AZURE_NODE_MACHINE_TYPE": ("azure", "vmSize", "text"),
    "AZURE_NODE_OS_DISK_SIZE_GIB": ("azure", "osDiskGiB", "int"),
}
ZONES = range(3)  # md-0 … md-2, and AWS subnets 0 … 2 (TKG's _1 / _2 suffixes)


def _suffix(index: int) -> str:
    return "" if index == 0 else f"_{index}"


WORKER_COUNT = "WORKER_MACHINE_COUNT"
WORKER_COUNTS = [f"WORKER_MACHINE_COUNT_{i}" for i in ZONES]
VSPHERE_ZONES = [f"VSPHERE_AZ_{i}" for i in ZONES]
AWS_MD_MACHINE_TYPES = {f"NODE_MACHINE_TYPE_{i}": i for i in (1, 2)}
AWS_SUBNET: dict[str, tuple[str, ...]] = {"AWS_NODE_AZ": ("az",),
                                          "AWS_PRIVATE_NODE_CIDR": ("private", "cidr"),
                                          "AWS_PUBLIC_NODE_CIDR": ("public", "cidr"),
                                          "AWS_PRIVATE_SUBNET_ID": ("private", "id"),
                                          "AWS_PUBLIC_SUBNET_ID": ("public", "id")}
AWS_SUBNET_VARS = {f"{base}{_suffix(i)}": (i, sub) for i in ZONES for base, sub in AWS_SUBNET.items()}
POOL_KIND = "NODE_IPAM_IP_POOL_KIND"
ENDPOINTSLICE = "ANTREA_ENDPOINTSLICE"

SPECIAL: dict[str, str | None] = {  # handled by their own code; value: the only infrastructure
    "CLUSTER_NAME": None, WORKER_COUNT: None, ENDPOINTSLICE: None, POOL_KIND: "vsphere",
    **{k: None for k in WORKER_COUNTS}, **{k: "vsphere" for k in VSPHERE_ZONES},
    **{k: infra for k, (infra, _, _) in WORKER_MACHINE.items()},
    **{k: "aws" for k in AWS_MD_MACHINE_TYPES}, **{k: "aws" for k in AWS_SUBNET_VARS},
}
KNOWN = sorted({*VARIABLES, *SPECIAL})

# Secrets are refused outright: a credential in git is a leak, whatever happens next.
_AWS_SECRET = ("reference an identity on the management cluster with AWS_IDENTITY_REF_KIND / "
               "AWS_IDENTITY_REF_NAME (aws.identityRef) and remove the line")
CREDENTIALS: dict[str, str] = {
    "VSPHERE_PASSWORD": "vCenter credentials belong in a Secret on the management cluster "
                        "(the CAPV identity the cluster uses); remove the line",
    "AZURE_CLIENT_SECRET": "reference an AzureClusterIdentity on the management cluster with "
                           "AZURE_IDENTITY_NAME / AZURE_IDENTITY_NAMESPACE (azure.identityRef) and "
                           "remove the line",
    "AWS_SECRET_ACCESS_KEY": _AWS_SECRET,
    "AWS_SESSION_TOKEN": _AWS_SECRET,
    "AWS_ACCESS_KEY_ID": _AWS_SECRET,
    "AWS_B64ENCODED_CREDENTIALS": _AWS_SECRET,
    "AVI_PASSWORD": "NSX ALB credentials belong in the management cluster's AKO Secret; "
                    "remove the line",
}
ENCODED_HINT = ("the tanzu CLI writes secrets as <encoded:…>; keep the secret in a Secret on the "
                "management cluster, reference it (identityRef) and remove the line")

_MANAGEMENT_CREDENTIALS = "belongs to the management cluster's credentials, not to a workload cluster"
NOT_IMPORTED: dict[str, str] = {
    "VSPHERE_USERNAME": _MANAGEMENT_CREDENTIALS,
    "AZURE_CLIENT_ID": _MANAGEMENT_CREDENTIALS,
    "AZURE_TENANT_ID": _MANAGEMENT_CREDENTIALS,
    "AWS_PROFILE": _MANAGEMENT_CREDENTIALS,
    "VSPHERE_INSECURE": "fleetgen always pins vCenter by VSPHERE_TLS_THUMBPRINT",
    "VSPHERE_SSH_AUTHORIZED_KEY": "fleetgen does not manage node SSH keys on vSphere",
    "NODE_IPAM_IP_POOL_APIVERSION": "fleetgen always writes ipam.cluster.x-k8s.io/v1alpha2 pools",
}
NOT_IMPORTED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("AVI_", "NSX ALB is configured on the management cluster (AKO), not per cluster"),
    ("TKG_HTTP_PROXY", "fleetgen does not configure proxies"),
    ("TKG_NO_PROXY", "fleetgen does not configure proxies"),
)

TOP_ORDER = ("managementCluster", "namespace", "infrastructure", "plan", "kubernetes", "os",
             "controlPlane", "workers", "network", "vsphere", "aws", "azure", "cni", "ipPools")
INFRA_PREFIXES = {"VSPHERE_": "vsphere", "AWS_": "aws", "AZURE_": "azure"}


# --- the flat file -----------------------------------------------------------------------------

@dataclass
class _Flat:
    """The flat config's values and where each one is written."""

    label: str
    lines: list[str]
    values: dict[str, Any]
    positions: Positions

    def key_at(self, key: str) -> Location:
        return self.positions.keys.get((key,), Location(self.label, 1, 1))

    def value_at(self, key: str) -> Location:
        return self.positions.values.get((key,), self.key_at(key))

    def origin(self, key: str) -> Origin:
        return Origin(self.key_at(key), self.value_at(key))

    def raw(self, key: str) -> str:
        """The plain scalar as written: YAML read ``OS_VERSION: 20.10`` as the number 20.1, but
        the tanzu CLI means the text "20.10"."""
        where = self.value_at(key)
        text = self.lines[where.line - 1][where.col - 1:] if where.line else ""
        return text.split(" #", 1)[0].strip() or str(self.values[key])


def _read_flat(flat: Path) -> _Flat:
    label = str(flat)
    try:
        text = flat.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError([Problem(Location(label), "unreadable", f"cannot read {label}: {exc}")]
                         ) from None
    doc, positions = load_positioned(text, label)
    if not isinstance(doc, dict):
        raise FleetError([Problem(Location(label, 1, 1), "not-a-mapping",
                                  "a flat cluster config is a mapping of VARIABLE: value",
                                  "start the file with lines such as 'CLUSTER_NAME: web'")])
    return _Flat(label, text.splitlines(), doc, positions)


def _empty(value: Any) -> bool:
    """An empty value is unset for the tanzu CLI (``VSPHERE_TEMPLATE:`` or ``""``)."""
    return value is None or (isinstance(value, str) and not value.strip())




_MISSING = object()


def _get(data: Any, path: Path_, missing: Any = None) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return missing
    return data


def _put(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


# --- one import --------------------------------------------------------------------------------

@dataclass
class _Import:
    flat: _Flat
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
        _put(self.data, path, value)
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
        return key in self.flat.values and not _empty(self.flat.values[key])

    # -- the merged view --

    def merged(self, data: dict[str, Any] | None = None) -> ClusterInventory:
        mine = data if data is not None else self.data
        layers = [*self.chain, (mine, {p: o for p, o in self.origins.items() if _has(mine, p)})]
        merged, origins = merge_layers(layers)
        origins[("name",)] = self.origins[("name",)]
        return ClusterInventory(self.flat.label, {"name": self.name, **merged}, origins)


def _has(data: dict[str, Any], path: Path_) -> bool:
    return _get(data, path, _MISSING) is not _MISSING


def import_tkg(root: Path, flat: Path, pool: Path | None, to: Path) -> Imported:
    """The inventory file for one flat cluster config; raises FleetError (exit 2) with every
    located problem. Writes nothing."""
    root = root.resolve()
    source = _read_flat(flat)
    name, target, target_rel, chain = _target(root, source, to)
    job = _Import(source, name, target_rel, chain)
    job.note(("name",), name, "CLUSTER_NAME")  # validated as the file name, never written
    infra = _classify(job)
    _variables(job, infra)
    if infra == "aws":
        _aws_subnets(job)
    _workers(job, infra)
    if pool is not None:
        _pool(job, pool)
    _required(job, infra, to, pool is not None)
    if (root / target_rel).exists():
        job.error(Location(target_rel), "file-exists", f"{target_rel} already exists",
                  "import into another folder with --to, or remove the file first")
    if has_errors(job.problems):
        raise FleetError(job.problems)
    _validate(job)
    if has_errors(job.problems):
        raise FleetError(job.problems)
    data = _minimise(job)
    reported = sorted(job.problems, key=Problem.sort_key)
    return Imported(target, _text(source, data, reported), reported)


def _target(root: Path, source: _Flat, to: Path) -> tuple[str, Path, str, list[Layer]]:
    """The cluster name, its file, that file relative to root and the defaults chain above it."""
    if _empty(source.values.get("CLUSTER_NAME")):
        raise FleetError([Problem(source.key_at("CLUSTER_NAME") if "CLUSTER_NAME" in source.values
                                  else Location(source.label, 1, 1), "missing-key",
                                  "CLUSTER_NAME is required: it names the cluster and its file",
                                  "add 'CLUSTER_NAME: <name>' to the flat config")])
    value = source.values["CLUSTER_NAME"]
    name = value.strip() if isinstance(value, str) else source.raw("CLUSTER_NAME")
    target = to / f"{name}.yaml"
    absolute = target.resolve()
    base = root / CLUSTERS_DIR
    if not absolute.is_relative_to(base):
        raise FleetError([Problem(Location(str(to)), "outside-fleet",
                                  f"{to} is not inside {base}: the cluster would not be part of "
                                  "the fleet", f"import into a folder under {base}")])
    loader = InventoryLoader(root)
    layers = [loader.layer(p) for p in loader.defaults_chain(absolute)]
    if loader.problems:
        raise FleetError(loader.problems)
    return name, target, loader.rel(absolute), [layer for layer in layers if layer is not None]


def _chain_value(job: _Import, path: Path_) -> Any:
    merged, _ = merge_layers(job.chain)
    return _get(merged, path)


def _infra_of(key: str) -> str | None:
    """The only infrastructure a variable applies to (None: any)."""
    if key in VARIABLES:
        return VARIABLES[key].infra
    if key in SPECIAL:
        return SPECIAL[key]
    return None


def _classify(job: _Import) -> str | None:
    """Refuse secrets, report what is not imported; returns the cluster's infrastructure."""
    flat = job.flat
    for key, value in flat.values.items():
        if isinstance(value, str) and value.strip().startswith("<encoded:"):
            job.error(flat.key_at(key), "credential",
                      f"{key} holds an encoded secret; fleetgen never stores secrets in an "
                      "inventory", ENCODED_HINT)
        elif key in CREDENTIALS and not _empty(value):
            job.error(flat.key_at(key), "credential",
                      f"{key} is a credential; fleetgen never stores secrets in an inventory",
                      CREDENTIALS[key])
    infra = _infrastructure(job)
    for key, value in flat.values.items():
        if key in CREDENTIALS or _empty(value) or (isinstance(value, str)
                                                    and value.strip().startswith("<encoded:")):
            continue
        if not isinstance(key, str) or key not in KNOWN:
            _report_unknown(job, str(key))
        elif (only := _infra_of(key)) is not None and infra is not None and only != infra:
            job.report(key, "not-imported", f"it applies to {INFRA_NAMES[only]} clusters, this one "
                       f"is {INFRA_NAMES[infra]}")
    return infra


def _report_unknown(job: _Import, key: str) -> None:
    if key in NOT_IMPORTED:
        job.report(key, "not-imported", NOT_IMPORTED[key])
        return
    for prefix, reason in NOT_IMPORTED_PREFIXES:
        if key.startswith(prefix):
            job.report(key, "not-imported", reason)
            return
    match = difflib.get_close_matches(key, KNOWN, n=1, cutoff=0.8)
    job.report(key, "unknown-variable", "fleetgen does not model this variable",
               f"did you mean '{match[0]}'?" if match else
               "set it another way (an overlay, or the management cluster) if it is still needed")


def _infrastructure(job: _Import) -> str | None:
    """INFRASTRUCTURE_PROVIDER, else the inherited value, else the only family of variables."""
    flat = job.flat
    if job.given("INFRASTRUCTURE_PROVIDER"):
        value = job.text("INFRASTRUCTURE_PROVIDER")
        if value not in INFRA_NAMES:
            job.error(flat.value_at("INFRASTRUCTURE_PROVIDER"), "invalid-value",
                      f"INFRASTRUCTURE_PROVIDER '{value}' is not supported",
                      f"fleetgen imports {', '.join(INFRA_NAMES)} clusters")
            return None
        return value
    inherited = _chain_value(job, ("infrastructure",))
    if isinstance(inherited, str) and inherited in INFRA_NAMES:
        return inherited
    seen = {infra for key in flat.values if isinstance(key, str)
            for prefix, infra in INFRA_PREFIXES.items() if key.startswith(prefix)}
    if len(seen) == 1:
        infra = seen.pop()
        job.data["infrastructure"] = infra  # not from one variable: stated, so it is never lost
        return infra
    job.error(Location(flat.label, 1, 1), "missing-key",
              "INFRASTRUCTURE_PROVIDER is not set and cannot be told from the variables",
              "add 'INFRASTRUCTURE_PROVIDER: vsphere' (or aws, azure)")
    return None


def _variables(job: _Import, infra: str | None) -> None:
    for key, var in VARIABLES.items():
        if not job.given(key) or (var.infra is not None and var.infra != infra):
            continue
        if key in ("AWS_VPC_CIDR",) and job.given("AWS_VPC_ID"):
            job.report(key, "not-imported", "with AWS_VPC_ID the existing VPC's own CIDR applies")
            continue
        value = job.value(key, var.kind)
        if value is not None:
            job.put(var.path, value, key)
    if infra == "vsphere" and job.given(POOL_KIND):
        kind = job.text(POOL_KIND)
        if kind not in POOL_KINDS:
            job.error(job.flat.value_at(POOL_KIND), "invalid-value",
                      f"NODE_IPAM_IP_POOL_KIND '{kind}' is not a pool kind",
                      f"use {' or '.join(POOL_KINDS)}")
        elif not job.given("NODE_IPAM_IP_POOL_NAME"):
            job.report(POOL_KIND, "not-imported", "there is no NODE_IPAM_IP_POOL_NAME")
        else:
            job.used.add(POOL_KIND)  # checked against the pool once it is known


def _aws_subnets(job: _Import) -> None:
    """AWS_NODE_AZ, AWS_PRIVATE_NODE_CIDR … with suffixes "", _1, _2 → ``aws.subnets[0..2]``."""
    present = {key: where for key, where in AWS_SUBNET_VARS.items() if job.given(key)}
    if not present:
        return
    count = max(index for index, _ in present.values()) + 1
    subnets: list[dict[str, Any]] = [{} for _ in range(count)]
    job.put(("aws", "subnets"), subnets, min(present, key=lambda k: job.flat.key_at(k)))
    for key, (index, sub) in AWS_SUBNET_VARS.items():
        if key not in present:
            continue
        side_id = f"AWS_{sub[0].upper()}_SUBNET_ID{_suffix(index)}" if sub[-1] == "cidr" else None
        if side_id is not None and side_id in present:
            job.report(key, "not-imported", f"with {side_id} the existing subnet's own CIDR applies")
            continue
        job.put(("aws", "subnets", index, *sub), job.text(key), key)
    for index in range(count):
        az = f"AWS_NODE_AZ{_suffix(index)}"
        if "az" not in subnets[index]:
            first = [k for k, (i, _) in present.items() if i == index]
            where = job.flat.key_at(first[0]) if first else Location(job.flat.label, 1, 1)
            job.error(where, "missing-key", f"{az} is required: it names the availability zone "
                      f"of subnet {index}", f"add '{az}: <zone>' to the flat config")


def _distribute(total: int, count: int) -> list[int]:
    """How the tanzu CLI spreads WORKER_MACHINE_COUNT over the machine deployments of a
    multi-AZ cluster: evenly, the remainder going to the first ones."""
    share, extra = divmod(total, count)
    return [share + (1 if index < extra else 0) for index in range(count)]


def _workers(job: _Import, infra: str | None) -> None:
    """WORKER_MACHINE_COUNT(_0/_1/_2), VSPHERE_AZ_0/1/2 or the AWS AZs, and the worker machine
    size → ``workers``. Nothing is written when the flat config says nothing about workers."""
    if infra is None:
        return
    flat = job.flat
    counts = {i: job.value(k, "int") for i, k in enumerate(WORKER_COUNTS) if job.given(k)}
    total = job.value(WORKER_COUNT, "int") if job.given(WORKER_COUNT) else None
    zones: dict[int, str] = {}
    if infra == "vsphere":
        zones = {i: job.text(k) for i, k in enumerate(VSPHERE_ZONES) if job.given(k)}
    defaults = DEFAULT_MACHINE[infra]["worker"]
    machine: dict[str, Any] = {}
    for key, (only, name, kind) in WORKER_MACHINE.items():
        if only == infra and job.given(key):
            value = job.value(key, kind)
            job.used.add(key)
            # Equal to the ClusterClass default: a machine override would only repeat it.
            if value is not None and value != defaults[name]:
                machine[name] = value
    types_by_md = {i: job.text(k) for k, i in AWS_MD_MACHINE_TYPES.items()
                   if infra == "aws" and job.given(k)}
    if not (counts or total is not None or zones or machine or types_by_md):
        return
    merged = job.merged().data
    plan = str(merged.get("plan")) if merged.get("plan") in PLAN_MACHINE_COUNT else "dev"
    subnets = _get(merged, ("aws", "subnets")) if infra == "aws" else None
    aws_zones = [s.get("az") for s in subnets if isinstance(s, dict)] if isinstance(
        subnets, list) else []
    if counts:
        size = max(counts) + 1
        for index in range(size):
            if index not in counts:
                job.error(flat.key_at(WORKER_COUNTS[max(counts)]), "missing-key",
                          f"{WORKER_COUNTS[index]} is required with {WORKER_COUNTS[max(counts)]}",
                          "WORKER_MACHINE_COUNT_0 … _2 count the workers of md-0 … md-2")
    elif zones:
        size = max(zones) + 1
    elif infra == "aws" and plan == "prod" and aws_zones:
        size = len(aws_zones)
    else:
        size = 1
    if counts:
        replicas = [counts.get(i) or 0 for i in range(size)]
        if total is not None and total != sum(replicas):
            job.report(WORKER_COUNT, "not-imported", f"{', '.join(WORKER_COUNTS[:size])} set the "
                       f"workers ({sum(replicas)} in all)")
        elif total is not None:
            job.used.add(WORKER_COUNT)
    else:
        replicas = _distribute(total if total is not None else PLAN_MACHINE_COUNT[plan], size)
    for key, index in AWS_MD_MACHINE_TYPES.items():
        if index in types_by_md and index >= size:
            job.report(key, "not-imported", f"the cluster has no md-{index}")
    workers: list[dict[str, Any]] = []
    for index in range(size):
        md: dict[str, Any] = {"name": f"md-{index}", "replicas": replicas[index]}
        zone = zones.get(index) if infra == "vsphere" else (
            aws_zones[index] if index < len(aws_zones) else None)
        if zone:
            md["failureDomain"] = zone
        size_here = dict(machine)
        if index in types_by_md:
            if types_by_md[index] != defaults["instanceType"]:
                size_here["instanceType"] = types_by_md[index]
            else:
                size_here.pop("instanceType", None)
        if size_here:
            md["machine"] = size_here
        workers.append(md)
    count_key = (WORKER_COUNTS[min(counts)] if counts else WORKER_COUNT if total is not None
                 else VSPHERE_ZONES[min(zones)] if zones else None)
    anchor = count_key or next(k for k in [*WORKER_MACHINE, *AWS_MD_MACHINE_TYPES]
                               if job.given(k) and _infra_of(k) == infra)
    job.put(("workers",), workers, anchor)
    for index in range(size):
        replicas_key = WORKER_COUNTS[index] if index in counts else count_key
        if replicas_key is not None:
            job.note(("workers", index, "replicas"), replicas[index], replicas_key)
            job.origins[("workers", index)] = flat.origin(replicas_key)
        if index in zones:
            job.note(("workers", index, "failureDomain"), zones[index], VSPHERE_ZONES[index])
        for name, value in workers[index].get("machine", {}).items():
            size_key = next((k for k, i in AWS_MD_MACHINE_TYPES.items() if i == index
                             and name == "instanceType" and index in types_by_md), None) or next(
                k for k, (only, n, _) in WORKER_MACHINE.items() if only == infra and n == name)
            job.note(("workers", index, "machine", name), value, size_key)
    for key in AWS_MD_MACHINE_TYPES:
        if key in flat.values and AWS_MD_MACHINE_TYPES[key] < size:
            job.used.add(key)


def _pool(job: _Import, pool: Path) -> None:
    """The upstream pool object → ``ipPools.<name>``; it must be the pool the flat config names."""
    label = str(pool)
    try:
        text = pool.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        job.error(Location(label), "unreadable", f"cannot read {label}: {exc}")
        return
    try:
        docs = load_positioned_all(text, label)
    except FleetError as exc:
        job.problems.extend(exc.problems)
        return
    pools = [(doc, pos) for doc, pos in docs if isinstance(doc, dict) and doc.get("kind") in POOL_KINDS]
    if not pools:
        job.error(Location(label, 1, 1), "invalid-value",
                  f"{label} holds no InClusterIPPool or GlobalInClusterIPPool")
        return
    flat = job.flat
    wanted = job.text("NODE_IPAM_IP_POOL_NAME") if job.given("NODE_IPAM_IP_POOL_NAME") else None
    if wanted is None:
        job.error(pools[0][1].values.get(("metadata", "name"), Location(label, 1, 1)),
                  "pool-mismatch", f"--pool was given, but {flat.label} sets no "
                  "NODE_IPAM_IP_POOL_NAME", "add NODE_IPAM_IP_POOL_NAME, or import without --pool")
        return
    chosen = [(d, p) for d, p in pools if str((d.get("metadata") or {}).get("name")) == wanted]
    if not chosen:
        doc, pos = pools[0]
        found = (doc.get("metadata") or {}).get("name")
        job.error(flat.value_at("NODE_IPAM_IP_POOL_NAME"), "pool-mismatch",
                  f"NODE_IPAM_IP_POOL_NAME is '{wanted}', but {label} declares {doc['kind']} "
                  f"'{found}' ({pos.values.get(('metadata', 'name'), Location(label))})",
                  "pass the pool this cluster uses, or correct NODE_IPAM_IP_POOL_NAME")
        return
    doc, pos = chosen[0]
    kind = job.text(POOL_KIND) if job.given(POOL_KIND) else "InClusterIPPool"
    if doc["kind"] != kind:
        job.error(flat.value_at(POOL_KIND if job.given(POOL_KIND) else "NODE_IPAM_IP_POOL_NAME"),
                  "pool-mismatch", f"NODE_IPAM_IP_POOL_KIND is {kind}, but pool '{wanted}' in "
                  f"{label} is a {doc['kind']}", f"set NODE_IPAM_IP_POOL_KIND: {doc['kind']}")
        return
    namespace = (doc.get("metadata") or {}).get("namespace")
    cluster_ns = _get(job.merged().data, ("namespace",)) or "default"
    if doc["kind"] == "InClusterIPPool" and namespace and namespace != cluster_ns:
        job.error(pos.values.get(("metadata", "namespace"), Location(label, 1, 1)),
                  "pool-namespace", f"InClusterIPPool '{wanted}' is in namespace '{namespace}', "
                  f"the cluster in '{cluster_ns}'",
                  "an InClusterIPPool serves its own namespace only; use a "
                  "GlobalInClusterIPPool to share it")
        return
    try:
        name, entry = inventory_pool(doc)
    except ValueError as exc:
        job.error(pos.values.get(("apiVersion",), Location(label, 1, 1)), "invalid-value",
                  str(exc))
        return
    inherited = _chain_value(job, ("ipPools", name))
    if inherited is not None and inherited != entry:
        job.error(pos.values.get(("metadata", "name"), Location(label, 1, 1)), "pool-conflict",
                  f"pool '{name}' in {label} differs from the one a _defaults.yaml above "
                  f"{job.target_rel} declares", "import without --pool to use the declared pool")
        return
    path: Path_ = ("ipPools", name)
    _put(job.data, path, entry)
    where = pos.keys.get(("metadata", "name"), Location(label, 1, 1))
    job.origins[("ipPools",)] = job.origins[path] = Origin(where, where)
    spec_keys = {"kind": ("kind",), "addresses": ("spec", "addresses"), "prefix": ("spec", "prefix"),
                 "gateway": ("spec", "gateway"), "excludedAddresses": ("spec", "excludedAddresses"),
                 "allocateReservedIPAddresses": ("spec", "allocateReservedIPAddresses")}
    # v1alpha1 pools have no addresses/prefix: point at start/end/subnet, which made them.
    fallbacks = {"addresses": (("spec", "start"), ("spec", "subnet")),
                 "prefix": (("spec", "subnet"),)}
    for key in entry:
        candidates = [spec_keys[key], *fallbacks.get(key, ())]
        loc = next((pos.values[c] for c in candidates if c in pos.values), where)
        job.origins[(*path, key)] = Origin(pos.keys.get(candidates[0], loc), loc)
        if isinstance(entry[key], list):
            for index in range(len(entry[key])):
                item = pos.values.get((*spec_keys[key], index), loc)
                job.origins[(*path, key, index)] = Origin(item, item)


def _required(job: _Import, infra: str | None, to: Path, pool_given: bool) -> None:
    """What the flat config cannot say or did not say, checked on the merged cluster so the
    message names the variable (and the _defaults.yaml) to set."""
    merged = job.merged().data
    start = Location(job.flat.label, 1, 1)
    defaults = (to / DEFAULTS_FILE).as_posix()
    if not merged.get("managementCluster"):
        job.error(start, "missing-key", "managementCluster is not set: a flat config does not "
                  "name the management cluster", f"add 'managementCluster: <name>' to {defaults}")
    if not _get(merged, ("kubernetes", "version")):
        job.error(start, "missing-key", "kubernetes.version is not set: the flat config has no "
                  "KUBERNETES_VERSION", f"add 'kubernetes: {{version: <TKr version>}}' to "
                  f"{defaults}, or KUBERNETES_VERSION to the flat config")
    if infra is None:
        return
    required = {key: var.path for key, var in VARIABLES.items() if var.infra == infra
                and var.path[-1] in REQUIRED[infra]}
    for key, path in required.items():
        if _get(merged, path) in (None, ""):
            job.error(start, "missing-key", f"{key} is required for {INFRA_NAMES[infra]} clusters",
                      f"add it to the flat config, or {path_text(path)} to {defaults}")
    if infra == "aws" and not _get(merged, ("aws", "subnets")):
        job.error(start, "missing-key", "AWS_NODE_AZ is required for AWS clusters",
                  "add it to the flat config, or aws.subnets to " + defaults)
    pool = _get(merged, ("network", "nodes", "ipPool"))
    if not pool_given and isinstance(pool, str) and _get(merged, ("ipPools", pool)) is None:
        job.error(job.flat.value_at("NODE_IPAM_IP_POOL_NAME"), "unknown-pool",
                  f"pool '{pool}' is not declared in any _defaults.yaml above {job.target_rel}",
                  "pass its InClusterIPPool or GlobalInClusterIPPool object with --pool")


REQUIRED = {"vsphere": ("server", "datacenter", "datastore", "folder", "resourcePool"),
            "aws": ("region", "sshKeyName"),
            "azure": ("location", "subscriptionID", "sshPublicKey")}


# --- validation: the pipeline's own checks ------------------------------------------------------

def _validate(job: _Import) -> None:
    inv = job.merged()
    spec, problems = to_spec(inv)
    if spec is not None:
        cluster = Cluster(spec, inv)
        problems += [p for rule in CLUSTER_RULES for p in rule(cluster)]
        pools, found = resolve_pools([cluster])
        problems += found + check_pools([cluster], pools)
        problems += _consistent(job, cluster)
    job.problems += [_named(job, p) for p in problems]


def _consistent(job: _Import, cluster: Cluster) -> list[Problem]:
    """Variables fleetgen derives or checks rather than stores."""
    spec, flat, out = cluster.spec, job.flat, []
    name = spec.pool_ref
    if job.given(POOL_KIND) and name is not None:
        kind = job.text(POOL_KIND)
        pool = spec.pools_in_scope().get(name)
        if pool is not None and pool.kind != kind:
            out.append(Problem(flat.value_at(POOL_KIND), "pool-mismatch",
                               f"NODE_IPAM_IP_POOL_KIND is {kind}, but pool '{name}' is a "
                               f"{pool.kind}", f"set NODE_IPAM_IP_POOL_KIND: {pool.kind}"))
    if job.given(ENDPOINTSLICE):
        wanted = job.value(ENDPOINTSLICE, "bool")
        derived = spec.network.dual_stack and spec.cni == "antrea"
        if wanted is True and derived:
            job.used.add(ENDPOINTSLICE)
        elif wanted is not None:
            reason = ("fleetgen sets it to true for dual-stack Antrea clusters" if derived else
                      "fleetgen sets it only for dual-stack Antrea clusters (Antrea's default is "
                      "true)")
            out.append(Problem(flat.key_at(ENDPOINTSLICE), "not-imported",
                               f"{ENDPOINTSLICE} not imported: {reason}", "", "warning"))
    return out


def _named(job: _Import, problem: Problem) -> Problem:
    """Name the flat variable in a problem located at its value: people edit the flat file, so
    ``controlPlane.replicas: …`` at CONTROL_PLANE_MACHINE_COUNT's value becomes
    ``CONTROL_PLANE_MACHINE_COUNT: …``."""
    if problem.location.path != job.flat.label:
        return problem
    at_value = {job.flat.value_at(key): key for key in sorted(job.used) if key in job.flat.values}
    key = at_value.get(problem.location)
    if key is None:
        return problem
    message = problem.message
    for path in sorted((p for p, k in job.sources.items() if k == key), key=len, reverse=True):
        message = message.removeprefix(f"{path_text(path)}: ")
    return replace(problem, message=f"{key}: {message}")


# --- minimising: keep only what changes the cluster ---------------------------------------------

def _fingerprint(job: _Import, data: dict[str, Any]) -> Any:
    """What the renderer sees of the cluster (every default and derived value resolved), or None
    when ``data`` no longer makes a valid cluster."""
    inv = job.merged(data)
    spec, problems = to_spec(inv)
    if spec is None or (spec.pool_ref is not None and spec.pool_ref not in spec.pools_in_scope()):
        return None
    pools = {name: pool.model_dump() for name, pool in sorted(spec.pools_in_scope().items())}
    return cluster_view(Cluster(spec, inv)), pools


def _leaves(value: Any, path: Path_) -> list[Path_]:
    """Paths of every scalar and list (lists replace as a whole when merged)."""
    if isinstance(value, dict) and value:
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))]
    return [path]


def _without(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    """A copy of ``data`` without ``path``, and without the mappings that leaves empty."""
    if len(path) == 1:
        return {k: v for k, v in data.items() if k != path[0]}
    child = _without(data[str(path[0])], path[1:])
    return {k: (child if k == path[0] else v) for k, v in data.items() if k != path[0] or child}


def _minimise(job: _Import) -> dict[str, Any]:
    """Drop each value whose removal leaves the rendered cluster unchanged: it is inherited from
    a _defaults.yaml or is the model's (or the ClusterClass's) default anyway."""
    data = job.data
    wanted = _fingerprint(job, data)
    for leaf in _leaves(data, ()):
        candidate = _without(data, leaf)
        if wanted is not None and _fingerprint(job, candidate) == wanted:
            data = candidate
    return _ordered(data)


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside a field's annotation, and whether it is a mapping of them."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return _model_of(typing.get_args(annotation)[1])[0], True
    if origin in (list, typing.Annotated):
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found[0] is not None:
                return found
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    """Keys in the README's order at the top, in the model's field order below."""
    rank = {key: index for index, key in enumerate(TOP_ORDER)}
    top = dict(sorted(data.items(), key=lambda item: rank.get(item[0], len(rank))))
    return _in_model_order(top, ClusterSpec, False)  # type: ignore[no-any-return]


def _in_model_order(value: Any, model: type[BaseModel] | None, mapping: bool) -> Any:
    if isinstance(value, list):
        return [_in_model_order(item, model, False) for item in value]
    if not isinstance(value, dict) or model is None:
        return value
    if mapping:
        return {key: _in_model_order(item, model, False) for key, item in value.items()}
    fields = {(info.alias or name): info.annotation for name, info in model.model_fields.items()}
    order = list(fields)
    keys = value if model is ClusterSpec else sorted(
        value, key=lambda k: order.index(k) if k in order else len(order))
    return {key: _in_model_order(value[key], *_model_of(fields.get(key))) for key in keys}


# --- the file -----------------------------------------------------------------------------------

def _text(source: _Flat, data: dict[str, Any], reported: list[Problem]) -> str:
    """The inventory file: where it came from, what was not imported, then the values."""
    lines = [f"# Imported from the TKG flat config {Path(source.label).name} by fleetgen import tkg."]
    skipped = [p for p in reported if p.code in ("not-imported", "unknown-variable")]
    if skipped:
        lines.append("# Not imported (the flat config's value is not part of this inventory):")
        lines += [f"#   line {p.location.line}: {p.message}" for p in skipped]
    body = dump(data) if data else ""
    return "\n".join(lines) + "\n" + body

