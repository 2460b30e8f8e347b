"""Fleet-wide settings: the optional ``fleetgen.yaml`` at the root of a fleet repository.

Today it opts into GitOps bootstrap objects: per management cluster, a Flux ``Kustomization``
and/or an Argo CD ``ApplicationSet`` that sync that management cluster's folder of rendered/.

```yaml
gitops:
  repository: https://github.com/example/fleet.git   # what Flux and Argo CD clone
  branch: main
  path: ""              # the fleet's folder inside the repository ("" = its top)
  flux: {namespace: flux-system, interval: 10m, managementClusters: [mgmt-a]}
  argocd: {namespace: argocd, project: default, managementClusters: [mgmt-b],
           destinations: {mgmt-b: in-cluster}}
limits:                 # bounds on what one input may make fleetgen do (these are the defaults)
  templateSteps: 1000000      # loop iterations, calls and built items of one template render
  overlayComponents: 1000     # components one overlay applies (a component listed twice: twice)
  componentDepth: 50          # how deep components nest
  patchOperations: 1000       # operations of one JSON 6902 patch
  patchSize: 1000000          # characters and values one JSON 6902 patch may build in an object
credentials:            # where vSphere clusters get their vCenter credentials: exactly one of
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}   # the identityRef variable
    # externalSecret: {storeRef: {kind: ClusterSecretStore, name: vault},
    #                  key: "tkg/{managementCluster}/{namespace}/{name}"}  # -> credentials.yaml
    # sealedSecret: "secrets/{managementCluster}/{namespace}/{name}.yaml"   # copied, if sealed
    # sops: "secrets/{managementCluster}/{namespace}/{name}.yaml"           # copied, if encrypted
```
A cluster's own ``vsphere.identityRef`` wins over ``credentials.vsphere``.

A real fleet stays far below every limit; each exists so that a few lines of hostile input cannot
keep a CI runner busy or out of memory, and each refusal names the setting.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from generator.load.addons import VSphereIdentityRef
from generator.load.model_base import Model, Name
from generator.paths import CLUSTERS_DIR, INPUT_FOLDERS, SECRETS_DIR, SETTINGS_FILE
from generator.load.validation import validate_file



Duration = Annotated[str, Field(pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")]


class Flux(Model):
    """A Flux Kustomization per management cluster (issue 18, helper G: docs/gitops.md).

    ``source`` names a GitRepository that exists already; without it fleetgen renders one,
    ``fleetgen-<mgmt>``, from ``gitops.repository``, or (no repository either) uses
    ``flux-system``, the one ``flux bootstrap`` creates. ``managementClusters``: the management
    clusters Flux serves (default: all)."""

    namespace: Name = "flux-system"
    source: Name | None = None
    interval: Duration = "10m"
    timeout: Duration = "1h"  # how long a health check may wait for a provisioning Cluster
    prune: bool = True
    secret_ref: Name | None = None  # the GitRepository's credentials Secret (never rendered)
    management_clusters: list[Name] | None = None


class ArgoCD(Model):
    """An Argo CD ApplicationSet per management cluster; ``destinations`` maps a management
    cluster to its name in Argo CD (default: the same name). ``managementClusters``: the
    management clusters Argo CD serves (default: all)."""

    namespace: Name = "argocd"
    project: str = "default"
    prune: bool = True
    destinations: dict[str, str] = Field(default_factory=dict)
    management_clusters: list[Name] | None = None


def _no_credentials(value: str) -> str:
    """A repository URL without a password or token: ``https://user:pass@`` and
    ``https://token@`` are secrets (``ssh://git@host`` and ``git@host:`` name only a user)."""
    scheme, sep, rest = value.partition("://")
    userinfo = rest.split("/", 1)[0].rpartition("@")[0] if sep else ""
    if ":" in userinfo or (scheme.lower() in ("http", "https") and "@" in rest):
        raise ValueError("holds credentials (user:password@ or a token@): a secret fleetgen "
                         "never stores; give Argo CD the credentials in a repository Secret")
    return value


class GitOps(Model):
    """Where the fleet is in git, and which applier serves which management cluster. One applier
    per management cluster: two would both prune the same objects (docs/gitops.md)."""

    repository: Annotated[str, AfterValidator(_no_credentials)] | None = None
    branch: str = "main"
    path: str = ""
    flux: Flux | None = None
    argocd: ArgoCD | None = None

    @field_validator("argocd")
    @classmethod
    def _one_applier(cls, argocd: ArgoCD | None, info: ValidationInfo) -> ArgoCD | None:
        """Checked at ``argocd`` (declared after ``repository`` and ``flux``, which it reads)."""
        if argocd is None:
            return argocd
        # (a repository that failed its own check is not in info.data: reported there)
        if "repository" in info.data and info.data["repository"] is None:
            raise ValueError("argocd needs gitops.repository (the URL Argo CD clones); only Flux "
                             "can use a source that exists already")
        flux_settings = info.data.get("flux")
        if not isinstance(flux_settings, Flux):
            return argocd
        flux, argo = flux_settings.management_clusters, argocd.management_clusters
        if flux is None or argo is None:
            raise ValueError("flux and argocd both serve every management cluster, so two "
                             "controllers would prune the same objects; give each a list of "
                             "managementClusters, or enable one")
        both = sorted(set(flux) & set(argo))
        if both:
            raise ValueError(f"management cluster {', '.join(both)} is in both "
                             "flux.managementClusters and argocd.managementClusters; one applier "
                             "per management cluster")
        return argocd

    def appliers(self, management_cluster: str) -> tuple[str, ...]:
        """The appliers that serve ``management_cluster``: ("flux",), ("argocd",) or ()."""
        return tuple(name for name, applier in (("flux", self.flux), ("argocd", self.argocd))
                     if applier is not None and (applier.management_clusters is None
                                                 or management_cluster
                                                 in applier.management_clusters))


class Limits(Model):
    """Bounds on the work one input may ask for (see the module docstring). ``componentDepth``
    is capped so that the nesting stays far from Python's recursion limit."""

    template_steps: int = Field(default=1_000_000, ge=1)
    overlay_components: int = Field(default=1000, ge=1)
    component_depth: int = Field(default=50, ge=1, le=100)
    patch_operations: int = Field(default=1000, ge=1)
    patch_size: int = Field(default=1_000_000, ge=1)


# --- credentials (issue 15, helper C) ------------------------------------------------------------

PLACEHOLDERS = ("managementCluster", "namespace", "name")


def _template(value: str) -> str:
    """A text with only the placeholders {managementCluster}, {namespace} and {name}."""
    try:
        parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(value)
                  if f is not None]
        bad = [f for f, _, _ in parsed if f not in PLACEHOLDERS]
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a template: {exc}") from None
    # A format spec or conversion ({name:x}, {name!r}, {name:/<4}) would fail at render time or
    # build a path the checks below never saw: only the bare placeholders are templates.
    if not bad and any(spec or conv for _, spec, conv in parsed):
        raise ValueError(f"'{value}': a placeholder takes no format spec or conversion; use "
                         + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    if bad:
        raise ValueError(f"'{{{bad[0]}}}' is not a placeholder; use "
                         + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    return value


def _file_template(value: str) -> str:
    """A path template of a file inside the fleet repository, below one of the folders a render
    reads (so the render cache, the render stamp and ``diff --base`` see it)."""
    _template(value)
    parts = value.split("/")
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"'{value}' is not a path inside the fleet repository (no leading '/', "
                         "no '..')")
    if len(parts) < 2 or parts[0] not in INPUT_FOLDERS:
        raise ValueError(f"'{value}' must be a file below one of the folders fleetgen reads: "
                         + ", ".join(f"{f}/" for f in INPUT_FOLDERS))
    if parts[0] == CLUSTERS_DIR and value.endswith(".yaml"):
        raise ValueError(f"'{value}': every .yaml file under {CLUSTERS_DIR}/ is a cluster; keep "
                         f"encrypted files in {SECRETS_DIR}/ (or name them .yml)")
    return value


Template = Annotated[str, AfterValidator(_template)]
FileTemplate = Annotated[str, AfterValidator(_file_template)]


class StoreRef(Model):
    kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    name: str = Field(min_length=1)


class ExternalSecretSource(Model):
    """An ExternalSecret (external-secrets.io/v1beta1) per cluster, beside it in its namespace,
    that makes the Secret ``<cluster>`` from the entry ``key`` of ``storeRef``; that entry holds
    the properties ``username`` and ``password``."""

    store_ref: StoreRef
    key: Template = Field(min_length=1)
    refresh_interval: str = Field(default="1h", pattern=r"^(0|([0-9]+(ns|us|ms|s|m|h))+)$")


class VSphereCredentials(Model):
    """Where a vSphere cluster's vCenter credentials come from: exactly one of these."""

    identity_ref: VSphereIdentityRef | None = None
    external_secret: ExternalSecretSource | None = None
    sealed_secret: FileTemplate | None = None
    sops: FileTemplate | None = None

    @model_validator(mode="after")
    def _one(self) -> VSphereCredentials:
        given = [n for n in ("identityRef", "externalSecret", "sealedSecret", "sops")
                 if getattr(self, _FIELDS[n]) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of identityRef, externalSecret, sealedSecret, sops"
                             + (f" (not {' and '.join(given)})" if given else ""))
        return self

    @property
    def mode(self) -> str:
        return next(n for n in ("identityRef", "externalSecret", "sealedSecret", "sops")
                    if getattr(self, _FIELDS[n]) is not None)


_FIELDS = {"identityRef": "identity_ref", "externalSecret": "external_secret",
           "sealedSecret": "sealed_secret", "sops": "sops"}


class Credentials(Model):
    """Fleet-wide sources of infrastructure credentials (only vSphere needs one: AWS and Azure
    clusters name their identity in the inventory)."""

    vsphere: VSphereCredentials | None = None


class FleetSettings(Model):
    gitops: GitOps | None = None
    limits: Limits = Field(default_factory=Limits)
    credentials: Credentials = Field(default_factory=Credentials)


def load_settings(root: Path) -> FleetSettings:
    """The fleet's settings (defaults when there is no fleetgen.yaml); raises FleetError."""
    settings = validate_file(FleetSettings, root, SETTINGS_FILE)
    assert settings is None or isinstance(settings, FleetSettings)
    return settings or FleetSettings()

