"""Canonical YAML: strings stay strings for YAML 1.1 and 1.2 readers; fixed key order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.render.emit import canonical_object, file_text, kustomizations
from generator.render.layout import RenderedFile
from generator.yaml.dump import dump, needs_quotes


def _reader(version: tuple[int, int]) -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = version
    return yaml


YAML11, YAML12 = _reader((1, 1)), _reader((1, 2))
TRICKY = ["on", "off", "yes", "no", "y", "n", "true", "False", "~", "null", "1.10", "0755",
          "0o17", "1:20", "1_000", "0x1F", ".inf", "-.5", "2024-01-01", "<<", "=", "", " lead",
          "trail ", "a: b", "- x", "#c", "@x", "`x", "%x", "10.0.0.1", "fd00::1", "1e3", "+1"]


def _roundtrips(value: Any) -> bool:
    text = dump({"k": value})
    return all(reader.load(text) == {"k": value} for reader in (YAML11, YAML12))


def test_tricky_strings_survive_both_yaml_versions() -> None:
    for text in TRICKY:
        assert _roundtrips(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    list("0123456789.:-_+~ yYnNoO")), max_size=12))
def test_any_string_survives_both_yaml_versions(text: str) -> None:
    assert _roundtrips(text)


def test_plain_strings_stay_unquoted() -> None:
    assert dump({"a": "10.0.0.1", "b": "ubuntu,22.04,amd64", "c": "/dc0/vm"}) == (
        "a: 10.0.0.1\nb: ubuntu,22.04,amd64\nc: /dc0/vm\n")
    assert [needs_quotes(s) for s in ("on", "1.10", "0755", "1:20", "prod")] == [
        True, True, True, True, False]


def test_kubernetes_objects_lead_with_apiversion_kind_metadata_spec() -> None:
    doc = {"spec": {"z": 1, "a": 2}, "status": {}, "metadata": {"name": "x"}, "kind": "K",
           "apiVersion": "v1"}
    assert list(canonical_object(doc)) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert file_text(RenderedFile("x.yaml", (doc,))) == (
        "apiVersion: v1\nkind: K\nmetadata:\n  name: x\nspec:\n  z: 1\n  a: 2\nstatus: {}\n")


def test_no_anchors_no_folding_lf_final_newline() -> None:
    shared = {"a": 1}
    long = "x" * 300
    text = dump({"one": shared, "two": shared, "long": long + " " + long})
    assert "&" not in text and "*" not in text
    assert f"long: {long} {long}\n" in text
    assert "\r" not in text and text.endswith("\n")


def test_kustomization_at_every_level_lists_the_level_below() -> None:
    files = kustomizations(["m/_global/ippool-a.yaml", "m/ns/c/cluster.yaml",
                            "m/ns/c/ippool.yaml", "m/ns/ippool-b.yaml"])
    resources = {f.path: YAML12.load(f.text)["resources"] for f in files}
    on = kustomizations(["m/on/c/cluster.yaml"])
    assert "- 'on'\n" in (on[0].text or "")  # a namespace named like a YAML 1.1 boolean
    assert resources == {
        "m/_global/kustomization.yaml": ["ippool-a.yaml"],
        "m/kustomization.yaml": ["_global", "ns"],
        "m/ns/c/kustomization.yaml": ["cluster.yaml", "ippool.yaml"],
        "m/ns/kustomization.yaml": ["ippool-b.yaml", "c"],
    }
