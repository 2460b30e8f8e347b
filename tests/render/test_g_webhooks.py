"""Issue 18, helper G: rendered Clusters hold only what survives TKG's and CAPI's webhooks and
controllers, so an applier never fights them over a field.

- ``spec.paused`` is the cluster-pause webhook's (addons/webhooks/cluster_pause_webhook.go:93-95),
  ``infrastructureRef``/``controlPlaneRef`` the topology controller's, ``controlPlaneEndpoint``
  the infrastructure provider's: an applier that owned them would undo those writes.
- ``spec.topology.version`` is a full TKr version. The resolver keeps a Cluster's TKr while the
  version in the request is a prefix of that TKr's version (tkr/webhook/cluster/tkr-resolver/
  cluster/cluster.go:163) and rewrites the field to the TKr's Kubernetes version (:242): a full
  TKr version selects exactly one TKr, never a newer patch that happens to share a prefix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("paused", "infrastructureRef", "controlPlaneRef", "controlPlaneEndpoint")
TKR_VERSION = re.compile(r"^v\d+\.\d+\.\d+\+vmware\.\d+-tkg\.\d+(\.[0-9a-z]+)*$")
_yaml = YAML(typ="safe")


def _clusters() -> list[tuple[str, dict[str, Any]]]:
    files = [*(REPO / "rendered").rglob("cluster.yaml"),
             *(REPO / "tests/cases").glob("*/expected/rendered/**/cluster.yaml")]
    return [(p.relative_to(REPO).as_posix(), doc) for p in sorted(files)
            for doc in _yaml.load_all(p.read_text()) if doc and doc.get("kind") == "Cluster"]


def test_there_are_clusters_to_check() -> None:
    paths = {path.split("/")[0] for path, _ in _clusters()}
    assert paths == {"rendered", "tests"}


@pytest.mark.parametrize("field", FORBIDDEN)
def test_no_cluster_renders_a_field_webhooks_or_controllers_own(field: str) -> None:
    assert [path for path, doc in _clusters() if field in doc["spec"]] == []


def test_topology_version_is_a_full_tkr_version() -> None:
    versions = {path: doc["spec"]["topology"]["version"] for path, doc in _clusters()}
    assert {p: v for p, v in versions.items() if not TKR_VERSION.match(v)} == {}
