"""Stage 4: render every cluster and pool through the Jinja2 templates into YAML documents.

Templates run in Jinja's immutable sandbox with StrictUndefined: a template may only lay out the
plain values ``generator.views`` prepared, and a misspelled name is an error, not an empty string.
A fleet repository's own ``templates/`` folder overrides a built-in template of the same name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import (ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateSyntaxError)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml.error import YAMLError

from generator.fleet import Cluster, Fleet, PoolUse
from generator.problems import FleetError, Location, Problem
from generator.views import cluster_view, compact, pool_view
from generator.yamlio import load_fast

TEMPLATES_DIR = "templates"
BUILTIN = "(built-in)"


@dataclass(frozen=True)
class RenderedFile:
    """One output file below ``rendered/``: its documents, and whether kustomize should list it."""

    path: str
    documents: tuple[Any, ...]
    kubernetes: bool = True


def to_yaml_flow(value: Any) -> str:
    """The ``yaml`` filter: a value as one line of flow YAML (JSON is valid YAML 1.2 and 1.1)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def environment(root: Path) -> ImmutableSandboxedEnvironment:
    loaders = []
    if (root / TEMPLATES_DIR).is_dir():
        loaders.append(FileSystemLoader(root / TEMPLATES_DIR))
    loaders.append(FileSystemLoader(str(files("generator.templates"))))
    env = ImmutableSandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                        keep_trailing_newline=True, autoescape=False)
    env.filters["yaml"] = to_yaml_flow
    env.filters["compact"] = compact
    return env


class Renderer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = environment(root)

    def template_path(self, name: str) -> str:
        local = self.root / TEMPLATES_DIR / name
        return f"{TEMPLATES_DIR}/{name}" if local.is_file() else f"{TEMPLATES_DIR}/{name} {BUILTIN}"

    def document(self, template: str, context: dict[str, Any], subject: str) -> Any:
        """Render one template and parse its output; problems name the template and the subject."""
        try:
            text = self.env.get_template(template).render(context)
        except TemplateSyntaxError as exc:
            name = exc.name or template
            raise FleetError([Problem(Location(self.template_path(name), exc.lineno, 1),
                                      "template-syntax", exc.message or str(exc))]) from None
        except TemplateError as exc:
            raise FleetError([Problem(Location(self.template_path(template)), "template-error",
                                      f"rendering {subject}: {exc}")]) from None
        try:
            return load_fast(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            raise FleetError([Problem(Location(self.template_path(template)), "template-output",
                                      f"rendering {subject} gave invalid YAML at output line "
                                      f"{line}: {getattr(exc, 'problem', exc)}")]) from None


Source = Cluster | PoolUse


@dataclass(frozen=True)
class Output:
    """A file the fleet produces, before rendering: its documents as (template, source) pairs."""

    path: str
    documents: tuple[tuple[str, Source], ...]
    kubernetes: bool
    clusters: frozenset[tuple[str, str, str]]  # the clusters it belongs to (for --select)


def pool_file(pool: PoolUse) -> str:
    """Where a pool that no single cluster owns is written."""
    if pool.kind == "GlobalInClusterIPPool":
        return f"{pool.management_cluster}/_global/ippool-{pool.name}.yaml"
    return f"{pool.management_cluster}/{pool.namespace}/ippool-{pool.name}.yaml"


def layout(fleet: Fleet) -> list[Output]:
    """Every file of the fleet and what goes into it; cheap, nothing is rendered yet."""
    owned: dict[tuple[str, str, str], list[PoolUse]] = {}
    outputs: list[Output] = []
    for pool in fleet.pools:
        owner = pool.owner
        if owner is not None:
            owned.setdefault(owner.key, []).append(pool)
        else:
            users = frozenset(u.key for u in pool.users)
            outputs.append(Output(pool_file(pool), (("ippool.yaml.j2", pool),), True, users))
    for c in fleet.clusters:
        keys, folder = frozenset([c.key]), c.folder
        outputs.append(Output(f"{folder}/cluster.yaml", (("cluster.yaml.j2", c),), True, keys))
        if c.key in owned:
            outputs.append(Output(f"{folder}/ippool.yaml",
                                  tuple(("ippool.yaml.j2", p) for p in owned[c.key]), True, keys))
        outputs.append(Output(f"{folder}/cluster-config.yaml",
                              (("cluster-config.yaml.j2", c),), False, keys))
        outputs.append(Output(f"{folder}/features.yaml", (("features.yaml.j2", c),), False, keys))
    return sorted(outputs, key=lambda o: o.path)


def _subject(source: Source) -> str:
    if isinstance(source, Cluster):
        return f"cluster '{source.spec.name}' ({source.inventory.file})"
    return f"pool '{source.name}' ({source.declared_at})"


def render_outputs(outputs: list[Output], root: Path) -> list[RenderedFile]:
    """Render the given outputs; every problem of every file is collected before raising."""
    renderer = Renderer(root)
    views: dict[int, dict[str, Any]] = {}

    def context(source: Source) -> dict[str, Any]:
        if id(source) not in views:
            views[id(source)] = ({"c": cluster_view(source)} if isinstance(source, Cluster)
                                 else {"p": pool_view(source)})
        return views[id(source)]

    rendered: list[RenderedFile] = []
    problems: list[Problem] = []
    for output in outputs:
        try:
            docs = tuple(renderer.document(template, context(source), _subject(source))
                         for template, source in output.documents)
        except FleetError as exc:
            problems.extend(exc.problems)
            continue
        rendered.append(RenderedFile(output.path, docs, output.kubernetes))
    if problems:
        raise FleetError(problems)
    return rendered
