"""The validated fleet: every cluster's spec beside its inventory, and the node pools in use."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from generator.load.inventory import ClusterInventory, Inventory
from generator.net.addresses import PoolAddresses
from generator.load.model import ClusterSpec, IPPool
from generator.paths import CLUSTERS_DIR, DEFAULTS_FILE
from generator.load.settings import GitOps, Limits, VSphereCredentials
from generator.problems import Location, Problem, raise_if_errors
from generator.load.validation import to_spec
from generator.yaml.load import Path_


@dataclass(frozen=True)
class Cluster:
    """A cluster as the later stages see it: what it is and where it was written."""

    spec: ClusterSpec
    inventory: ClusterInventory
    credentials: VSphereCredentials | None = None  # fleetgen.yaml credentials.vsphere (issue 15, C)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.spec.management_cluster, self.spec.namespace, self.spec.name)

    @property
    def folder(self) -> str:
        """Its output folder below ``rendered/``."""
        return "/".join(self.key)

    def problem(self, path: Path_, code: str, message: str, hint: str = "", *,
                key: bool = False, severity: str = "error") -> Problem:
        return for_cluster(self.inventory, Problem(
            self.inventory.locate(path, key=key), code, message, hint,
            "warning" if severity == "warning" else "error"))


def cluster_id(inventory: ClusterInventory) -> str:
    """How a problem names a cluster: its file below clusters/ without ".yaml" (unique, unlike
    its name: two namespaces may each have a ``sandbox``)."""
    path = PurePosixPath(inventory.file)
    parts = path.with_suffix("").parts
    return "/".join(parts[1:] if parts[:1] == (CLUSTERS_DIR,) else parts)


def inherited(location: Location) -> bool:
    """Whether ``location`` is in a _defaults.yaml, whose values clusters inherit."""
    return PurePosixPath(location.path).name == DEFAULTS_FILE


def for_cluster(inventory: ClusterInventory, problem: Problem) -> Problem:
    """``problem``, naming the cluster when it is found in a _defaults.yaml it inherits."""
    if not inherited(problem.location) or problem.clusters:
        return problem
    return replace(problem, clusters=(cluster_id(inventory),))


@dataclass(frozen=True)
class PoolUse:
    """One node pool on one management cluster and the clusters that draw from it."""

    name: str
    management_cluster: str
    spec: IPPool
    source: str  # the file that declares it
    users: tuple[Cluster, ...]
    path: Path_ = ()  # where the first user's inventory declares the pool
    # What the pool hands out, parsed once when the pool is resolved; None when it does not parse
    # (check_fleet then fails, so every pool of a Fleet has its addresses).
    addresses: PoolAddresses | None = None

    @property
    def declared_at(self) -> Location:
        return self.users[0].inventory.locate(self.path, key=True)

    def locate(self, *keys: str | int, key: bool = False) -> Location:
        """A location inside the pool's declaration (``locate("gateway")``)."""
        return self.users[0].inventory.locate((*self.path, *keys), key=key)

    def problem(self, keys: tuple[str | int, ...], code: str, message: str, hint: str = "", *,
                severity: str = "error") -> Problem:
        problem = Problem(self.locate(*keys, key=not keys), code, message, hint,
                          "warning" if severity == "warning" else "error")
        if not inherited(problem.location):
            return problem
        return replace(problem, clusters=tuple(sorted(cluster_id(u.inventory)
                                                      for u in self.users)))

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def namespace(self) -> str | None:
        """The namespace of a namespaced pool (its users'), None for a global pool."""
        if self.kind == "GlobalInClusterIPPool":
            return None
        return self.users[0].spec.namespace

    @property
    def owner(self) -> Cluster | None:
        """The cluster whose folder holds the pool: its only user, when it has exactly one."""
        if self.kind == "InClusterIPPool" and len(self.users) == 1:
            return self.users[0]
        return None


@dataclass(frozen=True)
class Management:
    """A management cluster as the fleet sees it: its workload clusters and the flags they need."""

    name: str
    clusters: tuple[Cluster, ...]
    flags: dict[str, dict[str, str]]


@dataclass(frozen=True)
class GitOpsTarget:
    """What a management cluster's GitOps bootstrap objects are rendered from."""

    management_cluster: str
    settings: GitOps


@dataclass(frozen=True)
class Fleet:
    clusters: tuple[Cluster, ...]
    pools: tuple[PoolUse, ...]
    warnings: tuple[Problem, ...] = ()
    flags: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # per management cluster
    gitops: GitOps | None = None  # from fleetgen.yaml
    limits: Limits = field(default_factory=Limits)  # from fleetgen.yaml

    @property
    def management_clusters(self) -> list[Management]:
        names = sorted({c.spec.management_cluster for c in self.clusters})
        return [Management(name, tuple(c for c in self.clusters
                                       if c.spec.management_cluster == name),
                           self.flags.get(name, {})) for name in names]


def build_specs(inventory: Inventory) -> list[Cluster]:
    """Validate every cluster against the model; raise FleetError with every problem found."""
    clusters, problems = valid_specs(inventory)
    raise_if_errors(problems)
    return clusters


def valid_specs(inventory: Inventory) -> tuple[list[Cluster], list[Problem]]:
    """Every cluster that validates against the model, and the problems of those that do not."""
    clusters: list[Cluster] = []
    problems: list[Problem] = []
    for inv in inventory.clusters:
        spec, found = to_spec(inv)
        problems.extend(for_cluster(inv, p) for p in found)
        if spec is not None:
            clusters.append(Cluster(spec, inv))
    return clusters, problems
