"""Issue 18, helper G: the README's example fleetgen.yaml gives different management clusters
different appliers, and docs/gitops.md covers what the issue asks of it, for both appliers."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from generator.load.settings import FleetSettings

REPO = Path(__file__).resolve().parents[2]


def _readme_example() -> FleetSettings:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Flux and Argo CD\n"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return FleetSettings.model_validate(YAML(typ="safe").load(block.group(1)))


def test_the_readme_example_renders_both_appliers_for_different_management_clusters() -> None:
    gitops = _readme_example().gitops
    assert gitops is not None
    served = {m: gitops.appliers(m) for m in ("mgmt-site-a", "mgmt-site-b", "mgmt-aws",
                                              "mgmt-azure")}
    assert set(served.values()) == {("flux",), ("argocd",)}


def test_docs_cover_both_appliers() -> None:
    text = (REPO / "docs/gitops.md").read_text()
    for heading in ("## Flux\n", "## Argo CD\n", "### Deleting a cluster deliberately",
                    "## Drift: what the appliers will and will not show",
                    "what the live Cluster looks like"):
        assert heading in text
    for section in ("## Flux\n", "## Argo CD\n"):
        body = text[text.index(section):].split("\n## ", 1)[0]
        assert "Bootstrap" in body
    assert "cluster.go:242" in text and "cluster.go:163" in text
