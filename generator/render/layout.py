"""The file layout of rendered/: every file the fleet produces and which templates and sources go
into it (``layout``), decided before anything is rendered, and a rendered file (``RenderedFile``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.check.fleet import Cluster, Fleet, GitOpsTarget, PoolUse
from generator.paths import GITOPS_DIR
from generator.render.addons import Companion, addon_objects
from generator.render.credentials import COPIED, credentials_file, credentials_view
from generator.render.gitops import renders_git_repository
from generator.render.views import Source, dns_record


@dataclass(frozen=True)
class RenderedFile:
    """One output file below ``rendered/``: its YAML documents (or, for a file that is not YAML,
    its ``text``), and whether kustomize should list it."""

    path: str
    documents: tuple[Any, ...]
    kubernetes: bool = True
    text: str | None = None
    header: str = ""  # comment lines written above the documents (files that are not objects)

@dataclass(frozen=True)
class Output:
    """A file the fleet produces, before rendering: its documents as (template, source) pairs."""

    path: str
    documents: tuple[tuple[str, Source], ...]
    kubernetes: bool
    clusters: frozenset[tuple[str, str, str]]  # the clusters it belongs to (for --select)
    text: bool = False  # the template's output is the file (not YAML to canonicalise)
    owner: Cluster | None = None  # the cluster whose folder holds it (built with its other files)


def pool_file(pool: PoolUse) -> str:
    """Where a pool that no single cluster owns is written."""
    if pool.kind == "GlobalInClusterIPPool":
        return f"{pool.management_cluster}/_global/ippool-{pool.name}.yaml"
    return f"{pool.management_cluster}/{pool.namespace}/ippool-{pool.name}.yaml"


def layout(fleet: Fleet) -> list[Output]:
    """Every file of the fleet and what goes into it; cheap, nothing is rendered yet."""
    owned: dict[tuple[str, str, str], list[PoolUse]] = {}
    outputs: list[Output] = []
    for pool in fleet.pools:
        owner = pool.owner
        if owner is not None:
            owned.setdefault(owner.key, []).append(pool)
        else:
            users = frozenset(u.key for u in pool.users)
            outputs.append(Output(pool_file(pool), (("ippool.yaml.j2", pool),), True, users))
    for c in fleet.clusters:
        keys, folder = frozenset([c.key]), c.folder
        outputs.append(Output(f"{folder}/cluster.yaml", (("cluster.yaml.j2", c),), True, keys,
                              owner=c))
        if c.key in owned:
            outputs.append(Output(f"{folder}/ippool.yaml",
                                  tuple(("ippool.yaml.j2", p) for p in owned[c.key]), True, keys,
                                  owner=c))
        outputs.append(Output(f"{folder}/cluster-config.yaml",
                              (("cluster-config.yaml.j2", c),), False, keys, owner=c))
        outputs.append(Output(f"{folder}/features.yaml", (("features.yaml.j2", c),), False, keys,
                              owner=c))
        # issue 15, helper C: the add-on objects tanzu creates beside the Cluster, and the
        # cluster's vCenter credentials (an ExternalSecret, or the repository's encrypted file)
        companions = len(addon_objects(c.spec))
        if companions:
            outputs.append(Output(f"{folder}/addons.yaml",
                                  tuple(("addons.yaml.j2", Companion(c, i))
                                        for i in range(companions)), True, keys, owner=c))
        copied = credentials_file(c)
        if copied is not None:
            outputs.append(Output(f"{folder}/credentials.yaml", ((COPIED, copied),), True, keys,
                                  text=True, owner=c))
        elif credentials_view(c)["external_secret"] is not None:
            outputs.append(Output(f"{folder}/credentials.yaml", (("credentials.yaml.j2", c),),
                                  True, keys, owner=c))
        if c.spec.network.nodes.dhcp_reservations:
            outputs.append(Output(f"{folder}/dhcpd.conf", (("dhcpd.conf.j2", c),), False, keys,
                                  text=True, owner=c))
            outputs.append(Output(f"{folder}/kea-reservations.json",
                                  (("kea-reservations.json.j2", c),), False, keys, text=True,
                                  owner=c))
        if dns_record(c.spec) is not None:
            # '.' separates namespace and name: neither can hold one, so no two clusters share a
            # file (with '-', a-b/c and a/b-c would).
            outputs.append(Output(f"{c.spec.management_cluster}/_global/dnsendpoint-"
                                  f"{c.spec.namespace}.{c.spec.name}.yaml",
                                  (("dnsendpoint.yaml.j2", c),), True, keys))
    for m in fleet.management_clusters:
        keys = frozenset(c.key for c in m.clusters)
        outputs.append(Output(f"{m.name}/tanzu-features.yaml", (("tanzu-features.yaml.j2", m),),
                              False, keys))
        outputs.append(Output(f"{m.name}/tanzu-features.sh", (("tanzu-features.sh.j2", m),),
                              False, keys, text=True))
        if any(dns_record(c.spec) for c in m.clusters):
            outputs.append(Output(f"{m.name}/_global/endpoints.zone",
                                  (("endpoints.zone.j2", m),), False, keys, text=True))
        if fleet.gitops is not None:
            # issue 18, helper G: only the applier that serves this management cluster (one per
            # management cluster), in its own folder, applied once on that management cluster
            # (kubectl apply -k rendered/_gitops/<mgmt>); no file lists every management
            # cluster's bootstrap (emit.kustomizations writes no rendered/_gitops/kustomization).
            target = GitOpsTarget(m.name, fleet.gitops)
            appliers = fleet.gitops.appliers(m.name)
            files = [("flux-kustomization.yaml.j2", "flux-kustomization.yaml")
                     ] if "flux" in appliers else []
            if "flux" in appliers and renders_git_repository(fleet.gitops):
                files.append(("flux-gitrepository.yaml.j2", "flux-gitrepository.yaml"))
            if "argocd" in appliers:
                files.append(("argocd-applicationset.yaml.j2", "argocd-applicationset.yaml"))
            for template, name in files:
                outputs.append(Output(f"{GITOPS_DIR}/{m.name}/{name}", ((template, target),),
                                      True, keys))
    return sorted(outputs, key=lambda o: o.path)


def cluster_folder(path: str) -> str | None:
    """The cluster folder (``mgmt/namespace/name``) a file below rendered/ belongs to, for files
    read back from disk or git, which carry no ``Output``: the inverse of ``layout``."""
    parts = path.split("/")
    return "/".join(parts[:3]) if len(parts) == 4 and not parts[1].startswith("_") else None
