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

from generator.fleet import Cluster, Fleet, Management, PoolUse
from generator.problems import FleetError, Location, Problem
from generator.views import cluster_view, compact, dns_record, management_view, pool_view
from generator.yamlio import load_fast

TEMPLATES_DIR = "templates"
BUILTIN = "(built-in)"


@dataclass(frozen=True)
class RenderedFile:
    """One output file below ``rendered/``: its YAML documents (or, for a file that is not YAML,
    its ``text``), and whether kustomize should list it."""

    path: str
    documents: tuple[Any, ...]
    kubernetes: bool = True
    text: str | None = None


def to_yaml_flow(value: Any) -> str:
    """The ``yaml`` filter: a value as one line of flow YAML (JSON is valid YAML 1.2 and 1.1)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def to_json(value: Any) -> str:
    """The ``json`` filter: indented JSON with keys in the order the view gives them."""
    return json.dumps(value, ensure_ascii=False, indent=2)


def environment(root: Path) -> ImmutableSandboxedEnvironment:
    loaders = []
    if (root / TEMPLATES_DIR).is_dir():
        loaders.append(FileSystemLoader(root / TEMPLATES_DIR))
    loaders.append(FileSystemLoader(str(files("generator.templates"))))
    env = ImmutableSandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                        keep_trailing_newline=True, autoescape=False)
    env.filters["yaml"] = to_yaml_flow
    env.filters["json"] = to_json
    env.filters["compact"] = compact
    return env


class Renderer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = environment(root)

    def template_path(self, name: str) -> str:
        local = self.root / TEMPLATES_DIR / name
        return f"{TEMPLATES_DIR}/{name}" if local.is_file() else f"{TEMPLATES_DIR}/{name} {BUILTIN}"

    def text(self, template: str, context: dict[str, Any], subject: str) -> str:
        """Render one template to text; problems name the template and the subject."""
        try:
            text = self.env.get_template(template).render(context)
        except TemplateSyntaxError as exc:
            name = exc.name or template
            raise FleetError([Problem(Location(self.template_path(name), exc.lineno, 1),
                                      "template-syntax", exc.message or str(exc))]) from None
        except TemplateError as exc:
            raise FleetError([Problem(Location(self.template_path(template)), "template-error",
                                      f"rendering {subject}: {exc}")]) from None
        return text if text.endswith("\n") else text + "\n"

    def document(self, template: str, context: dict[str, Any], subject: str) -> Any:
        """Render one template and parse its output as YAML."""
        text = self.text(template, context, subject)
        try:
            return load_fast(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            raise FleetError([Problem(Location(self.template_path(template)), "template-output",
                                      f"rendering {subject} gave invalid YAML at output line "
                                      f"{line}: {getattr(exc, 'problem', exc)}")]) from None


Source = Cluster | PoolUse | Management


@dataclass(frozen=True)
class Output:
    """A file the fleet produces, before rendering: its documents as (template, source) pairs."""

    path: str
    documents: tuple[tuple[str, Source], ...]
    kubernetes: bool
    clusters: frozenset[tuple[str, str, str]]  # the clusters it belongs to (for --select)
    text: bool = False  # the template's output is the file (not YAML to canonicalise)


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
        if c.spec.network.nodes.dhcp_reservations:
            outputs.append(Output(f"{folder}/dhcpd.conf", (("dhcpd.conf.j2", c),), False, keys,
                                  text=True))
            outputs.append(Output(f"{folder}/kea-reservations.json",
                                  (("kea-reservations.json.j2", c),), False, keys, text=True))
        if dns_record(c.spec) is not None:
            outputs.append(Output(f"{c.spec.management_cluster}/_global/dnsendpoint-"
                                  f"{c.spec.namespace}-{c.spec.name}.yaml",
                                  (("dnsendpoint.yaml.j2", c),), True, keys))
    for m in fleet.management_clusters:
        keys = frozenset(c.key for c in m.clusters)
        outputs.append(Output(f"{m.name}/tanzu-features.yaml", (("tanzu-features.yaml.j2", m),),
                              False, keys))
        outputs.append(Output(f"{m.name}/tanzu-features.sh", (("tanzu-features.sh.j2", m),),
                              False, keys, text=True))
        if any(dns_record(c.spec) for c in m.clusters):
            outputs.append(Output(f"{m.name}/_global/endpoints.zone",
                                  (("endpoints.zone.j2", m),), False, keys, text=True))
    return sorted(outputs, key=lambda o: o.path)


def _subject(source: Source) -> str:
    if isinstance(source, Cluster):
        return f"cluster '{source.spec.name}' ({source.inventory.file})"
    if isinstance(source, Management):
        return f"management cluster '{source.name}'"
    return f"pool '{source.name}' ({source.declared_at})"


def _view(source: Source) -> dict[str, Any]:
    if isinstance(source, Cluster):
        return {"c": cluster_view(source)}
    if isinstance(source, Management):
        return {"m": management_view(source)}
    return {"p": pool_view(source)}


def render_outputs(outputs: list[Output], root: Path) -> list[RenderedFile]:
    """Render the given outputs; every problem of every file is collected before raising."""
    renderer = Renderer(root)
    views: dict[int, dict[str, Any]] = {}

    def context(source: Source) -> dict[str, Any]:
        if id(source) not in views:
            views[id(source)] = _view(source)
        return views[id(source)]

    rendered: list[RenderedFile] = []
    problems: list[Problem] = []
    for output in outputs:
        try:
            if output.text:
                ((template, source),) = output.documents
                rendered.append(RenderedFile(output.path, (), output.kubernetes,
                                             renderer.text(template, context(source),
                                                           _subject(source))))
                continue
            docs = tuple(renderer.document(template, context(source), _subject(source))
                         for template, source in output.documents)
        except FleetError as exc:
            problems.extend(exc.problems)
            continue
        rendered.append(RenderedFile(output.path, docs, output.kubernetes))
    if problems:
        raise FleetError(problems)
    return rendered
