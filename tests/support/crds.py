"""Validate rendered manifests against the upstream schemas kept in ``shared/crds``.

Why: a manifest that is accepted by our own tests but rejected by the management cluster fails
only at GitOps sync time, after the merge. Checking every rendered object against the real
upstream CRD schemas (and, for class-based Clusters, the ClusterClass variable schemas) moves that
failure into the test run.

The schemas are *not* copied into the repository: they live in ``shared/crds`` beside it (see
``shared/crds/PROVENANCE.md``), and tests that need them skip with a clear reason when it is absent.

The apiserver prunes unknown fields silently, so a typo such as ``adresses`` would be dropped
without an error. Here every object schema that lists ``properties`` is closed
(``additionalProperties: false``), which turns such a typo into a test failure.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from ruamel.yaml import YAML

# tests/support/crds.py -> parents[2] is the repository root; shared/ sits beside the repository.
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CRDS = REPO_ROOT.parent / "shared" / "crds"

# v0.1.0 is the first release tag whose CRDs serve ipam.cluster.x-k8s.io/v1alpha2 with
# spec.addresses/prefix/gateway (required: addresses, prefix). The older pre-release
# v0.1.0-alpha.3 serves the same three fields (without excludedAddresses and
# allocateReservedIPAddresses); TKG 2.2's bundled provider served only v1alpha1.
IPAM_POOL_DIR = "ipam-in-cluster-v0.1.0"

ADDONS_DIR = "tanzu-addons-release-0.29"

_CRD_FILES: Mapping[tuple[str, str], str] = {
    ("cluster.x-k8s.io", "Cluster"): "cluster-api-v1.5.1/cluster.x-k8s.io_clusters.yaml",
    ("ipam.cluster.x-k8s.io", "InClusterIPPool"): (
        f"{IPAM_POOL_DIR}/ipam.cluster.x-k8s.io_inclusterippools.yaml"
    ),
    ("ipam.cluster.x-k8s.io", "GlobalInClusterIPPool"): (
        f"{IPAM_POOL_DIR}/ipam.cluster.x-k8s.io_globalinclusterippools.yaml"
    ),
    # The objects tanzu creates beside the Cluster (addons.yaml; issue 15, helper C).
    **{(group, kind): f"{ADDONS_DIR}/{group}_{kind.lower()}s.yaml" for group, kind in (
        ("run.tanzu.vmware.com", "ClusterBootstrap"),
        ("cni.tanzu.vmware.com", "AntreaConfig"),
        ("cni.tanzu.vmware.com", "CalicoConfig"),
        ("cpi.tanzu.vmware.com", "VSphereCPIConfig"),
        ("cpi.tanzu.vmware.com", "KubevipCPIConfig"),
        ("csi.tanzu.vmware.com", "VSphereCSIConfig"),
    )},
    # The GitOps bootstrap objects (issue 18, helper G), against the appliers' own CRDs.
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (
        "flux-kustomize-controller-v1.9.4/kustomize.toolkit.fluxcd.io_kustomizations.yaml"
    ),
    ("source.toolkit.fluxcd.io", "GitRepository"): (
        "flux-source-controller-v1.9.1/source.toolkit.fluxcd.io_gitrepositories.yaml"
    ),
    ("argoproj.io", "ApplicationSet"): "argo-cd-v3.5.1/applicationset-crd.yaml",
}

# Cluster.spec.topology.class prefix -> directory holding that ClusterClass's variable schemas.
# Only v1.0.0 is on hand: a Cluster of class v1.1.1 is checked against v1.0.0 (v1.1.1 adds only
# the `security` variable).
CLASS_VARIABLE_DIRS: Mapping[str, str] = {
    "tkg-vsphere-default": "tkg-vsphere-default-v1.0.0",
    "tkg-aws-default": "tkg-aws-default-v1.0.0",
    "tkg-azure-default": "tkg-azure-default-v1.0.0",
}

_DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


class NoSchemaError(LookupError):
    """Raised for an object whose apiVersion/kind has no upstream schema in shared/crds."""


def crds_dir() -> Path:
    """Return ``shared/crds``, or skip the calling test when the folder is not there.

    Why skip and not fail: the schemas are upstream data kept outside the repository, so a bare
    clone cannot have them; the skip reason says where they are expected.
    """
    if not SHARED_CRDS.is_dir():
        pytest.skip(
            f"upstream CRD schemas not found at {SHARED_CRDS}; "
            "they come from the shared/ folder beside the repository"
        )
    return SHARED_CRDS


def _load_yaml(path: Path) -> Any:
    """Load YAML with the safe loader, which resolves anchors (the AWS class uses &subnet)."""
    return YAML(typ="safe").load(path)


# --- schema conversion ---------------------------------------------------------------------------


def strict_schema(openapi: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a Kubernetes structural openAPIV3Schema into a closed JSON Schema.

    Why: the apiserver prunes unknown fields instead of rejecting them; closing every object that
    lists ``properties`` makes an unknown field an error. Objects marked
    ``x-kubernetes-preserve-unknown-fields`` stay open, ``x-kubernetes-int-or-string`` accepts an
    integer or a string, and ``nullable`` accepts null. The input is never mutated (YAML anchors
    share one dict between several places).
    """
    schema = {key: _convert_keyword(key, value) for key, value in openapi.items()}
    if openapi.get("x-kubernetes-int-or-string"):
        schema.pop("anyOf", None)
        schema["type"] = ["integer", "string"]
    if openapi.get("nullable") and "type" in schema:
        schema["type"] = [*_as_list(schema["type"]), "null"]
    if _is_closed_object(openapi):
        schema["additionalProperties"] = False
    return schema


def _convert_keyword(key: str, value: Any) -> Any:
    """Convert the sub-schemas held by one keyword; other keywords are copied as they are."""
    if key == "properties":
        return {name: strict_schema(sub) for name, sub in value.items()}
    if key in ("items", "not") or (key == "additionalProperties" and isinstance(value, Mapping)):
        return strict_schema(value)
    if key in ("anyOf", "allOf", "oneOf"):
        return [strict_schema(sub) for sub in value]
    return value


def _is_closed_object(openapi: Mapping[str, Any]) -> bool:
    return (
        "properties" in openapi
        and "additionalProperties" not in openapi
        and not openapi.get("x-kubernetes-preserve-unknown-fields")
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# --- formats -------------------------------------------------------------------------------------

# Only formats that occur on fields we generate are checked; others (int32, int64, date-time) are
# ignored, as jsonschema does for unregistered formats.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("cidr", raises=ValueError)
def _is_cidr(value: object) -> bool:
    """``address/prefix`` with host bits allowed, like Go's net.ParseCIDR (the apiserver's check).

    A bare address or a dotted netmask is rejected, although ipaddress.ip_network accepts both.
    """
    if not isinstance(value, str):
        return True
    _, slash, prefix = value.partition("/")
    if not slash or not prefix.isdigit():
        return False
    ipaddress.ip_network(value, strict=False)
    return True


@FORMAT_CHECKER.checks("base64", raises=binascii.Error)
def _is_base64(value: object) -> bool:
    """Standard padded base64. Stricter than upstream: "base64" is no registered OpenAPI format
    (only "byte" is), so the apiserver ignores it, but TKG's Azure class base64-decodes
    ``sshPublicKey`` (the CLI's AZURE_SSH_PUBLIC_KEY_B64), so a plain key would break nodes."""
    if isinstance(value, str):
        base64.b64decode(value, validate=True)
    return True


def _validator(schema: Mapping[str, Any]) -> Validator:
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


# --- Kubernetes objects --------------------------------------------------------------------------


def _object_meta_schema(namespaced: bool) -> dict[str, Any]:
    """The ObjectMeta fields our renderer writes; CRDs themselves only say ``type: object``.

    Namespaced objects must carry a namespace (the renderer always sets it); cluster-scoped ones
    must not.
    """
    properties: dict[str, Any] = {
        "name": {"type": "string", "maxLength": 253, "pattern": _DNS1123_SUBDOMAIN},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    }
    if namespaced:
        properties["namespace"] = {"type": "string", "maxLength": 63, "pattern": _DNS1123_LABEL}
    return {
        "type": "object",
        "properties": properties,
        "required": ["name", "namespace"] if namespaced else ["name"],
        "additionalProperties": False,
    }


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, slash, version = api_version.rpartition("/")
    if not slash or not group:
        raise NoSchemaError(f"apiVersion {api_version!r} has no group; no CRD can match it")
    return group, version


def _crd_version(crd: Mapping[str, Any], version: str) -> Mapping[str, Any]:
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version and entry["served"]:
            return entry  # type: ignore[no-any-return]
    served = [entry["name"] for entry in crd["spec"]["versions"] if entry["served"]]
    raise NoSchemaError(f"{crd['metadata']['name']} does not serve {version}; it serves {served}")


# external-dns's DNSEndpoint CRD is not among the shared upstream schemas. This strict schema is
# written from the external-dns CRD reference (externaldns.k8s.io/v1alpha1, spec.endpoints[] of
# dnsName, recordType, recordTTL (int64), targets, labels, providerSpecific, setIdentifier).
DNS_ENDPOINT_SPEC: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {"endpoints": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "dnsName": {"type": "string"},
            "recordType": {"type": "string"},
            "recordTTL": {"type": "integer"},
            "targets": {"type": "array", "items": {"type": "string"}},
            "labels": _STRING_MAP,
            "setIdentifier": {"type": "string"},
            "providerSpecific": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
        }}}},
}


def _dns_endpoint_validator() -> Validator:
    return _validator({
        "type": "object", "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": "externaldns.k8s.io/v1alpha1"},
                       "kind": {"const": "DNSEndpoint"}, "metadata": _object_meta_schema(True),
                       "spec": DNS_ENDPOINT_SPEC}})


@functools.cache
def object_validator(api_version: str, kind: str) -> Validator:
    """A strict validator for one apiVersion/kind, built from the upstream CRD (cached)."""
    if (api_version, kind) == ("externaldns.k8s.io/v1alpha1", "DNSEndpoint"):
        return _dns_endpoint_validator()
    group, version = _split_api_version(api_version)
    relative = _CRD_FILES.get((group, kind))
    if relative is None:
        known = ", ".join(f"{g}/{k}" for g, k in _CRD_FILES)
        raise NoSchemaError(f"no upstream CRD for {kind} ({api_version}); known: {known}")
    crd = _load_yaml(crds_dir() / relative)
    assert (crd["spec"]["group"], crd["spec"]["names"]["kind"]) == (group, kind), relative
    schema = strict_schema(_crd_version(crd, version)["schema"]["openAPIV3Schema"])
    namespaced = crd["spec"]["scope"] == "Namespaced"
    schema["properties"]["metadata"] = _object_meta_schema(namespaced)
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata"})
    return _validator(schema)


# --- ClusterClass variables ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassVariable:
    """One ClusterClass variable: whether a Cluster must set it, and how to check its value."""

    name: str
    required: bool
    has_default: bool
    validator: Validator

    @property
    def must_be_set(self) -> bool:
        """Required and without a schema default (CAPI fills in defaults of required variables)."""
        return self.required and not self.has_default


@functools.cache
def clusterclass_variables_validator(class_dir: str) -> Mapping[str, ClassVariable]:
    """The variables of one ClusterClass (e.g. ``tkg-vsphere-default-v1.0.0``) by name (cached)."""
    document = _load_yaml(crds_dir() / class_dir / "clusterclass-variables.yaml")
    entries = [_with_azure_etcd_disks(class_dir, e) for e in document["variables"]]
    return {entry["name"]: _class_variable(entry)
            for entry in [*entries, *ADMISSION_OVERLAY_VARIABLES]}


def _with_azure_etcd_disks(class_dir: str, entry: dict[str, Any]) -> dict[str, Any]:
    """tkg-azure-default's controlPlane declares ``dataDisk`` (base.yaml:243-248) while tanzu
    writes ``dataDisks`` (config_variable_association.star:780-784) and the class's own patch
    reads ``.controlPlane.dataDisks`` for the etcd disk (base.yaml:807-813): accept what the
    class reads (issue 15, helper B)."""
    if not class_dir.startswith("tkg-azure-default") or entry.get("name") != "controlPlane":
        return entry
    schema = copy.deepcopy(entry)
    properties = schema["schema"]["openAPIV3Schema"]["properties"]
    properties.setdefault("dataDisks", {"type": "array", "items": {
        "type": "object", "properties": {"sizeGiB": {"type": "integer"}}}})
    return schema


# --- issue 15, helper B: the variables the ClusterClass gets from its cconly admission overlay ---
# The shared/crds snapshots hold base.yaml's spec.variables only; tanzu also applies
# providers/infrastructure-{vsphere,aws,azure}/v*/cconly/overlay-kube-apiserver-admission.yaml,
# which appends podSecurityStandard and eventRateLimitConf (lines 13-73, the same in all three;
# tanzu-framework release-0.29). Written from those lines.
_PSS_LEVEL = {"type": "string", "enum": ["", "privileged", "baseline", "restricted"],
              "nullable": True}
ADMISSION_OVERLAY_VARIABLES: tuple[dict[str, Any], ...] = (
    {"name": "podSecurityStandard", "required": False, "schema": {"openAPIV3Schema": {
        "type": "object", "default": {}, "properties": {
            "deactivated": {"type": "boolean"},
            "enforce": _PSS_LEVEL, "audit": _PSS_LEVEL, "warn": _PSS_LEVEL,
            "enforceVersion": {"type": "string", "default": "v1.24"},
            "auditVersion": {"type": "string", "default": "v1.24"},
            "warnVersion": {"type": "string", "default": "v1.24"},
            "exemptions": {"type": "object", "properties": {
                "namespaces": {"type": "array", "items": {"type": "string"}}}}}}}},
    {"name": "eventRateLimitConf", "required": False,
     "schema": {"openAPIV3Schema": {"type": "string", "default": ""}}},
)


def _class_variable(entry: Mapping[str, Any]) -> ClassVariable:
    openapi = entry["schema"]["openAPIV3Schema"]
    return ClassVariable(
        name=entry["name"],
        required=bool(entry.get("required", False)),
        has_default="default" in openapi,
        validator=_validator(strict_schema(openapi)),
    )


def validate_topology_variables(
    variables: Sequence[Mapping[str, Any]],
    class_dir: str,
    *,
    path: str = "spec.topology.variables",
) -> list[str]:
    """Check a Cluster's ``spec.topology.variables`` against a ClusterClass's variable schemas.

    Reports unknown and duplicate names, required variables that are missing and have no default,
    and every value that does not match its (closed) schema. ``path`` prefixes each message.
    """
    known = clusterclass_variables_validator(class_dir)
    errors: list[str] = []
    seen: set[str] = set()
    for index, variable in enumerate(variables):
        errors.extend(_variable_errors(variable, known, seen, f"{path}[{index}]", class_dir))
        seen.add(variable.get("name", ""))
    errors.extend(
        f"{path}: required variable {name!r} of {class_dir} is missing and has no default"
        for name, spec in known.items()
        if spec.must_be_set and name not in seen
    )
    return errors


def _variable_errors(
    variable: Mapping[str, Any],
    known: Mapping[str, ClassVariable],
    seen: set[str],
    path: str,
    class_dir: str,
) -> list[str]:
    name = str(variable.get("name", ""))
    if name in seen:
        return [f"{path}.name: duplicate variable {name!r}"]
    if name not in known:
        return [f"{path}.name: unknown variable {name!r} for {class_dir}"]
    if "value" not in variable:
        return [f"{path}: variable {name!r} has no value"]
    return _schema_errors(known[name].validator, variable["value"], f"{path}.value")


# --- objects -------------------------------------------------------------------------------------


def validate_object(obj: Mapping[str, Any]) -> list[str]:
    """All schema errors of one rendered object, each prefixed with the JSON path it concerns.

    A class-based Cluster of a TKG default class also has its topology variables checked.
    Raises NoSchemaError for kinds without an upstream CRD here (e.g. a kustomize Kustomization).
    """
    validator = object_validator(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    errors = _schema_errors(validator, obj, "")
    class_dir = _topology_class_dir(obj)
    variables = obj.get("spec", {}).get("topology", {}).get("variables", [])
    if class_dir is not None and isinstance(variables, list):
        errors.extend(validate_topology_variables(variables, class_dir))
    return errors


def _topology_class_dir(obj: Mapping[str, Any]) -> str | None:
    if obj.get("kind") != "Cluster":
        return None
    topology_class = str(obj.get("spec", {}).get("topology", {}).get("class", ""))
    return next(
        (d for prefix, d in CLASS_VARIABLE_DIRS.items() if topology_class.startswith(prefix)),
        None,
    )


# --- error formatting ----------------------------------------------------------------------------


def _schema_errors(validator: Validator, instance: Any, path: str) -> list[str]:
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (_json_path(e.absolute_path), e.message)
    )
    return [message for error in errors for message in _messages(error, path)]


def _messages(error: ValidationError, prefix: str) -> list[str]:
    """One message per error; one per unexpected key for a closed object."""
    where = _join(prefix, _json_path(error.absolute_path)) or "(top level)"
    if error.validator == "additionalProperties" and error.validator_value is False:
        return [f"{where}: {key!r} is not allowed" for key in _unexpected_keys(error)]
    return [f"{where}: {error.message}"]


def _unexpected_keys(error: ValidationError) -> list[str]:
    """The keys of a closed object that its schema does not list."""
    schema: Mapping[str, Any] = error.schema  # type: ignore[assignment]
    instance: Mapping[str, Any] = error.instance  # type: ignore[assignment]
    return [key for key in instance if key not in schema.get("properties", {})]


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _json_path(parts: Iterable[str | int]) -> str:
    """``spec.topology.variables[3].value``; keys with dots or slashes as ``labels["a.b/c"]``."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            path += f".{part}"
        else:
            path += f'["{part}"]'
    return path.removeprefix(".")


def _join(prefix: str, path: str) -> str:
    if not prefix or not path:
        return prefix or path
    return prefix + ("" if path.startswith("[") else ".") + path
