"""Building one render group (a cluster's folder, or one shared file) into bytes: render its
templates, apply the cluster's overlays, write canonical YAML, and collect the identity of every
Kubernetes object (``Built``). Also how a group is keyed and kept in the render cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.cache.store import RenderCache
from generator.check.fleet import Cluster, GitOpsTarget, Management
from generator.overlay.apply import overlay_objects
from generator.overlay.load import Overlay, load_overlay, load_overlay_file
from generator.paths import Reader, Unsafe, cluster_overlay_file
from generator.problems import FleetError, Location, Problem, refused
from generator.render.addons import Companion
from generator.render.credentials import CredentialsFile, read_credentials
from generator.render.emit import emit
from generator.render.final import check_final, chosen_overlays
from generator.render.layout import Output, RenderedFile
from generator.load.settings import Limits
from generator.render.sandbox import Renderer
from generator.render.views import Source, view_of


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
    if isinstance(source, (Companion, CredentialsFile)):
        return _subject(source.cluster)
    return f"pool '{source.name}' ({source.declared_at})"


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
                text = (read_credentials(renderer.reader, source)  # copied as it is (issue 15, C)
                        if isinstance(source, CredentialsFile) else
                        renderer.text(template, context(source), Subject(source)))
                rendered.append(RenderedFile(output.path, (), output.kubernetes, text))
                continue
            if not output.kubernetes and len(output.documents) == 1:
                ((template, source),) = output.documents
                doc, header = renderer.commented(template, context(source), Subject(source))
                rendered.append(RenderedFile(output.path, (doc,), False, header=header))
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
    """A built render group: the bytes of its files and the identities of its objects, and what
    every file its build read held (``paths.Reader.seen``: each fleet template, overlay file,
    patch file and the cluster's own overlay file, or that it was absent)."""

    files: dict[str, bytes]
    objects: list[ObjectIdentity]
    reads: dict[str, str] = field(default_factory=dict)


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


# --- groups, and the cache ---------------------------------------------------------------------

def groups(outputs: list[Output]) -> list[list[Output]]:
    """Outputs that are rendered (and cached) together: all files of one cluster's folder, since
    its overlays patch them together; every other output alone."""
    by_folder: dict[str, list[Output]] = {}
    alone: list[list[Output]] = []
    for output in outputs:
        if output.owner is not None:
            by_folder.setdefault(output.owner.folder, []).append(output)
        else:
            alone.append([output])
    return [*by_folder.values(), *alone]


class GroupCache:
    """Render groups kept in the cache store. An entry is found by a key made of everything the
    group builder takes from the model (``key``: the output paths, kinds and templates, the
    values each template sees, the cluster's inventory file and ``overlays:`` list, the limits),
    and it holds, besides the group's bytes, what every file its build read held (``Built.reads``:
    templates, overlay files, patch files, the cluster's own overlay file, each by its path
    relative to the fleet root and the SHA-256 of its bytes, or its absence). An entry is used
    only while every one of those files still holds the same bytes (``get``), so a build never
    depends on a file its entry does not name, and two checkouts sharing one cache never
    exchange output. Nothing in an entry names the fleet's absolute path: a clone at another path
    gets the same hits."""

    def __init__(self, store: RenderCache, root: Path, limits: Limits | None = None) -> None:
        self.store = store
        self.root = root
        self.limits = (limits or Limits()).model_dump()
        self.today = Reader(root)  # what each recorded file holds today, each read once
        self._memos: dict[int, str] = {}  # id(source) → its view's memo key (see prefetch)
        self._views: dict[str, str] = {}  # memo key → view digest
        self._entries: dict[str, str] = {}  # group key → entry text, read ahead

    def key(self, group: list[Output]) -> str:
        sources: dict[int, Source] = {}
        for output in group:
            for _template, source in output.documents:
                sources.setdefault(id(source), source)
        index = {ident: i for i, ident in enumerate(sources)}
        outputs = [[o.path, o.kubernetes, o.text,
                    [[template, index[id(source)]] for template, source in o.documents]]
                   for o in group]
        views = [[type(s).__name__, self._view_digest(s)] for s in sources.values()]
        owner = group[0].owner
        cluster = None if owner is None else [owner.inventory.file, list(owner.spec.overlays)]
        return self.store.key("group", json.dumps([outputs, views, cluster, self.limits],
                                                  sort_keys=True, default=str))

    def _memo(self, source: Source) -> str | None:
        """Where the digest of ``source``'s view is kept, for a cluster and its add-on objects:
        their views are a function of the cluster's spec, inventory and credentials alone, and
        the spec of its inventory chain (``chain_key``, see check.known), so the digest is kept
        under the chain key and the credentials and an unchanged cluster's views are not built
        again (issue 20). None for other sources."""
        owner = source.cluster if isinstance(source, Companion) else source
        if not isinstance(owner, Cluster) or not owner.inventory.chain_key:
            return None
        part = f"companion:{source.index}" if isinstance(source, Companion) else "cluster"
        credentials = owner.credentials.model_dump_json() if owner.credentials else ""
        return self.store.key("view", owner.inventory.chain_key, credentials, part)

    def prefetch(self, groups_: list[list[Output]]) -> list[str]:
        """The key of every group, reading what the cache holds for them in a few queries."""
        memos = {id(source): memo for group in groups_ for output in group
                 for _template, source in output.documents
                 if (memo := self._memo(source)) is not None}
        self._views.update(self.store.read_many(list(set(memos.values()))))
        self._memos.update(memos)
        keys = [self.key(group) for group in groups_]
        self._entries.update(self.store.read_many(keys))
        return keys

    def _view_digest(self, source: Source) -> str:
        """The digest of what a template rendering ``source`` sees (see ``_memo``)."""
        memo = self._memos.get(id(source)) or self._memo(source)
        if memo is not None:
            found = self._views.get(memo) or self.store.read(memo)
            if found is not None:
                return found
        digest = hashlib.sha256(json.dumps(view_of(source), sort_keys=True, default=str)
                                .encode()).hexdigest()
        if memo is not None:
            self.store.write(memo, digest)
            self._views[memo] = digest
        return digest

    def get(self, key: str, group: list[Output]) -> Built | None:
        """The group stored under ``key`` while every file its build read is unchanged, or None
        (a bad, stale or mismatched entry is a miss)."""
        try:
            entry = json.loads(self._entries.pop(key, "") or self.store.read(key) or "")
            files_ = {str(p): str(t).encode("utf-8") for p, t in entry["files"].items()}
            objects = [(str(m), str(g), str(k), str(ns), str(n), str(p), int(i))
                       for m, g, k, ns, n, p, i in entry["objects"]]
            reads = {str(o): str(v) for o, v in entry["reads"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            self.store.misses += 1
            return None
        if set(files_) != {o.path for o in group} or not self.today.still(reads):
            self.store.misses += 1
            return None
        self.store.hits += 1
        return Built(files_, objects, reads)

    def put(self, key: str, built: Built) -> None:
        """Store a built group under ``key`` (at the store's next flush)."""
        self.store.write(key, json.dumps({"files": {p: b.decode("utf-8")
                                                    for p, b in built.files.items()},
                                          "objects": built.objects, "reads": built.reads}))


# --- building a group --------------------------------------------------------------------------

class GroupBuilder:
    """Builds one render group (see ``groups``) at a time into the bytes of its files: render
    its templates, apply its cluster's overlays (in inventory order, then the cluster's own
    ``<cluster>.overlay.yaml``), write the canonical YAML. Documents live only while their group
    is built, so memory holds bytes, not the parsed objects of the whole fleet."""

    def __init__(self, root: Path, limits: Limits | None = None) -> None:
        self.root = root
        self.limits = limits or Limits()
        self.renderer = Renderer(root, self.limits.template_steps)
        self._overlays: dict[str, Overlay | FleetError] = {}

    def _overlay(self, name: str, file: str | None = None) -> Overlay | FleetError:
        key = file or name
        if key not in self._overlays:
            try:
                self._overlays[key] = load_overlay_file(self.root, Path(file), self.limits) \
                    if file else load_overlay(self.root, name, self.limits)
            except FleetError as exc:
                self._overlays[key] = exc
        return self._overlays[key]

    def _apply_overlays(self, cluster: Cluster, rendered: list[RenderedFile],
                        reads: dict[str, str]) -> list[RenderedFile]:
        chosen = [self._overlay(name) for name in cluster.spec.overlays]
        local = cluster_overlay_file(cluster.inventory.file)
        probe = Reader(self.root)  # whether it exists is an input too
        try:
            present = probe.read(local) is not None
        except Unsafe as exc:
            chosen.append(FleetError([refused(exc)]))
            present = False
        reads.update(probe.seen)
        if present:
            chosen.append(self._overlay(local, local))
        failed = [problem for o in chosen if isinstance(o, FleetError) for problem in o.problems]
        if failed:
            raise FleetError(failed)
        for overlay in chosen:
            if isinstance(overlay, Overlay):
                reads.update(overlay.reads)
        indexes = [i for i, f in enumerate(rendered) if f.kubernetes]
        if not chosen or not indexes:
            return rendered
        docs = [doc for i in indexes for doc in rendered[i].documents]
        patched = overlay_objects(docs, [o for o in chosen if isinstance(o, Overlay)],
                                  f"cluster '{cluster.spec.name}'")
        out = list(rendered)
        for i in indexes:
            count = len(rendered[i].documents)
            out[i] = replace(rendered[i], documents=tuple(patched[:count]))
            patched = patched[count:]
        return out

    def build(self, group: list[Output]) -> Built:
        """The group's files and objects; raises FleetError with every problem found."""
        reads: dict[str, str] = {}
        rendered = render_outputs(group, self.renderer)
        cluster = group[0].owner
        final = rendered if cluster is None else self._apply_overlays(cluster, rendered, reads)
        check_final(group, rendered, final, chosen_overlays(cluster, self._overlays))
        reads.update(self.renderer.reads())
        return Built(emit(final), object_identities(final), dict(sorted(reads.items())))
