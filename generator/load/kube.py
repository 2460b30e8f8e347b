"""What the Kubernetes API server accepts, for inventory values written into object metadata and
CRD fields: label and annotation keys and values, the annotation budget, int32 counts.

The rules are apimachinery's, rule for rule (``k8s.io/apimachinery/pkg/util/validation`` and
``pkg/api/validation``): label keys are ``IsQualifiedName``, label values ``IsValidLabelValue``,
annotation keys ``IsQualifiedName`` of the lower-cased key, and all annotations together at most
``TotalAnnotationSizeLimitB`` bytes. Go's ``len`` counts UTF-8 bytes, and Go's regexp is matched
whole, so the patterns here use ``fullmatch`` (``$`` would accept a trailing line break).

Keys fleetgen writes itself (``OWNED_ANNOTATIONS``, ``OWNED_LABELS``) are refused in the inventory:
a value there would silently override, or be overridden by, the one derived from a checked field.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# apimachinery: qualifiedNameFmt, qualifiedNameMaxLength, dns1123SubdomainFmt,
# DNS1123SubdomainMaxLength, labelValueFmt, LabelValueMaxLength, TotalAnnotationSizeLimitB.
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
NAME_MAX = 63
SUBDOMAIN_MAX = 253
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024
INT32_MAX = 2_147_483_647

KEY_RULE = ("must be a name of at most 63 letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit, with an optional DNS subdomain prefix and '/'")
VALUE_RULE = ("must be empty or at most 63 letters, digits, '-', '_' and '.', starting and ending "
              "with a letter or digit")

# Written by fleetgen on the Cluster (render/views.py, templates/cluster.yaml.j2): key → from what.
OWNED_ANNOTATIONS = {
    "osInfo": ("os:", "os:"),
    "tkg/plan": ("plan:", "plan:"),
    "tkg.tanzu.vmware.com/cluster-controlplane-endpoint": ("controlPlane.endpoint",
                                                           "controlPlane.endpoint"),
    "run.tanzu.vmware.com/resolve-os-image": ("os: and the infrastructure", "os:"),
}
OWNED_LABELS = {"tkg.tanzu.vmware.com/cluster-name": ("the cluster's name", "name:")}


def is_qualified_name(text: str) -> bool:
    """apimachinery ``IsQualifiedName``: ``[prefix/]name``, the prefix a DNS-1123 subdomain of at
    most 253 characters, the name at most 63 characters of ``_NAME``.

    >>> [is_qualified_name(s) for s in ("app", "example.com/app", "my key", "a/b/c", "/a", "-a")]
    [True, True, False, False, False, False]
    """
    prefix, slash, name = text.rpartition("/")
    if slash and (not prefix or "/" in prefix or len(prefix) > SUBDOMAIN_MAX
                  or not _SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= NAME_MAX and bool(_NAME.fullmatch(name))


def is_label_value(text: str) -> bool:
    """apimachinery ``IsValidLabelValue``: empty, or at most 63 characters of ``_NAME``."""
    return text == "" or (len(text) <= LABEL_VALUE_MAX and bool(_NAME.fullmatch(text)))


def _owned(kind: str, owned: dict[str, tuple[str, str]], key: str) -> None:
    if key in owned:
        source, instead = owned[key]
        raise ValueError(f"fleetgen writes the {kind} '{key}' (from {source}); set {instead} "
                         "instead")


def _worker_label_key(value: str) -> str:
    if not is_qualified_name(value):
        raise ValueError(f"the label key '{value}' {KEY_RULE}")
    return value


def _label_key(value: str) -> str:
    _worker_label_key(value)
    _owned("label", OWNED_LABELS, value)
    return value


def _label_value(value: str) -> str:
    if not is_label_value(value):
        raise ValueError(f"the label value '{value}' {VALUE_RULE}")
    return value


def _annotation_key(value: str) -> str:
    if not is_qualified_name(value.lower()):  # ValidateAnnotations lower-cases the key
        raise ValueError(f"the annotation key '{value}' {KEY_RULE}")
    _owned("annotation", OWNED_ANNOTATIONS, value)
    return value


def _annotations_size(value: dict[str, str]) -> dict[str, str]:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items())
    if size > ANNOTATIONS_MAX_BYTES:
        raise ValueError(f"the annotations take {size} bytes; Kubernetes allows at most "
                         f"{ANNOTATIONS_MAX_BYTES} (256 KiB)")
    return value


def _int32(value: int) -> int:
    if value > INT32_MAX:
        raise ValueError(f"{value} is more than the CRD's int32 allows ({INT32_MAX})")
    return value


LabelValue = Annotated[str, AfterValidator(_label_value)]
Labels = dict[Annotated[str, AfterValidator(_label_key)], LabelValue]
WorkerLabels = dict[Annotated[str, AfterValidator(_worker_label_key)], LabelValue]
Annotations = Annotated[dict[Annotated[str, AfterValidator(_annotation_key)], str],
                        AfterValidator(_annotations_size)]
# Counts and sizes (replicas, maxSurge, CPUs, MiB, GiB): int32 in the CRDs they reach.
_MAX = Field(json_schema_extra={"maximum": INT32_MAX})
Int32 = Annotated[int, AfterValidator(_int32), _MAX]
Count = Annotated[int, Field(ge=0), AfterValidator(_int32), _MAX]  # zero or more
Size = Annotated[int, Field(ge=1), AfterValidator(_int32), _MAX]  # one or more
