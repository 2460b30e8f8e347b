"""Fleet-wide settings: the optional ``fleetgen.yaml`` at the root of a fleet repository.

Today it opts into GitOps bootstrap objects: per management cluster, a Flux ``Kustomization``
and/or an Argo CD ``ApplicationSet`` that sync that management cluster's folder of rendered/.

```yaml
gitops:
  repository: https://github.com/example/fleet.git   # what Argo CD clones
  branch: main
  path: ""              # the fleet's folder inside the repository ("" = its top)
  flux: {namespace: flux-system, source: fleet, interval: 10m}
  argocd: {namespace: argocd, project: default, destinations: {mgmt-site-a: in-cluster}}
limits:                 # bounds on what one input may make fleetgen do (these are the defaults)
  templateSteps: 1000000      # loop iterations, calls and built items of one template render
  overlayComponents: 1000     # components one overlay applies (a component listed twice: twice)
  componentDepth: 50          # how deep components nest
  patchOperations: 1000       # operations of one JSON 6902 patch
  patchSize: 1000000          # characters and values one JSON 6902 patch may build in an object
```

A real fleet stays far below every limit; each exists so that a few lines of hostile input cannot
keep a CI runner busy or out of memory, and each refusal names the setting.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from generator.load.model_base import Model
from generator.paths import SETTINGS_FILE
from generator.load.validation import validate_file



class Flux(Model):
    """A Flux Kustomization per management cluster, reading a GitRepository named ``source``."""

    namespace: str = "flux-system"
    source: str = "fleet"
    interval: str = "10m"
    prune: bool = True


class ArgoCD(Model):
    """An Argo CD ApplicationSet per management cluster; ``destinations`` maps a management
    cluster to its name in Argo CD (default: the same name)."""

    namespace: str = "argocd"
    project: str = "default"
    prune: bool = True
    destinations: dict[str, str] = Field(default_factory=dict)


class GitOps(Model):
    repository: str
    branch: str = "main"
    path: str = ""
    flux: Flux | None = None
    argocd: ArgoCD | None = None


class Limits(Model):
    """Bounds on the work one input may ask for (see the module docstring). ``componentDepth``
    is capped so that the nesting stays far from Python's recursion limit."""

    template_steps: int = Field(default=1_000_000, ge=1)
    overlay_components: int = Field(default=1000, ge=1)
    component_depth: int = Field(default=50, ge=1, le=100)
    patch_operations: int = Field(default=1000, ge=1)
    patch_size: int = Field(default=1_000_000, ge=1)


class FleetSettings(Model):
    gitops: GitOps | None = None
    limits: Limits = Field(default_factory=Limits)


def load_settings(root: Path) -> FleetSettings:
    """The fleet's settings (defaults when there is no fleetgen.yaml); raises FleetError."""
    settings = validate_file(FleetSettings, root, SETTINGS_FILE)
    assert settings is None or isinstance(settings, FleetSettings)
    return settings or FleetSettings()

