"""Every folder of rendered/ with a kustomization.yaml builds with real kustomize, and the build
holds exactly the objects of the files below that folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from support.kubectl import kubectl

RENDERED = Path(__file__).resolve().parents[1] / "rendered"
NOT_OBJECTS = {"kustomization.yaml", "cluster-config.yaml", "features.yaml", "tanzu-features.yaml"}
_yaml = YAML(typ="safe")


def _ids(docs: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted((d["apiVersion"], d["kind"], d["metadata"].get("namespace", ""),  # type: ignore[union-attr]
                   d["metadata"]["name"]) for d in docs)  # type: ignore[index]


def _objects_below(folder: Path) -> list[dict[str, object]]:
    return [doc for path in sorted(folder.rglob("*.yaml")) if path.name not in NOT_OBJECTS
            for doc in _yaml.load_all(path.read_text()) if doc]


@pytest.mark.parametrize("folder", sorted(p.parent.relative_to(RENDERED).as_posix()
                                          for p in RENDERED.rglob("kustomization.yaml")))
def test_rendered_folder_builds_with_kustomize(folder: str) -> None:
    build = subprocess.run([kubectl(), "kustomize", str(RENDERED / folder)],
                           capture_output=True, text=True, timeout=60)
    assert build.returncode == 0, build.stderr
    built = [doc for doc in _yaml.load_all(build.stdout) if doc]
    assert _ids(built) == _ids(_objects_below(RENDERED / folder))
