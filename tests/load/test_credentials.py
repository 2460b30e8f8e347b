"""vCenter credentials of vSphere clusters (issue 15, item 5): fleetgen.yaml `credentials:` and
the cluster's own `vsphere.identityRef`, rendered as the `identityRef` topology variable or as a
`credentials.yaml` (an ExternalSecret, or the repository's SealedSecret / SOPS file copied after
checking it is really encrypted). Never a secret value in rendered/.

tanzu's own way: a Secret named after the cluster, from VSPHERE_USERNAME / VSPHERE_PASSWORD
(tanzu-framework-release-0.29 providers/infrastructure-vsphere/v1.5.3/yttcc/base-template.yaml:3-9),
which the class's VSphereCluster names unless `identityRef` is set
(providers/infrastructure-vsphere/v1.5.3/cconly/base.yaml:881-896).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from support.fleets import VSPHERE_DEFAULTS, write_tree

from generator.cache.store import RenderCache
from generator.pipeline import load_fleet, wanted_files
from generator.problems import FleetError
from generator.render.layout import layout
from generator.yaml.fast import load_fast, load_fast_all

FOLDER = "mgmt-a/dev/web"
# The shared vSphere defaults, without the identity they name (each test sets its own source).
DEFAULTS = "".join(line for line in VSPHERE_DEFAULTS.splitlines(keepends=True)
                   if "identityRef" not in line)
WEB = "controlPlane: {endpoint: 10.0.0.10}\n"
IDENTITY = "credentials: {vsphere: {identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}}}\n"
EXTERNAL = ("credentials:\n  vsphere:\n    externalSecret:\n"
            "      storeRef: {kind: ClusterSecretStore, name: vault}\n"
            "      key: \"tkg/{managementCluster}/{namespace}/{name}\"\n")
SEALED_SETTING = "credentials: {vsphere: {sealedSecret: \"secrets/{namespace}/{name}.yaml\"}}\n"
SOPS_SETTING = "credentials: {vsphere: {sops: \"secrets/{namespace}/{name}.yaml\"}}\n"
CIPHER = base64.b64encode(bytes(range(256)) * 2).decode()  # kubeseal output: long base64
SEALED = f"""\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: web
  namespace: dev
spec:
  encryptedData:
    username: {CIPHER}
    password: {CIPHER}
  template:
    metadata:
      name: web
      namespace: dev
"""
ENC = "ENC[AES256_GCM,data:q83vEjRWeJA=,iv:AAECAwQFBgcICQoLDA0ODw==,tag:AAECAwQFBgcICQoLDA0ODw==,type:str]"
SOPS = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: web
  namespace: dev
type: Opaque
stringData:
  username: {ENC}
  password: {ENC}
sops:
  age:
  - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    enc: |
      -----BEGIN AGE ENCRYPTED FILE-----
      YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBzb21ldGhpbmcK
      -----END AGE ENCRYPTED FILE-----
  lastmodified: "2026-01-01T00:00:00Z"
  mac: {ENC}
  encrypted_regex: ^(data|stringData)$
  version: 3.8.1
"""
PLAIN = """\
apiVersion: v1
kind: Secret
metadata:
  name: web
  namespace: dev
stringData:
  username: administrator@vsphere.local
  password: hunter2-but-longer
"""


def fleet(tmp_path: Path, settings: str | None, web: str = WEB, **files: str) -> Path:
    tree = {"clusters/_defaults.yaml": DEFAULTS, "clusters/dev/web.yaml": web, **files}
    if settings is not None:
        tree["fleetgen.yaml"] = settings
    return write_tree(tmp_path / "fleet", tree)


def render(root: Path, cache: RenderCache | None = None) -> dict[str, bytes]:
    return wanted_files(root, load_fleet(root, cache=cache), cache=cache)


def problems(root: Path) -> list[Any]:
    with pytest.raises(FleetError) as info:
        render(root)
    return [p for p in info.value.problems if p.severity == "error"]


def variables(files: dict[str, bytes]) -> dict[str, Any]:
    cluster = load_fast(files[f"{FOLDER}/cluster.yaml"])
    return {v["name"]: v["value"] for v in cluster["spec"]["topology"]["variables"]}


def kustomization(files: dict[str, bytes]) -> list[str]:
    return load_fast(files[f"{FOLDER}/kustomization.yaml"])["resources"]  # type: ignore[no-any-return]


# --- identityRef -----------------------------------------------------------------------------------

def test_fleet_wide_identity_becomes_the_identityref_variable(tmp_path: Path) -> None:
    files = render(fleet(tmp_path, IDENTITY))
    # cconly/base.yaml:592-604 (the variable), 881-896 (the patch that uses it)
    assert variables(files)["identityRef"] == {"kind": "VSphereClusterIdentity",
                                               "name": "tkg-vcenter"}
    assert f"{FOLDER}/credentials.yaml" not in files  # no Secret at all


def test_cluster_identity_overrides_the_fleet_setting(tmp_path: Path) -> None:
    web = WEB + "vsphere: {identityRef: {kind: Secret, name: web-vcenter}}\n"
    files = render(fleet(tmp_path, EXTERNAL, web))
    assert variables(files)["identityRef"] == {"kind": "Secret", "name": "web-vcenter"}
    assert f"{FOLDER}/credentials.yaml" not in files


def test_cluster_identity_needs_no_fleet_setting(tmp_path: Path) -> None:
    web = WEB + "vsphere: {identityRef: {kind: VSphereClusterIdentity, name: site-a}}\n"
    assert variables(render(fleet(tmp_path, None, web)))["identityRef"]["name"] == "site-a"


# --- no source --------------------------------------------------------------------------------------

def test_vsphere_cluster_without_credentials_is_a_located_error(tmp_path: Path) -> None:
    found = problems(fleet(tmp_path, None))
    assert [(p.code, p.location.path) for p in found] == [("no-credentials",
                                                           "clusters/dev/web.yaml")]
    assert "credentials: {vsphere: {identityRef:" in found[0].hint  # the fleetgen.yaml block


def test_aws_cluster_needs_no_vsphere_credentials(tmp_path: Path) -> None:
    aws = ("managementCluster: mgmt-a\nnamespace: dev\ninfrastructure: aws\n"
           "kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n"
           "aws: {region: eu-west-1, sshKeyName: k, subnets: [{az: eu-west-1a}]}\n")
    root = write_tree(tmp_path / "fleet", {"clusters/dev/shop.yaml": aws})
    paths = {o.path for o in layout(load_fleet(root))}
    assert "mgmt-a/dev/shop/cluster.yaml" in paths
    assert "mgmt-a/dev/shop/credentials.yaml" not in paths


@pytest.mark.parametrize(("settings", "word"), [
    ("credentials: {vsphere: {}}\n", "exactly one"),
    ("credentials: {vsphere: {sops: secrets/a.yaml, sealedSecret: secrets/b.yaml}}\n",
     "exactly one"),
    ("credentials: {vsphere: {sops: \"../secrets/{name}.yaml\"}}\n", "inside the fleet"),
    ("credentials: {vsphere: {sops: \"secrets/{cluster}.yaml\"}}\n", "placeholder"),
    ("credentials: {vsphere: {sops: \"clusters/{name}.yaml\"}}\n", "is a cluster"),
    ("credentials: {vsphere: {identityRef: {kind: Other, name: x}}}\n", "VSphereClusterIdentity"),
])
def test_bad_settings_are_located_in_fleetgen_yaml(tmp_path: Path, settings: str,
                                                   word: str) -> None:
    found = problems(fleet(tmp_path, settings))
    assert {(p.location.path, p.location.line) for p in found} == {("fleetgen.yaml", 1)}
    assert any(word in p.message + p.hint for p in found)


# --- externalSecret ---------------------------------------------------------------------------------

def test_external_secret_makes_the_secret_named_after_the_cluster(tmp_path: Path) -> None:
    files = render(fleet(tmp_path, EXTERNAL))
    assert "identityRef" not in variables(files)  # the class's default: Secret <cluster>
    assert "credentials.yaml" in kustomization(files)
    (secret,) = load_fast_all(files[f"{FOLDER}/credentials.yaml"].decode())
    assert secret == {
        "apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
        "metadata": {"name": "web", "namespace": "dev"},
        "spec": {"refreshInterval": "1h",
                 "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
                 # base-template.yaml:5-6: the Secret is named after the cluster
                 "target": {"name": "web", "creationPolicy": "Owner"},
                 "dataFrom": [{"extract": {"key": "tkg/mgmt-a/dev/web"}}]}}


def test_external_secret_shape(tmp_path: Path) -> None:
    """No schema of external-secrets.io is in ../shared/crds: the v1beta1 shape, checked here
    (required fields of ExternalSecretSpec, the store kinds, the creation policies)."""
    files = render(fleet(tmp_path, EXTERNAL))
    (secret,) = load_fast_all(files[f"{FOLDER}/credentials.yaml"].decode())
    spec = secret["spec"]
    assert set(spec) <= {"refreshInterval", "secretStoreRef", "target", "data", "dataFrom"}
    assert spec["secretStoreRef"]["kind"] in ("SecretStore", "ClusterSecretStore")
    assert isinstance(spec["secretStoreRef"]["name"], str) and spec["secretStoreRef"]["name"]
    assert spec["target"]["creationPolicy"] in ("Owner", "Orphan", "Merge", "None")
    for item in spec["dataFrom"]:
        assert set(item) == {"extract"} and set(item["extract"]) == {"key"}


# --- sealedSecret / sops ----------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "text"), [(SEALED_SETTING, SEALED), (SOPS_SETTING, SOPS)])
def test_encrypted_file_is_copied_byte_for_byte(tmp_path: Path, settings: str, text: str) -> None:
    files = render(fleet(tmp_path, settings, **{"secrets/dev/web.yaml": text}))
    assert files[f"{FOLDER}/credentials.yaml"] == text.encode()
    assert "credentials.yaml" in kustomization(files)
    assert "identityRef" not in variables(files)


@pytest.mark.parametrize("settings", [SEALED_SETTING, SOPS_SETTING])
def test_plain_secret_is_refused_and_nothing_written(tmp_path: Path, settings: str) -> None:
    root = fleet(tmp_path, settings, **{"secrets/dev/web.yaml": PLAIN})
    found = problems(root)
    assert {p.code for p in found} == {"secret-value"}
    assert {(p.location.path, p.location.line) for p in found} <= {
        ("secrets/dev/web.yaml", 6), ("secrets/dev/web.yaml", 7), ("secrets/dev/web.yaml", 8)}
    assert all("hunter2" not in p.text() for p in found)
    assert not (root / "rendered").exists()


def test_sops_file_with_one_plain_value_is_refused(tmp_path: Path) -> None:
    text = SOPS.replace(f"  password: {ENC}", "  password: hunter2")
    found = problems(fleet(tmp_path, SOPS_SETTING, **{"secrets/dev/web.yaml": text}))
    assert [(p.code, p.location.line) for p in found] == [("secret-value", 9)]


def test_sops_file_without_sops_metadata_is_refused(tmp_path: Path) -> None:
    text = SOPS[:SOPS.index("sops:")]
    found = problems(fleet(tmp_path, SOPS_SETTING, **{"secrets/dev/web.yaml": text}))
    assert [p.code for p in found] == ["secret-value"]


def test_short_sealed_value_is_refused(tmp_path: Path) -> None:
    text = SEALED.replace(f"password: {CIPHER}", "password: aHVudGVyMg==")
    found = problems(fleet(tmp_path, SEALED_SETTING, **{"secrets/dev/web.yaml": text}))
    assert [(p.code, p.location.line) for p in found] == [("secret-value", 9)]


def test_encrypted_file_for_another_cluster_is_refused(tmp_path: Path) -> None:
    text = SEALED.replace("  name: web\n  namespace: dev\nspec", "  name: api\n  namespace: dev\nspec")
    found = problems(fleet(tmp_path, SEALED_SETTING, **{"secrets/dev/web.yaml": text}))
    assert [(p.code, p.location.line) for p in found] == [("credentials-file", 4)]


def test_missing_encrypted_file_is_located(tmp_path: Path) -> None:
    found = problems(fleet(tmp_path, SEALED_SETTING))
    assert [(p.code, p.location.path) for p in found] == [("credentials-missing",
                                                           "secrets/dev/web.yaml")]


def test_encrypted_file_is_not_read_through_a_symlink(tmp_path: Path) -> None:
    root = fleet(tmp_path, SEALED_SETTING)
    (tmp_path / "elsewhere.yaml").write_text(SEALED, encoding="utf-8")
    (root / "secrets" / "dev").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere.yaml", root / "secrets" / "dev" / "web.yaml")
    assert [p.code for p in problems(root)] == ["symlink"]


def test_render_cache_sees_a_changed_encrypted_file(tmp_path: Path) -> None:
    root = fleet(tmp_path, SEALED_SETTING, **{"secrets/dev/web.yaml": SEALED})
    first = render(root, RenderCache(tmp_path / "cache"))
    changed = SEALED.replace(CIPHER, CIPHER[::-1].replace("=", "A") + "==", 1)
    (root / "secrets/dev/web.yaml").write_text(changed, encoding="utf-8")
    second = render(root, RenderCache(tmp_path / "cache"))
    assert first[f"{FOLDER}/credentials.yaml"] == SEALED.encode()
    assert second[f"{FOLDER}/credentials.yaml"] == changed.encode()
