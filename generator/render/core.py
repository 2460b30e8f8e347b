"""Stage 4: render every cluster and pool through the Jinja2 templates into YAML documents.

Templates run in Jinja's immutable sandbox with StrictUndefined: a template may only lay out the
plain values ``generator.render.views`` prepared, and a misspelled name is an error, not an empty string.
A fleet repository's own ``templates/`` folder overrides a built-in template of the same name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import (ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateRuntimeError, TemplateSyntaxError)
from jinja2 import nodes, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml.error import YAMLError

from generator.check.fleet import Cluster, Fleet, GitOpsTarget, Management, PoolUse
from generator.paths import GITOPS_DIR, TEMPLATES_DIR
from generator.problems import FleetError, Location, Problem
from generator.render.views import (cluster_view, compact, dns_record, gitops_view, management_view,
                             pool_view)
from generator.yaml.io import load_fast

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
    return Encoded(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


def to_json(value: Any) -> str:
    """The ``json`` filter: indented JSON with keys in the order the view gives them."""
    return Encoded(json.dumps(value, ensure_ascii=False, indent=2))


MAX_SEQUENCE = 1_000_000  # characters or items a template may build with `*`
MAX_OUTPUT = 4_000_000    # characters one rendered file may have
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)")


class _NoNoneCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to the sandbox's own join, which refuses None (Jinja's turns it into
    the text "None")."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_text((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _refuse_none(values: Any) -> None:
    if any(v is None for v in values):
        raise TemplateRuntimeError("a value is None; write it with `| yaml` (null) or test it "
                                   "with `is none`")


class FleetSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, plus limits on what a template can build: `'a' * 10**9` or
    `2 ** 10**9` fails fast instead of exhausting memory, and None never renders as "None"."""

    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = _NoNoneCodeGenerator

    @staticmethod
    def concat_text(parts: tuple[Any, ...]) -> str:
        _refuse_none(parts)
        return "".join(str(p) for p in parts)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise SecurityError(f"the exponent {right} is too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                        and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError(f"the result of * would hold {len(seq) * count} items")
        if operator == "%" and isinstance(left, str):
            widths = [int(w) for w in _FORMAT_WIDTH.findall(left)]
            if widths and max(widths) > MAX_SEQUENCE:
                raise SecurityError(f"a format width of {max(widths)} is too large")
        return super().call_binop(context, operator, left, right)


class Encoded(str):
    """Text the `yaml` or `json` filter made: safe to paste into the output as it is."""


_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")


def _finalize(value: Any) -> Any:
    if value is None:
        raise TemplateRuntimeError("a value is None; write it with `| yaml` (null) or test it "
                                   "with `is none`")
    if isinstance(value, str) and not isinstance(value, Encoded) and _LINE_BREAK.search(value):
        # Pasted raw, a line break would add keys to the output: values go through `| yaml`.
        raise TemplateRuntimeError("a value holding a line break is written raw; write it "
                                   "with `| yaml`")
    return value


def refuse_template_links(root: Path) -> None:
    """A fleet's templates/ and the templates in it are real files: a link could read anything,
    outside the repository included (and a looping one would silently fall back to a built-in)."""
    folder = root / TEMPLATES_DIR
    links = [folder] if folder.is_symlink() else (
        [p for p in sorted(folder.rglob("*")) if p.is_symlink()] if folder.is_dir() else [])
    if links:
        raise FleetError([Problem(Location(p.relative_to(root).as_posix()), "symlink",
                                  "templates are not read through symlinks",
                                  "copy the template into templates/") for p in links])


def environment(root: Path) -> ImmutableSandboxedEnvironment:
    refuse_template_links(root)
    loaders = []
    if (root / TEMPLATES_DIR).is_dir():
        loaders.append(FileSystemLoader(root / TEMPLATES_DIR))
    loaders.append(FileSystemLoader(str(files("generator.templates"))))
    env = FleetSandbox(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False, finalize=_finalize)
    env.filters["yaml"] = to_yaml_flow
    env.filters["json"] = to_json
    env.filters["compact"] = compact
    # `| string` and `| join` would also turn None into the text "None".
    string, join = env.filters["string"], env.filters["join"]

    def strict_string(value: Any) -> Any:
        _refuse_none([value])
        return string(value)

    @pass_eval_context
    def strict_join(ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        _refuse_none(items)
        return join(ctx, items, d, attribute)

    env.filters["string"], env.filters["join"] = strict_string, strict_join
    return env


class Renderer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = environment(root)

    def template_path(self, name: str) -> str:
        local = self.root / TEMPLATES_DIR / name
        return f"{TEMPLATES_DIR}/{name}" if local.is_file() else f"{TEMPLATES_DIR}/{name} {BUILTIN}"

    def text(self, template: str, context: dict[str, Any], subject: object) -> str:
        """Render one template to text; problems name the template and the subject."""
        try:
            text = self.env.get_template(template).render(context)
        except TemplateSyntaxError as exc:
            name = exc.name or template
            raise FleetError([Problem(Location(self.template_path(name), exc.lineno, 1),
                                      "template-syntax", exc.message or str(exc))]) from None
        except TemplateError as exc:
            raise FleetError([Problem(Location(self.template_path(template), _template_line(exc)),
                                      "template-error", f"rendering {subject}: {exc}")]) from None
        except Exception as exc:  # noqa: BLE001 - template code is input: its failures are too
            # (ZeroDivisionError, TypeError, OverflowError for range(10**9), RecursionError…)
            raise FleetError([Problem(Location(self.template_path(template), _template_line(exc)),
                                      "template-error", f"rendering {subject}: "
                                      f"{type(exc).__name__}: {exc}")]) from None
        if len(text) > MAX_OUTPUT:
            raise FleetError([Problem(Location(self.template_path(template)), "template-output",
                                      f"rendering {subject} gave {len(text)} characters, more "
                                      f"than the {MAX_OUTPUT} a file may have")])
        return text if text.endswith("\n") else text + "\n"

    def document(self, template: str, context: dict[str, Any], subject: object) -> Any:
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


Source = Cluster | PoolUse | Management | GitOpsTarget


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
            # '.' separates namespace and name: neither can hold one, so no two clusters share a
            # file (with '-', a-b/c and a/b-c would).
            outputs.append(Output(f"{c.spec.management_cluster}/_global/dnsendpoint-"
                                  f"{c.spec.namespace}.{c.spec.name}.yaml",
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
        if fleet.gitops is not None:
            target = GitOpsTarget(m.name, fleet.gitops)
            # Outside the management cluster's own folder: these objects point Flux or Argo CD
            # at that folder, and are applied once (kubectl apply -k rendered/_gitops/<mgmt>).
            for enabled, template, name in ((fleet.gitops.flux, "flux-kustomization.yaml.j2",
                                             "flux-kustomization.yaml"),
                                            (fleet.gitops.argocd, "argocd-applicationset.yaml.j2",
                                             "argocd-applicationset.yaml")):
                if enabled is not None:
                    outputs.append(Output(f"{GITOPS_DIR}/{m.name}/{name}",
                                          ((template, target),), True, keys))
    return sorted(outputs, key=lambda o: o.path)


class Subject:
    """What is being rendered, for error messages; worked out only when one is printed (naming
    a pool means reading positions)."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def __str__(self) -> str:
        return _subject(self.source)


def _subject(source: Source) -> str:
    if isinstance(source, Cluster):
        return f"cluster '{source.spec.name}' ({source.inventory.file})"
    if isinstance(source, Management):
        return f"management cluster '{source.name}'"
    if isinstance(source, GitOpsTarget):
        return f"the GitOps objects of '{source.management_cluster}'"
    return f"pool '{source.name}' ({source.declared_at})"


def view_of(source: Source) -> dict[str, Any]:
    if isinstance(source, Cluster):
        return {"c": cluster_view(source)}
    if isinstance(source, Management):
        return {"m": management_view(source)}
    if isinstance(source, GitOpsTarget):
        return {"g": gitops_view(source)}
    return {"p": pool_view(source)}


def _template_line(exc: BaseException) -> int:
    """The template line an error happened on, from the traceback Jinja maps to template lines."""
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_outputs(outputs: list[Output], renderer: Renderer) -> list[RenderedFile]:
    """Render the given outputs; every problem of every file is collected before raising."""
    views: dict[int, dict[str, Any]] = {}

    def context(source: Source) -> dict[str, Any]:
        if id(source) not in views:
            views[id(source)] = view_of(source)
        return views[id(source)]

    rendered: list[RenderedFile] = []
    problems: list[Problem] = []
    for output in outputs:
        try:
            if output.text:
                ((template, source),) = output.documents
                rendered.append(RenderedFile(output.path, (), output.kubernetes,
                                             renderer.text(template, context(source),
                                                           Subject(source))))
                continue
            docs = tuple(renderer.document(template, context(source), Subject(source))
                         for template, source in output.documents)
        except FleetError as exc:
            problems.extend(exc.problems)
            continue
        rendered.append(RenderedFile(output.path, docs, output.kubernetes))
    if problems:
        raise FleetError(problems)
    return rendered


ObjectIdentity = tuple[str, str, str, str, str, str, int]
"""A rendered object: management cluster, API group, kind, namespace, name; its file and its
index in the file."""


@dataclass(frozen=True)
class Built:
    """A built render group: the bytes of its files and the identities of its objects."""

    files: dict[str, bytes]
    objects: list[ObjectIdentity]


def object_identities(files: list[RenderedFile]) -> list[ObjectIdentity]:
    """Every Kubernetes object's identity; each must have apiVersion, kind and a name."""
    problems: list[Problem] = []
    out: list[ObjectIdentity] = []
    for f in files:
        if not f.kubernetes:
            continue
        for index, doc in enumerate(f.documents):
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            name = meta.get("name") if isinstance(meta, dict) else None
            if not (isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind")
                    and isinstance(name, str) and name):
                problems.append(Problem(Location(f"rendered/{f.path}"), "template-output",
                                        "a rendered object lacks apiVersion, kind or "
                                        "metadata.name", "check the template that writes it"))
                continue
            group = str(doc["apiVersion"]).rpartition("/")[0]
            out.append((f.path.split("/", 1)[0], group, str(doc["kind"]),
                        str(meta.get("namespace") or ""), name,  # type: ignore[union-attr]
                        f.path, index))
    if problems:
        raise FleetError(problems)
    return out


def check_duplicate_objects(objects: list[ObjectIdentity]) -> None:
    """No two objects on one management cluster share an identity (kustomize would refuse the
    build)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, ...], tuple[str, int]] = {}
    for mgmt, group, kind, namespace, name, path, index in sorted(objects, key=lambda o: o[5:]):
        first = seen.setdefault((mgmt, group, kind, namespace, name), (path, index))
        if first != (path, index):
            problems.append(Problem(Location(f"rendered/{path}"), "duplicate-object",
                                    f"{kind} {namespace + '/' if namespace else ''}"
                                    f"{name} is also written to rendered/{first[0]}"))
    if problems:
        raise FleetError(problems)
