"""Which paths below rendered/ fleetgen's own layout could have written (``fleetgen_could_write``).

The ownership manifest is a file in the repository, so a pull request can list any file in it
with the right SHA-256, and fleetgen would delete that file as one of a removed cluster's. A
manifest entry therefore only counts when its path has a shape fleetgen writes; any other entry
(``rendered/<mgmt>/RUNBOOK.md``) is not fleetgen's: the file is never deleted nor replaced, and
the entry is dropped from the next manifest (the render lists it as ``keep …``).

The shapes mirror ``render/layout.py`` and ``render/emit.py`` (``write`` may not import
``render``: it is the lower layer); ``tests/hostile/test_hostile_races.py`` checks that every
file of the example fleet matches. They also cover what earlier versions wrote
(``dnsendpoint-<namespace>-<cluster>.yaml``), so an upgraded fleet still loses those files when
their clusters go.
"""

from __future__ import annotations

import re

_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"  # a DNS label or subdomain: every name
_CLUSTER_FILES = ("cluster.yaml", "ippool.yaml", "cluster-config.yaml", "features.yaml",
                  "dhcpd.conf", "kea-reservations.json", "kustomization.yaml",
                  "addons.yaml", "credentials.yaml")  # issue 15: tanzu's companion objects
_SHAPES = re.compile("|".join(f"(?:{shape})" for shape in (
    # a management cluster's own files, and the kustomization of each folder holding objects
    rf"{_NAME}/(?:kustomization\.yaml|tanzu-features\.yaml|tanzu-features\.sh)",
    rf"{_NAME}/(?:{_NAME}|_global)/kustomization\.yaml",
    # pools no single cluster owns; DNS records and their zone file
    rf"{_NAME}/(?:{_NAME}|_global)/ippool-{_NAME}\.yaml",
    rf"{_NAME}/_global/dnsendpoint-{_NAME}\.yaml",
    rf"{_NAME}/_global/endpoints\.zone",
    # a cluster's folder
    rf"{_NAME}/{_NAME}/{_NAME}/(?:{'|'.join(re.escape(f) for f in _CLUSTER_FILES)})",
    # the GitOps bootstrap objects
    r"_gitops/kustomization\.yaml",
    rf"_gitops/{_NAME}/(?:flux-kustomization|flux-gitrepository|argocd-applicationset|kustomization)\.yaml",
)))


def fleetgen_could_write(path: str) -> bool:
    """Whether ``path`` (relative to rendered/) has the shape of a file fleetgen writes.

    >>> [fleetgen_could_write(p) for p in ("mgmt-a/dev/web/cluster.yaml", "mgmt-a/RUNBOOK.md")]
    [True, False]
    """
    return _SHAPES.fullmatch(path) is not None
