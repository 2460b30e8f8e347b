"""The GitOps checks of one cluster (issue 18, helper G; docs/gitops.md).

``deletionPolicy: delete`` drops the prune protections of a cluster so that Flux or Argo CD
deletes it once its file is removed. Written in a ``_defaults.yaml`` it would do that for every
cluster of the folder at once, which is the accident the protections exist to prevent: a
deliberate deletion is written in the file of the cluster to delete.

(One applier per management cluster is checked where fleetgen.yaml is read:
``generator.load.settings.GitOps``; it needs no inventory.)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.check.fleet import Cluster
from generator.problems import Problem

KEY = ("deletionPolicy",)


def deletion_policy_in_own_file(c: Cluster) -> Iterator[Problem]:
    if c.spec.deletion_policy != "delete":
        return
    source = c.inventory.source_of(KEY)
    if source != c.inventory.file:
        yield c.problem(KEY, "deletion-policy-inherited",
                        f"deletionPolicy: delete for cluster '{c.spec.name}' comes from {source}, "
                        "so every cluster below it loses its prune protection",
                        f"write deletionPolicy: delete in {c.inventory.file} itself, for the "
                        "cluster you mean to delete", key=True)


GITOPS_RULES = (deletion_policy_in_own_file,)
