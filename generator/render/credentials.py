"""vCenter credentials of vSphere clusters, without a secret value in the repository.

tanzu writes a Secret named after the cluster from VSPHERE_USERNAME / VSPHERE_PASSWORD
(tanzu-framework-release-0.29 providers/infrastructure-vsphere/v1.5.3/yttcc/base-template.yaml:3-9),
and the ClusterClass points the VSphereCluster at it unless the ``identityRef`` variable is set
(providers/infrastructure-vsphere/v1.5.3/cconly/base.yaml:881-896). fleetgen renders instead, per
cluster (its own ``vsphere.identityRef`` first, else fleetgen.yaml ``credentials.vsphere``):

* ``identityRef``: the ``identityRef`` topology variable (no Secret at all);
* ``externalSecret``: ``credentials.yaml``, an ExternalSecret that makes the Secret ``<cluster>``;
* ``sealedSecret`` / ``sops``: ``credentials.yaml``, the repository's encrypted file copied byte
  for byte, after checking that it is really sealed / encrypted: a file with a plain value is a
  ``secret-value`` error, and nothing is written.

A vSphere cluster without any source is a ``no-credentials`` error (``credential_problems``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from generator.check.fleet import Cluster, Fleet
from generator.load.settings import VSphereCredentials
from generator.paths import SETTINGS_FILE, Reader, Unsafe
from generator.problems import FleetError, Location, Problem, refused
from generator.secrets import is_secret_key, scrub
from generator.yaml.load import Path_, Positions, load_positioned_all

EXTERNAL_SECRETS_API = "external-secrets.io/v1beta1"
KEYS = ("username", "password")  # what CAPV reads from the Secret (base-template.yaml:8-9)
SECRET_HINT = ("seal it (kubeseal) or encrypt it (sops) before it is committed, and remove the "
               "plain file from git history")
NO_CREDENTIALS_HINT = (f"add to {SETTINGS_FILE}: 'credentials: {{vsphere: {{identityRef: {{kind: "
                       "VSphereClusterIdentity, name: <identity>}}}' (or externalSecret, "
                       "sealedSecret, sops), or give the cluster vsphere.identityRef")


COPIED = "(copied)"  # the "template" of a copied credentials file: there is none


@dataclass(frozen=True, eq=False)
class CredentialsFile:
    """A render source: the encrypted credentials file of one cluster, copied as it is."""

    cluster: Cluster
    path: str  # relative to the fleet root
    mode: str  # sealedSecret | sops


def source_of(cluster: Cluster) -> tuple[str, Any] | None:
    """How the cluster gets its vCenter credentials: (mode, value), or None (not vSphere, or no
    source). The cluster's own ``vsphere.identityRef`` wins over fleetgen.yaml's."""
    vsphere = cluster.spec.vsphere
    if vsphere is None:
        return None
    if vsphere.identity_ref is not None:
        return "identityRef", vsphere.identity_ref
    settings: VSphereCredentials | None = cluster.credentials
    if settings is None:
        return None
    mode = settings.mode
    value = {"identityRef": settings.identity_ref, "externalSecret": settings.external_secret,
             "sealedSecret": settings.sealed_secret, "sops": settings.sops}[mode]
    return mode, value


def _fill(template: str, cluster: Cluster) -> str:
    spec = cluster.spec
    return template.format(managementCluster=spec.management_cluster, namespace=spec.namespace,
                           name=spec.name)


def credentials_file(cluster: Cluster) -> CredentialsFile | None:
    """The encrypted file to copy into the cluster's folder, if its source is one."""
    source = source_of(cluster)
    if source is None or source[0] not in ("sealedSecret", "sops"):
        return None
    return CredentialsFile(cluster, _fill(source[1], cluster), source[0])


def credentials_view(cluster: Cluster) -> dict[str, Any]:
    """What the templates see: ``identity_ref`` (the topology variable's value, or None) and
    ``external_secret`` (the ExternalSecret object, or None)."""
    source = source_of(cluster)
    mode, value = source if source is not None else ("", None)
    identity = value.model_dump() if mode == "identityRef" and value is not None else None
    external = None
    if mode == "externalSecret" and value is not None:
        spec = cluster.spec
        external = {
            "apiVersion": EXTERNAL_SECRETS_API, "kind": "ExternalSecret",
            "metadata": {"name": spec.name, "namespace": spec.namespace},
            "spec": {
                "refreshInterval": value.refresh_interval,
                "secretStoreRef": value.store_ref.model_dump(),
                # The Secret the ClusterClass's default identityRef names (base.yaml:893-895).
                "target": {"name": spec.name, "creationPolicy": "Owner"},
                # Every property of the entry: it holds `username` and `password`.
                "dataFrom": [{"extract": {"key": _fill(value.key, cluster)}}],
            },
        }
    return {"identity_ref": identity, "external_secret": external}


def credential_problems(clusters: list[Cluster] | tuple[Cluster, ...]) -> list[Problem]:
    """A ``no-credentials`` error for each vSphere cluster without a source of credentials."""
    return [Problem(Location(c.inventory.file), "no-credentials",
                    f"vSphere cluster '{c.spec.name}' has no source of vCenter credentials (its "
                    "VSphereCluster would wait for a Secret nobody creates)", NO_CREDENTIALS_HINT)
            for c in clusters if c.spec.vsphere is not None and source_of(c) is None]


# --- the encrypted file -------------------------------------------------------------------------

_SOPS_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,"
                         r"tag:[A-Za-z0-9+/=]+,type:[a-z]+\]$")
_SOPS_KEY_GROUPS = ("kms", "gcp_kms", "azure_kv", "hc_vault", "age", "pgp", "key_groups")
MIN_SEALED_BYTES = 130  # a 2-byte length and an RSA-OAEP session key of >= 1024 bits, at least


def read_credentials(reader: Reader, source: CredentialsFile) -> str:
    """The text of the cluster's encrypted credentials file, read through ``reader`` (so the
    render cache records it), after checking it; raises FleetError with located problems."""
    rel = source.path
    try:
        data = reader.read(rel)
    except Unsafe as exc:
        raise FleetError([refused(exc)]) from None
    spec = source.cluster.spec
    if data is None:
        raise FleetError([Problem(Location(rel), "credentials-missing",
                                  f"cluster '{spec.name}' takes its vCenter credentials from "
                                  f"{rel} ({SETTINGS_FILE} credentials.vsphere.{source.mode}), "
                                  "which does not exist",
                                  "create it: a Secret named after the cluster, with username "
                                  "and password, " + ("sealed with kubeseal" if source.mode ==
                                                      "sealedSecret" else "encrypted with sops"))])
    try:
        text = data.decode("utf-8")
        docs = load_positioned_all(text, rel)
    except UnicodeDecodeError:
        raise FleetError([Problem(Location(rel), "credentials-file", "is not UTF-8 text")]) \
            from None
    problems = _comment_problems(text, rel) + _check(docs, rel, source)
    if problems:
        raise FleetError(problems)
    return text if text.endswith("\n") else text + "\n"


def _check(docs: list[tuple[Any, Positions]], rel: str, source: CredentialsFile
           ) -> list[Problem]:
    spec = source.cluster.spec
    if len(docs) != 1 or not isinstance(docs[0][0], dict):
        return [Problem(Location(rel), "credentials-file", "must hold exactly one object: the "
                        f"{'SealedSecret' if source.mode == 'sealedSecret' else 'Secret'} of "
                        f"cluster '{spec.name}'")]
    doc, pos = docs[0]

    def at(path: Path_, key: bool = False) -> Location:
        found = (pos.keys if key else pos.values).get(path) or pos.keys.get(path)
        return found or Location(rel)

    problems = [Problem(at(path, key=True), "secret-value",
                        f"{'/'.join(map(str, path))} holds a plain secret value; fleetgen never "
                        "copies an unencrypted Secret into rendered/", SECRET_HINT)
                for path in _plain_values(doc, source.mode)]
    problems += [Problem(at(path, key=True), "secret-value",
                         f"{'/'.join(map(str, path))} holds a plain secret value beside the "
                         "encrypted ones; the file is copied into rendered/ as it is",
                         SECRET_HINT)
                 for path in _stray_values(doc, source.mode)]
    if problems:
        return problems
    sealed = source.mode == "sealedSecret"
    kind = ("bitnami.com/v1alpha1", "SealedSecret") if sealed else ("v1", "Secret")
    if (doc.get("apiVersion"), doc.get("kind")) != kind:
        encrypted = str(doc.get("kind", "")).startswith("ENC[")
        return [Problem(at(("kind",)), "credentials-file",
                        f"is {'an encrypted object' if encrypted else doc.get('kind')}, not a "
                        f"{kind[1]} ({kind[0]})",
                        "encrypt only the values (sops --encrypted-regex '^(data|stringData)$'), "
                        "so Flux and kustomize can read the object" if encrypted else "")]
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    for field, wanted in (("name", spec.name), ("namespace", spec.namespace)):
        if meta.get(field) != wanted:
            problems.append(Problem(at(("metadata", field)), "credentials-file",
                                    f"metadata.{field} must be '{wanted}': the ClusterClass "
                                    "points the VSphereCluster at the Secret named after the "
                                    "cluster, in its namespace"))
    problems += _sealed(doc, at) if sealed else _sops(doc, at)
    return problems


def _plain_values(doc: dict[str, Any], mode: str) -> list[Path_]:
    """Where the object holds a secret in the clear: any ``data`` / ``stringData`` of a sealed
    file (top level or its template), and any value of a SOPS file's ``data`` / ``stringData``
    that is not SOPS ciphertext."""
    found: list[Path_] = []
    spec = doc.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    places: list[tuple[Path_, Any]] = [((k,), doc.get(k)) for k in ("data", "stringData")]
    if mode == "sealedSecret" or doc.get("kind") != "Secret":
        if isinstance(template, dict):
            places += [(("spec", "template", k), template.get(k)) for k in ("data", "stringData")]
        return [path for path, value in places if value]
    for path, value in places:
        if isinstance(value, dict):
            found += [(*path, k) for k, v in value.items()
                      if not (isinstance(v, str) and _SOPS_VALUE.match(v))]
        elif value is not None:
            found.append(path)
    return found


def _stray_values(doc: dict[str, Any], mode: str) -> list[Path_]:
    """Plain secrets outside the encrypted values (which ``_plain_values`` checks): a
    secret-looking key with a value, or a value that holds a password, a private key or an
    ``<encoded:…>`` secret (``scrub`` would mask it), such as the
    ``kubectl.kubernetes.io/last-applied-configuration`` annotation of a Secret exported with
    kubectl, which repeats its plain ``stringData``."""
    skip: set[Path_] = ({("data",), ("stringData",), ("sops",)} if mode == "sops"
                        else {("spec", "encryptedData")})
    found: list[Path_] = []

    def walk(value: Any, path: Path_) -> None:
        if path in skip:
            return
        if isinstance(value, dict):
            for key, child in value.items():
                if is_secret_key(str(key)) and not isinstance(child, (dict, list)):
                    found.append((*path, key))
                else:
                    walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))
        elif isinstance(value, str) and (_holds_plain_object(value, mode)
                                         or scrub(value) != value):
            found.append(path)

    walk(doc, ())
    return found


def _holds_plain_object(text: str, mode: str) -> bool:
    """Whether a text value is a JSON object with a plain secret (the last-applied annotation);
    one too deeply nested to check counts as one."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        nested = json.loads(text)
        return isinstance(nested, dict) and bool(_plain_values(nested, mode)
                                                 or _stray_values(nested, mode))
    except ValueError:
        return False
    except RecursionError:
        return True


def _comment_problems(text: str, rel: str) -> list[Problem]:
    """A comment is copied too, and sops encrypts comments (``#ENC[…]``): a plain comment that
    holds a secret (``# password: …``) is refused like a plain value."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.search(r"(?:^|\s)(#.*)$", line)
        if match is not None and scrub(match[1]) != match[1]:
            problems.append(Problem(Location(rel, number, match.start(1) + 1), "secret-value",
                                    "this comment holds a plain secret; the file is copied "
                                    "into rendered/ as it is", SECRET_HINT))
    return problems


def _sealed(doc: dict[str, Any], at: Any) -> list[Problem]:
    spec = doc.get("spec")
    data = spec.get("encryptedData") if isinstance(spec, dict) else None
    if not isinstance(data, dict) or not data:
        return [Problem(at(("spec",)), "credentials-file", "has no spec.encryptedData")]
    problems = []
    for key, value in data.items():
        if not (isinstance(value, str) and _sealed_value(value)):
            problems.append(Problem(at(("spec", "encryptedData", key)), "secret-value",
                                    f"spec.encryptedData.{key} is not a sealed value (kubeseal "
                                    "output is long base64 ciphertext)", SECRET_HINT))
    problems += _keys(data, at(("spec", "encryptedData"), key=True), "spec.encryptedData")
    return problems


def _sealed_value(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) >= MIN_SEALED_BYTES
    except (binascii.Error, ValueError):
        return False


def _sops(doc: dict[str, Any], at: Any) -> list[Problem]:
    meta = doc.get("sops")
    if not (isinstance(meta, dict) and isinstance(meta.get("mac"), str)
            and _SOPS_VALUE.match(meta["mac"])
            and any(meta.get(group) for group in _SOPS_KEY_GROUPS)):
        return [Problem(at(("sops",), key=True) if "sops" in doc else at(("kind",)),
                        "secret-value", "is not encrypted with sops (no sops metadata with a "
                        "mac and a key)", SECRET_HINT)]
    data = {k: v for field in ("stringData", "data") if isinstance(doc.get(field), dict)
            for k, v in doc[field].items()}
    return _keys(data, at(("data",), key=True) if "data" in doc else at(("kind",)), "data")


def _keys(data: dict[str, Any], where: Location, label: str) -> list[Problem]:
    missing = [k for k in KEYS if k not in data]
    if not missing:
        return []
    return [Problem(where, "credentials-file", f"{label} lacks {' and '.join(missing)}: CAPV "
                    "reads the vCenter username and password from these keys")]


def with_credentials(fleet: Fleet, settings: VSphereCredentials | None) -> Fleet:
    """The fleet with fleetgen.yaml's ``credentials.vsphere`` on each vSphere cluster (so its
    views and outputs see it); raises FleetError with a ``no-credentials`` problem for each
    vSphere cluster left without a source."""
    clusters = tuple(replace(c, credentials=settings) if c.spec.vsphere is not None else c
                     for c in fleet.clusters)
    problems = credential_problems(clusters)
    if problems:
        raise FleetError(problems)
    return replace(fleet, clusters=clusters)
