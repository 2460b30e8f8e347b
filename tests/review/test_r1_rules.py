"""Issue 16, R1: risks come from the old and new Cluster objects through rules that are data
naming ClusterClass variables: one test per rule, plus the cases the issue names (an overlay
that adds a machine-template variable, a fleet's own cluster.yaml.j2, scaling)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator.review.classes import ROLLOUT_VARIABLES, RULES, Rule
from generator.review.diff import field_changes
from generator.review.risks import matched_rules

_PART = re.compile(r"\.?([^.\[]+)|\[([^\]]*)\]")


def _parts(path: str) -> list[tuple[str, str]]:
    """``a.b[x].c`` → [("key", a), ("key", b), ("item", x), ("key", c)]."""
    if path.startswith("metadata.annotations."):
        return [("key", "metadata"), ("key", "annotations"),
                ("key", path[len("metadata.annotations."):])]
    return [("key", m[1]) if m[1] else ("item", "md-0" if m[2] == "*" else m[2])
            for m in _PART.finditer(path)]


def _cluster(path: str, value: Any) -> dict[str, Any]:
    """A Cluster object holding ``value`` at ``path`` (named list items for ``[name]``)."""
    doc: dict[str, Any] = {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                           "metadata": {"name": "web", "namespace": "dev"}}
    node: Any = doc
    parts = _parts(path)
    for index, (kind, name) in enumerate(parts):
        last = index == len(parts) - 1
        following = parts[index + 1][0] if not last else ""
        if kind == "key":
            if last:
                node[name] = value
            elif following == "item":
                node = node.setdefault(name, [])
            else:
                node = node.setdefault(name, {})
        else:
            item = {"name": name, "value": value} if last else {"name": name}
            node.append(item)
            node = item
    return doc


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.cls}:{r.path}")
def test_each_rule_fires_on_a_change_of_its_path(rule: Rule) -> None:
    old, new = _cluster(rule.path, {"v": "a"}), _cluster(rule.path, {"v": "b"})
    assert rule in matched_rules(field_changes(old, new))


@pytest.mark.parametrize("name", sorted(ROLLOUT_VARIABLES))
def test_adding_a_machine_template_variable_is_a_rollout(name: str) -> None:
    old = _cluster("spec.topology.variables[cni]", "antrea")
    new = _cluster("spec.topology.variables[cni]", "antrea")
    new["spec"]["topology"]["variables"].append({"name": name, "value": {"x": 1}})
    fired = matched_rules(field_changes(old, new))
    assert [r.cls for r in fired] == ["rollout"] and name in fired[0].path


def test_every_rule_cites_its_source_or_the_api() -> None:
    for rule in RULES:
        if rule.path.startswith("spec.topology.variables") or ".overrides[" in rule.path:
            assert re.search(r"\.yaml:\d+", rule.source), rule


def test_scaling_replaces_no_machine() -> None:
    old = _cluster("spec.topology.workers.machineDeployments[md-0].replicas", 2)
    new = _cluster("spec.topology.workers.machineDeployments[md-0].replicas", 5)
    assert matched_rules(field_changes(old, new)) == []


def test_a_variable_no_machine_template_reads_is_no_rollout() -> None:
    old, new = _cluster("spec.topology.variables[cni]", "antrea"), \
        _cluster("spec.topology.variables[cni]", "calico")
    assert matched_rules(field_changes(old, new)) == []


def test_a_new_machine_deployment_adds_machines_and_replaces_none() -> None:
    old = _cluster("spec.topology.workers.machineDeployments[md-0].class", "tkg-worker")
    new = _cluster("spec.topology.workers.machineDeployments[md-0].class", "tkg-worker")
    new["spec"]["topology"]["workers"]["machineDeployments"].append(
        {"name": "md-1", "class": "tkg-worker", "replicas": 2, "failureDomain": "z1"})
    assert matched_rules(field_changes(old, new)) == []
