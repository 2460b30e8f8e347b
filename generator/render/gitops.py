"""What Flux and Argo CD see (issue 18, helper G; docs/gitops.md).

- The prune and delete protections every Cluster and node pool carries unless its cluster says
  ``deletionPolicy: delete``: Flux skips an object annotated ``kustomize.toolkit.fluxcd.io/prune:
  disabled`` when it prunes; Argo CD never prunes (``Prune=false``) nor deletes with its
  Application (``Delete=false``) an object whose ``argocd.argoproj.io/sync-options`` say so.
  ``Prune=false`` and not ``Prune=confirm``: a confirmation holds the whole sync operation of the
  management cluster's Application until someone answers it, while ``Prune=false`` only leaves
  the Application OutOfSync and syncs every other change.
- The bootstrap view the Flux and Argo CD templates lay out, per management cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from generator.check.fleet import Cluster, GitOpsTarget, PoolUse
from generator.load.settings import GitOps

FLUX_PRUNE = "kustomize.toolkit.fluxcd.io/prune"
ARGOCD_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
ARGOCD_PROTECTION = ("Prune=false", "Delete=false")
# annotations and labels that direct an applier; not part of what the cluster is
APPLIER_PREFIXES = ("kustomize.toolkit.fluxcd.io/", "argocd.argoproj.io/")


def protected(clusters: Iterable[Cluster]) -> bool:
    """Whether an object of these clusters keeps the protections: unless every one of them is
    being deleted deliberately (a pool shared with a kept cluster stays protected)."""
    return not all(c.spec.deletion_policy == "delete" for c in clusters)


def with_protection(annotations: Mapping[str, str], protect: bool) -> dict[str, str]:
    """``annotations`` plus the protections; a sync option the inventory sets itself (say
    ``Prune=confirm``) wins over ours, and its other options are kept."""
    out = dict(annotations)
    if not protect:
        return out
    out.setdefault(FLUX_PRUNE, "disabled")
    given = [o.strip() for o in out.get(ARGOCD_SYNC_OPTIONS, "").split(",") if o.strip()]
    named = {o.partition("=")[0] for o in given}
    out[ARGOCD_SYNC_OPTIONS] = ",".join(
        [*given, *(o for o in ARGOCD_PROTECTION if o.partition("=")[0] not in named)])
    return out


def cluster_annotations(cluster: Cluster, annotations: Mapping[str, str]) -> dict[str, str]:
    return with_protection(annotations, protected([cluster]))


def pool_annotations(pool: PoolUse) -> dict[str, str]:
    return with_protection({}, protected(pool.users))


def deletion_guard(obj: Mapping[str, Any]) -> dict[str, bool]:
    """For a rendered object (as it was last synced): whether Flux and Argo CD would delete it
    when it leaves git, by its annotations (for the review's ``cluster-removed`` risk)."""
    metadata = obj.get("metadata")
    notes = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    notes = notes if isinstance(notes, Mapping) else {}
    options = {o.strip() for o in str(notes.get(ARGOCD_SYNC_OPTIONS, "")).split(",")}
    return {"flux": notes.get(FLUX_PRUNE) != "disabled",
            "argocd": not options & {"Prune=false", "Prune=confirm"}}


def removal_outcome(obj: Mapping[str, Any]) -> str:
    """What removing this object (its last render, ``obj``) from git does, in words: the message of
    the review's ``cluster-removed`` risk."""
    guard = deletion_guard(obj)
    if all(guard.values()):
        return ("deleted with all its machines: its last render has no prune protection "
                "(deletionPolicy: delete), so Flux and Argo CD prune it")
    if not any(guard.values()):
        return ("not deleted: its last render carries Flux's and Argo CD's prune protections, so "
                "the applier leaves it running, orphaned; to delete it, set deletionPolicy: "
                "delete for one release first (docs/gitops.md)")
    deleting = " and ".join(name for name, deletes in (("Flux", guard["flux"]),
                                                        ("Argo CD", guard["argocd"])) if deletes)
    return (f"deleted with all its machines if {deleting} syncs it: its last render is protected "
            "from the other applier only")


# Flux health of a Cluster, by its v1beta1 Ready condition. Flux evaluates inProgress, failed and
# current in that order and calls an object that none matches InProgress; a field missing from the
# live object makes an expression false (RFC-0009). So a Cluster whose controller has not written
# status yet, or whose Ready is False with severity Info or Warning (provisioning), is in
# progress; only Ready=False with severity Error fails, and only Ready=True is current.
FLUX_CLUSTER_HEALTH = {
    "apiVersion": "cluster.x-k8s.io/v1beta1",
    "kind": "Cluster",
    "failed": "status.conditions.exists(c, c.type == 'Ready' && c.status == 'False' && "
              "has(c.severity) && c.severity == 'Error')",
    "current": "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
}

# Argo CD: the only fields server-side diff cannot settle. The TKr resolver skips a paused Cluster
# (tkr/webhook/cluster/tkr-resolver/cluster/cluster.go:68-69) and the cluster-pause webhook pauses
# it during add-on upgrades (addons/webhooks/cluster_pause_webhook.go:93-95), so the dry run then
# predicts the atomic variables lists without TKR_DATA; RespectIgnoreDifferences keeps the live
# TKR_DATA when Argo CD applies them.
ARGOCD_IGNORE = [{
    "group": "cluster.x-k8s.io",
    "kind": "Cluster",
    "jqPathExpressions": [
        '.spec.topology.variables[] | select(.name == "TKR_DATA")',
        ('.spec.topology.workers.machineDeployments[]?.variables.overrides[]? '
         '| select(.name == "TKR_DATA")'),
    ],
}]


def renders_git_repository(settings: GitOps) -> bool:
    """Flux reads a GitRepository fleetgen renders (``fleetgen-<mgmt>``, one per management
    cluster, from ``repository``) unless ``flux.source`` names one that exists already; with
    neither, the one ``flux bootstrap`` creates (``flux-system``)."""
    return (settings.flux is not None and settings.flux.source is None
            and settings.repository is not None)


def gitops_view(g: GitOpsTarget) -> dict[str, Any]:
    """One management cluster's Flux / Argo CD bootstrap: where its folder is in the repository,
    and the settings of the applier that serves it."""
    settings = g.settings
    path = "/".join(part for part in (settings.path.strip("/"), "rendered", g.management_cluster)
                    if part)
    flux = argocd = None
    if settings.flux is not None:
        flux = settings.flux.model_dump()
        flux["git_repository"] = renders_git_repository(settings)
        flux["source"] = settings.flux.source or (
            f"fleetgen-{g.management_cluster}" if flux["git_repository"] else "flux-system")
        flux["health"] = [FLUX_CLUSTER_HEALTH]
    if settings.argocd is not None:
        argocd = settings.argocd.model_dump()
        argocd["destination"] = settings.argocd.destinations.get(g.management_cluster,
                                                                 g.management_cluster)
        argocd["ignore"] = ARGOCD_IGNORE
    return {"management_cluster": g.management_cluster, "repository": settings.repository,
            "branch": settings.branch, "path": path, "flux": flux, "argocd": argocd}
