"""Minimising an imported inventory: keep only the values that change the rendered cluster, in
the README's key order."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from generator.check.cluster_rules import CLUSTER_RULES
from generator.check.fleet import Cluster
from generator.load.model import ClusterSpec
from generator.load.validation import to_spec
from generator.render.views import cluster_view
from generator.tkg.job import Job
from generator.tkg.variables import TOP_ORDER
from generator.yaml.load import Path_


def spec_of(job: Job, data: dict[str, Any]) -> ClusterSpec | None:
    """The cluster ``data`` makes over the job's chain, or None when it is not valid."""
    spec, _ = to_spec(job.merged(data))
    if spec is None or (spec.pool_ref is not None and spec.pool_ref not in spec.pools_in_scope()):
        return None
    return spec


def fingerprint(job: Job, data: dict[str, Any]) -> Any:
    """What the renderer sees of the cluster (every default and derived value resolved), or None
    when ``data`` no longer makes a valid cluster."""
    inv = job.merged(data)
    spec, _ = to_spec(inv)
    if spec is None or (spec.pool_ref is not None and spec.pool_ref not in spec.pools_in_scope()):
        return None
    pools = {name: pool.model_dump() for name, pool in sorted(spec.pools_in_scope().items())}
    cluster = Cluster(spec, inv)
    # the rules' findings too: a value the renderer ignores may still be refused (ntpServers on
    # an AWS cluster), so dropping it from the file is no "change of nothing"
    found = sorted((p.code, p.severity, p.message) for rule in CLUSTER_RULES
                   for p in rule(cluster))
    return cluster_view(cluster), pools, found


def _leaves(value: Any, path: Path_) -> list[Path_]:
    """Paths of every scalar and list (lists replace as a whole when merged)."""
    if isinstance(value, dict) and value:
        return [leaf for key, child in value.items() for leaf in _leaves(child, (*path, key))]
    return [path]


def _without(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    """A copy of ``data`` without ``path``, and without the mappings that leaves empty."""
    if len(path) == 1:
        return {k: v for k, v in data.items() if k != path[0]}
    child = _without(data[str(path[0])], path[1:])
    return {k: (child if k == path[0] else v) for k, v in data.items() if k != path[0] or child}


def minimise(job: Job) -> dict[str, Any]:
    """Drop each value whose removal leaves the rendered cluster unchanged: it is inherited from
    a _defaults.yaml or is the model's (or the ClusterClass's) default anyway."""
    data = job.data
    wanted = fingerprint(job, data)
    for leaf in _leaves(data, ()):
        candidate = _without(data, leaf)
        if wanted is not None and fingerprint(job, candidate) == wanted:
            data = candidate
    return _ordered(data)


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside a field's annotation, and whether it is a mapping of them."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return _model_of(typing.get_args(annotation)[1])[0], True
    if origin in (list, typing.Annotated):
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found[0] is not None:
                return found
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    """Keys in the README's order at the top, in the model's field order below."""
    rank = {key: index for index, key in enumerate(TOP_ORDER)}
    top = dict(sorted(data.items(), key=lambda item: rank.get(item[0], len(rank))))
    return _in_model_order(top, ClusterSpec, False)  # type: ignore[no-any-return]


def _in_model_order(value: Any, model: type[BaseModel] | None, mapping: bool) -> Any:
    if isinstance(value, list):
        return [_in_model_order(item, model, False) for item in value]
    if not isinstance(value, dict) or model is None:
        return value
    if mapping:
        return {key: _in_model_order(item, model, False) for key, item in value.items()}
    fields = {(info.alias or name): info.annotation for name, info in model.model_fields.items()}
    order = list(fields)
    keys = value if model is ClusterSpec else sorted(
        value, key=lambda k: order.index(k) if k in order else len(order))
    return {key: _in_model_order(value[key], *_model_of(fields.get(key))) for key in keys}
