"""``diff --live``: what a sync of the render would change on the live management clusters.

For a management cluster with an export, each object of a kind the export holds whole (with its
``spec``) is compared with the live object instead of the committed ``rendered/`` one, the way
Flux (server-side apply) and Argo CD (apply with a merge patch) change it:

- A map merges: a field the render does not set stays as it is live, so it is no change. This
  covers what the server and the controllers own: ``status``, ``metadata.managedFields``,
  ``resourceVersion``, ``uid``, ``generation``, ``creationTimestamp``, the refs the topology
  controller sets (``spec.infrastructureRef``, ``spec.controlPlaneRef``,
  ``spec.controlPlaneEndpoint``), ``spec.paused`` and the pause annotation.
- A list is atomic (Cluster API v1.5 marks none of the Cluster's lists as a map): the render's
  list replaces the live one whole, so a live variable or machine deployment the render lacks is
  removed (``adoption-removes``).
- What admission does to the applied object is applied to the render before comparing, and each
  such effect that the live object shows is reported as an effect, not a change:
  - the TKr resolver webhook adds ``TKR_DATA`` (cluster-wide and per machine deployment), sets
    ``spec.topology.version`` to the TKr's Kubernetes version and the ``run.tanzu.vmware.com/tkr``
    label (tanzu-framework release-0.29 ``tkr/webhook/cluster/tkr-resolver/cluster/cluster.go``
    :222-259);
  - Cluster API's defaulting webhook adds every ClusterClass variable with a top-level default and
    fills the defaults of absent properties (read from the ClusterClass in the export: the class
    the management cluster really runs);
  - the cluster-pause webhook sets ``spec.paused`` and the ``tkg.tanzu.vmware.com/paused``
    annotation during an add-on upgrade (``addons/webhooks/cluster_pause_webhook.go``:93-100).
A live object with no counterpart in the render or in ``rendered/`` is listed, never removed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.ipam.plan import Live
from generator.problems import Problem
from generator.review.diff import Item, as_list, as_map, dig, items_of
from generator.review.tree import changed_only, unchanged

TKR_DATA = "TKR_DATA"
TKR_LABEL = "run.tanzu.vmware.com/tkr"
PAUSE_ANNOTATION = "tkg.tanzu.vmware.com/paused"
SERVER_OWNED = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
                "selfLink")
_TKR_VERSION = re.compile(r"^(v\d+\.\d+\.\d+\+vmware\.\d+)-tkg\.\d+$")
_CAPI = "cluster.x-k8s.io"

EFFECTS = {
    "tkr-data": "TKR_DATA, added by the TKr resolver webhook",
    "tkr-version": "the Kubernetes version of the TKr, set by the TKr resolver webhook",
    "capi-default": "a ClusterClass default, added by Cluster API's defaulting webhook",
    "tkg-metadata": "set by TKG's webhooks (TKr label, pause)",
    "applier-directive": "an instruction to Flux or Argo CD (prune and delete protection) the "
                         "first sync adds",
}
# Annotations and labels that instruct the appliers rather than describe the object: that the
# first sync adds them changes nothing about the cluster.
APPLIER_PREFIXES = ("kustomize.toolkit.fluxcd.io/", "argocd.argoproj.io/")


@dataclass(frozen=True)
class Effect:
    """A live value admission puts there: shown, never a change."""

    subject: str         # "Cluster dev/web"
    cluster: str | None  # mgmt/ns/name
    kind: str            # a key of EFFECTS
    path: str            # where in the object

    @property
    def message(self) -> str:
        return f"{self.subject}: {self.path}: {EFFECTS[self.kind]}"


@dataclass
class LiveView:
    """Both sides of a live comparison, as ``compare_items`` takes them."""

    old: dict[str, Item]
    new: dict[str, Item]
    live: frozenset[str] = frozenset()
    removes: dict[str, list[str]] = field(default_factory=dict)  # by key: see removals()
    unmanaged: list[str] = field(default_factory=list)  # "mgmt: Kind ns/name"
    effects: list[Effect] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _group(api_version: Any) -> str:
    return str(api_version or "").rpartition("/")[0]


def _id(doc: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = as_map(doc.get("metadata"))
    return (_group(doc.get("apiVersion")), str(doc.get("kind")), str(meta.get("namespace") or ""),
            str(meta.get("name")))


def live_view(old_files: Mapping[str, bytes], new_files: dict[str, bytes],
              exports: dict[str, Live]) -> LiveView:
    """The old and new items of a review where ``exports`` (by management cluster) stand in
    for ``rendered/``; the other files compare as ``compare`` compares them."""
    def under(path: str) -> bool:
        return path.split("/", 1)[0] in exports

    same = {p for p in unchanged(old_files, new_files) if not under(p)}
    view = LiveView(items_of(changed_only(old_files, same)),
                    items_of({p: d for p, d in new_files.items() if p not in same}))
    live_keys: set[str] = set()
    for mgmt, export in sorted(exports.items()):
        covered = {(g, k) for g, k, _ns, _n in export.objects}
        classes = {(ns, name): obj for (g, k, ns, name), obj in export.objects.items()
                   if g == _CAPI and k == "ClusterClass"}
        seen: set[tuple[str, str, str, str]] = set()
        missing: set[tuple[str, str]] = set()
        for key in sorted(set(view.old) | set(view.new)):
            item = view.new.get(key) or view.old[key]
            if item.ref is None or not item.file.startswith(f"{mgmt}/") or \
                    not isinstance(item.content, dict):
                continue
            ident = _id(item.content)
            if ident[:2] not in covered:
                continue  # the export does not hold this kind: rendered/ stays the old side
            seen.add(ident)
            live = export.objects.get(ident)
            desired = view.new.get(key)
            if desired is not None:
                if live is not None and ident[:2] == (_CAPI, "Cluster"):
                    view.removes[key] = removals(
                        live, desired.content, classes.get((ident[2], _class_of(live))))
                admitted = _admit(desired.content, live, classes, missing, view, item.title,
                                  item.file)
                view.new[key] = Item(key, desired.file, desired.title, admitted, desired.ref)
            if live is None:
                view.old.pop(key, None)  # not live: a sync creates it (or has nothing to delete)
                continue
            target = view.new[key].content if desired is not None else None
            old = _applied(_normalized(live), target)
            for path in _directives(old, target):
                view.effects.append(Effect(item.title, "/".join(item.file.split("/")[:3]),
                                           "applier-directive", path))
            view.old[key] = Item(key, item.file, item.title, old, item.ref)
            live_keys.add(key)
        for ns, name in sorted(missing):
            view.warnings.append(Problem(
                export.location, "live-export",
                f"the export has no ClusterClass {ns}/{name}: values Cluster API defaults from it "
                "cannot be told from real differences", "add clusterclasses to the export: "
                "kubectl get clusterclasses.cluster.x-k8s.io,clusters.cluster.x-k8s.io,... -A -o "
                "yaml", "warning"))
        rendered_kinds = {ident[:2] for ident in seen}
        view.unmanaged += [f"{mgmt}: {k} {ns + '/' if ns else ''}{n}"
                           for (g, k, ns, n) in sorted(export.objects)
                           if (g, k) in rendered_kinds and (g, k, ns, n) not in seen]
    view.live = frozenset(live_keys)
    return view


def _class_of(doc: dict[str, Any]) -> str:
    return str(_topology(doc).get("class") or "")


def _topology(doc: Any) -> dict[str, Any]:
    return as_map(dig(doc, "spec", "topology"))


def _names(items: Any) -> dict[str, Any]:
    """A list of named maps by name."""
    return {str(i["name"]): i for i in as_list(items) if isinstance(i, dict) and "name" in i}


def _schemas(clusterclass: Any) -> dict[str, dict[str, Any]]:
    """A ClusterClass's variable schemas by name."""
    return {str(d.get("name")): as_map(dig(d, "schema", "openAPIV3Schema"))
            for d in as_list(dig(clusterclass, "spec", "variables")) if isinstance(d, dict)}


def removals(live: dict[str, Any], desired: dict[str, Any],
             clusterclass: dict[str, Any] | None) -> list[str]:
    """What applying ``desired`` over the ``live`` Cluster removes. Its topology lists are
    atomic, so a variable, machine deployment or override the render lacks is gone; TKR_DATA
    excepted (the TKr resolver adds it back), and a variable Cluster API puts back with the
    ClusterClass default it already has (without the class, nothing counts as defaulted)."""
    defaults = _schemas(clusterclass)
    old, new = _topology(live), _topology(desired)
    mine = _names(new.get("variables"))
    out = []
    for name, variable in _names(old.get("variables")).items():
        if name in mine or name == TKR_DATA:
            continue
        schema = defaults.get(name, {})
        if "default" not in schema:
            out.append(f"variable {name}")
        elif variable.get("value") != schema["default"]:
            out.append(f"variable {name} (reset to the ClusterClass default)")
    old_mds = _names(dig(old, "workers", "machineDeployments"))
    new_mds = _names(dig(new, "workers", "machineDeployments"))
    for name, md in old_mds.items():
        if name not in new_mds:
            out.append(f"machine deployment {name} with its machines")
            continue
        kept = _names(dig(new_mds[name], "variables", "overrides"))
        out += [f"variable override {n} of machine deployment {name}"
                for n in _names(dig(md, "variables", "overrides"))
                if n not in kept and n != TKR_DATA]
    return out


def _directives(old: Any, desired: Any) -> list[str]:
    """Give ``old`` (the live side) the applier directives of ``desired``; their paths."""
    found = []
    for part in ("annotations", "labels"):
        wanted = {k: v for k, v in as_map(dig(desired, "metadata", part)).items()
                  if str(k).startswith(APPLIER_PREFIXES)}
        if not wanted or not isinstance(old, dict):
            continue
        meta = old.setdefault("metadata", {})
        if not isinstance(meta, dict):
            continue
        have = meta.setdefault(part, {})
        if not isinstance(have, dict):
            continue
        for key, value in wanted.items():
            if have.get(key) != value:
                have[key] = value
                found.append(f"metadata.{part}.{key}")
    return found


def _normalized(live: dict[str, Any]) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in live.items() if k != "status"}
    meta = out.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = {k: v for k, v in meta.items() if k not in SERVER_OWNED}
    return out


def _applied(live: Any, desired: Any) -> Any:
    """The live object as far as applying ``desired`` reaches: maps keep only the keys the
    render sets (the rest stays as it is, no change); lists and scalars are replaced whole.
    ``desired`` None (the object goes): the live object whole."""
    if desired is None:
        return live
    if isinstance(live, dict) and isinstance(desired, dict):
        return {k: _applied(v, desired[k]) for k, v in live.items() if k in desired}
    return live


def _variables(topology: dict[str, Any]) -> list[Any]:
    return as_list(topology.get("variables"))


def _named(items: Any, name: str) -> dict[str, Any] | None:
    return next((v for v in as_list(items) if isinstance(v, dict) and v.get("name") == name),
                None)


def _admit(desired: dict[str, Any], live: dict[str, Any] | None,
           classes: dict[tuple[str, str], dict[str, Any]], missing: set[tuple[str, str]],
           view: LiveView, title: str, file: str) -> dict[str, Any]:
    """``desired`` as admission leaves it, where the live object shows admission's hand."""
    if _id(desired)[:2] != (_CAPI, "Cluster"):
        return desired
    out = copy.deepcopy(desired)
    cluster = "/".join(file.split("/")[:3])

    def effect(kind: str, path: str) -> None:
        view.effects.append(Effect(title, cluster, kind, path))

    topology = dig(out, "spec", "topology")
    live_topology = _topology(live)
    if not isinstance(topology, dict):
        return out
    name = str(topology.get("class") or "")
    namespace = str(dig(out, "metadata", "namespace") or "")
    clusterclass = classes.get((namespace, name))
    if clusterclass is None and live is not None:
        missing.add((namespace, name))
    elif clusterclass is not None:
        for path in _default_variables(topology, clusterclass):
            if live is not None:
                effect("capi-default", path)
    if live is None:
        return out
    version, live_version = topology.get("version"), live_topology.get("version")
    match = _TKR_VERSION.match(str(version or ""))
    if live_version != version and match and match.group(1) == live_version:
        topology["version"] = live_version
        effect("tkr-version", "spec.topology.version")
    tkr = _named(live_topology.get("variables"), TKR_DATA)
    if tkr is not None and _named(_variables(topology), TKR_DATA) is None:
        topology["variables"] = [*_variables(topology), copy.deepcopy(tkr)]
        effect("tkr-data", f"spec.topology.variables[name={TKR_DATA}]")
    _admit_machine_deployments(topology, live_topology, effect)
    for part, key in (("labels", TKR_LABEL), ("annotations", PAUSE_ANNOTATION)):
        if key in as_map(dig(live, "metadata", part)):
            effect("tkg-metadata", f"metadata.{part}.{key}")
    return out


def _admit_machine_deployments(topology: dict[str, Any], live_topology: dict[str, Any],
                               effect: Any) -> None:
    live_deployments = dig(live_topology, "workers", "machineDeployments")
    for md in as_list(dig(topology, "workers", "machineDeployments")):
        if not isinstance(md, dict):
            continue
        tkr = _named(dig(_named(live_deployments, str(md.get("name"))), "variables", "overrides"),
                     TKR_DATA)
        if tkr is None or not isinstance(md.setdefault("variables", {}), dict):
            continue
        mine = md["variables"].setdefault("overrides", [])
        if isinstance(mine, list) and _named(mine, TKR_DATA) is None:
            mine.append(copy.deepcopy(tkr))
            effect("tkr-data", f"spec.topology.workers.machineDeployments[name={md.get('name')}]"
                               f".variables.overrides[name={TKR_DATA}]")


def _default_variables(topology: dict[str, Any], clusterclass: dict[str, Any]) -> list[str]:
    """Apply the class's variable defaults to ``topology`` as Cluster API's defaulting webhook
    does; the paths it filled."""
    filled: list[str] = []
    variables = _variables(topology)
    schemas = _schemas(clusterclass)
    for name, schema in schemas.items():
        path = f"spec.topology.variables[name={name}]"
        current = _named(variables, name)
        if current is None:
            if "default" in schema:
                variables.append({"name": name, "value": copy.deepcopy(schema["default"])})
                filled.append(path)
            continue
        current["value"] = default_value(current.get("value"), schema, f"{path}.value", filled)
    if variables and "variables" not in topology:
        topology["variables"] = variables
    for md in as_list(dig(topology, "workers", "machineDeployments")):
        for override in as_list(dig(md, "variables", "overrides")):
            name = str(override.get("name")) if isinstance(override, dict) else ""
            if name in schemas:
                override["value"] = default_value(
                    override.get("value"), schemas[name],
                    f"spec.topology.workers.machineDeployments[name={md.get('name')}]"
                    f".variables.overrides[name={name}].value", filled)
    return filled


def default_value(value: Any, schema: dict[str, Any], path: str = "",
                  filled: list[str] | None = None) -> Any:
    """``value`` with the defaults of its absent properties filled in, nested ones included
    (structural defaulting, as the API server and Cluster API apply it)."""
    filled = filled if filled is not None else []
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        out = dict(value)
        for key, sub in schema["properties"].items():
            if key in out:
                out[key] = default_value(out[key], sub, f"{path}.{key}", filled)
            elif isinstance(sub, dict) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
                filled.append(f"{path}.{key}")
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [default_value(item, schema["items"], f"{path}[{index}]", filled)
                for index, item in enumerate(value)]
    return value

