"""``fleetgen import tkg`` for the variable catalog (``generator.render.catalog.CATALOG``): each
catalog variable the flat config sets goes to its inventory key, read the way tanzu reads it.

The table lives in the render layer (the renderer needs it, and render may not import tkg); this
module only reads flat values. Its inverse is ``catalog.flat_text`` (the cluster-config output),
so import → render → import gives the same inventory.
"""

from __future__ import annotations

from typing import Any

from generator.render.catalog import CATALOG, Entry
from generator.tkg.job import Job
from generator.yaml.fast import load_fast

HELPERS = "providers/yttcc/lib/helpers.star"
PROXY_ENABLED = "TKG_HTTP_PROXY_ENABLED"
REGISTRIES = "additionalImageRegistries"


def import_catalog(job: Job, infra: str | None) -> None:
    registries: dict[int, dict[str, tuple[Any, str]]] = {}
    for entry in CATALOG:
        if infra not in entry.infra or not job.given(entry.flat):
            continue
        value = _read(job, entry)
        if value is None:
            continue
        if entry.path[0] == REGISTRIES:
            registries.setdefault(int(entry.path[1]), {})[str(entry.path[2])] = (value, entry.flat)
        else:
            job.put(entry.path, value, entry.flat)
    _registries(job, registries)
    _proxy_enabled(job)


def _read(job: Job, entry: Entry) -> Any:
    key, kind = entry.flat, entry.kind
    if kind in ("text", "int", "bool", "list"):
        return job.value(key, kind)
    if kind == "map":
        return _mapping(job, key)
    text = job.text(key)
    if kind == "key":
        return [text]
    where = job.flat.value_at(key)
    if kind == "args":  # helpers.star get_map_from_string: ';' then the first '='
        pairs = [part.split("=", 1) for part in text.split(";")]
        rule = f"'key1=value1;key2=value2' ({HELPERS}:335-345)"
    else:  # labels (helpers.star get_labels_array_from_string) and Azure custom tags
        pairs = [[p.strip() for p in part.split("=")] for part in text.split(",")]
        rule = f"'key1=value1,key2=value2' ({HELPERS}:348-361)"
    if any(len(pair) != 2 for pair in pairs):
        job.error(where, "invalid-value", f"{key} '{text}' is not in the {rule} format",
                  "tanzu refuses it too")
        return None
    return {name: value for name, value in pairs}


def _mapping(job: Job, key: str) -> dict[str, str] | None:
    """AVI_LABELS: a YAML mapping, written as one or as a string holding one (tanzu hands it to
    ytt as a mapping, providers/yttcc/02_customizations/add_avi_labels.yaml:16)."""
    raw = job.flat.values[key]
    value = raw
    if isinstance(raw, str):
        try:
            value = load_fast(raw)
        except Exception:  # noqa: BLE001 - any YAML error is the same bad input
            value = None
    if not isinstance(value, dict) or any(isinstance(v, (dict, list)) or v is None
                                          for v in value.values()):
        job.error(job.flat.value_at(key), "invalid-value",
                  f"{key} must be a mapping of label names to values, such as "
                  "\"{'type': 'tkg'}\"")
        return None
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def _registries(job: Job, found: dict[int, dict[str, tuple[Any, str]]]) -> None:
    """ADDITIONAL_IMAGE_REGISTRY_<n>: the ones with a host, in order (helpers.star:416-432 skips
    a registry without a host)."""
    out: list[dict[str, Any]] = []
    for index in sorted(found):
        fields = found[index]
        if "host" not in fields:
            for _, key in fields.values():
                job.report(key, "not-imported", f"ADDITIONAL_IMAGE_REGISTRY_{index + 1} (the "
                           "host) is not set, so tanzu ignores it")
            continue
        position = len(out)
        registry: dict[str, Any] = {}
        for name, (value, key) in fields.items():
            if name == "skipTLSVerify" and value is False:  # the default: not written, so the
                job.used.add(key)                            # list reads back the same
                continue
            registry[name] = value
            job.note((REGISTRIES, position, name), value, key)
        out.append(registry)
    if out:
        job.data[REGISTRIES] = out


def _proxy_enabled(job: Job) -> None:
    """TKG_HTTP_PROXY_ENABLED is not stored: the output writes true exactly when the proxy is set
    (tanzu checks the proxy only when it is "true", tkg/client/validate.go:1532-1567)."""
    if not job.given(PROXY_ENABLED):
        return
    enabled = job.value(PROXY_ENABLED, "bool")
    proxy = job.given("TKG_HTTP_PROXY")
    if enabled is True and proxy:
        job.used.add(PROXY_ENABLED)
    elif enabled is True:
        job.error(job.flat.value_at(PROXY_ENABLED), "missing-key",
                  "TKG_HTTP_PROXY_ENABLED is true but TKG_HTTP_PROXY is not set (tanzu refuses "
                  "this: tkg/client/validate.go:1544-1546)",
                  "set TKG_HTTP_PROXY and TKG_HTTPS_PROXY, or remove the line")
    elif enabled is False:
        job.report(PROXY_ENABLED, "not-imported",
                   "fleetgen writes TKG_HTTP_PROXY_ENABLED: true exactly when proxy.httpProxy is "
                   "set" + (" (with 'false' tanzu would skip completing TKG_NO_PROXY)"
                            if proxy else ""))
