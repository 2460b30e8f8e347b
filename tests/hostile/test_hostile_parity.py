"""Hostile inputs to the TKG parity code (issue 15): the credentials settings and the encrypted
files they name, the option keys of the variable catalog, and ``fleetgen import tkg`` of flat
configs that carry a secret where a plain value is expected.

* a credentials path or key template with a format spec or a conversion (``{name:x}``,
  ``{name!r}``, ``{name:/<4}``) crashed the render (exit 3) or built paths the template check
  never saw; only the bare placeholders are templates;
* a proxy URL with a user and password (``http://user:pass@proxy``) is a secret: it is refused,
  never written into rendered/ or an inventory, and never printed;
* a flat config value holding a PEM private key (in any variable, not only the known credential
  ones) is refused by ``import tkg`` instead of being written into the inventory;
* a SealedSecret or SOPS file copied into rendered/ must hold no plain secret anywhere: not in a
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation (which repeats the plain
  ``stringData`` of a Secret exported with kubectl), not under a secret-looking label or
  annotation, not in a comment (the file is copied byte for byte);
* a certificate option (CUSTOM_TDNF_REPOSITORY_CERTIFICATE) must be a certificate, not a
  base64-encoded private key.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from support.cli import fleetgen
from support.fleets import VSPHERE_FLAT
from support.hostile import WEB, WEB_FILE, assert_refused, assert_refused_cleanly, state, write

SECRET = "hunter2-Sup3rS3cret"
ENC = ("ENC[AES256_GCM,data:q83vEjRWeJA=,iv:AAECAwQFBgcICQoLDA0ODw==,"
       "tag:AAECAwQFBgcICQoLDA0ODw==,type:str]")


def _sops(name: str, extra_meta: str = "", head: str = "") -> str:
    return f"""{head}apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: dev
{extra_meta}type: Opaque
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
  mac: {ENC}
  version: 3.8.1
"""


CIPHER = base64.b64encode(bytes(range(256)) * 2).decode()


def _sealed(name: str, template_meta: str = "") -> str:
    return f"""apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: {name}
  namespace: dev
spec:
  encryptedData:
    username: {CIPHER}
    password: {CIPHER}
  template:
    metadata:
{template_meta}      name: {name}
      namespace: dev
"""


def _credentials_fleet(fleet: Path, mode: str, web: str, api: str) -> Path:
    """The fleet with its credentials taken from encrypted files below secrets/ (the clusters'
    own identityRef removed from the defaults)."""
    defaults = fleet / "clusters/_defaults.yaml"
    defaults.write_text("".join(line for line in defaults.read_text().splitlines(keepends=True)
                                if "identityRef" not in line))
    return write(fleet, {"fleetgen.yaml": f"credentials:\n  vsphere:\n    {mode}: "
                                          "\"secrets/{namespace}/{name}.yaml\"\n",
                         "secrets/dev/web.yaml": web, "secrets/dev/api.yaml": api})


def assert_no_leak(root: Path, output: str) -> None:
    assert SECRET not in output, output
    for path in (root / "rendered").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


# --- credentials templates ---------------------------------------------------------------------

@pytest.mark.parametrize("template", ["{name:x}", "{name!z}", "{name:{namespace}}", "{name!r}",
                                      "{name:/<4}..{namespace:/>4}", "{name:>300}"])
@pytest.mark.parametrize("mode", ["sops", "sealedSecret"])
def test_a_credentials_path_with_a_format_spec_is_a_located_error(fleet: Path, template: str,
                                                                  mode: str) -> None:
    write(fleet, {"fleetgen.yaml": f"credentials:\n  vsphere:\n    {mode}: "
                                   f"'secrets/{template}.yaml'\n"})
    result = assert_refused_cleanly(fleet, "fleetgen.yaml:3:", "validate")
    assert "error[invalid-value]" in result.output
    assert "is not a placeholder" in result.output or "placeholder" in result.output


@pytest.mark.parametrize("template", ["tkg/{name:x}", "tkg/{name!s}", "tkg/{namespace:.^99}"])
def test_an_external_secret_key_with_a_format_spec_is_a_located_error(fleet: Path,
                                                                      template: str) -> None:
    write(fleet, {"fleetgen.yaml": "credentials:\n  vsphere:\n    externalSecret:\n"
                                   "      storeRef: {name: vault}\n"
                                   f"      key: '{template}'\n"})
    result = assert_refused_cleanly(fleet, "fleetgen.yaml:5:", "render")
    assert "error[invalid-value]" in result.output


# --- proxy credentials -------------------------------------------------------------------------

PROXY = ("proxy:\n  httpProxy: http://{auth}proxy.example.com:3128\n"
         "  httpsProxy: http://proxy.example.com:3128\n  noProxy: [vc.example.com]\n")


@pytest.mark.parametrize("auth", [f"admin:{SECRET}@", f"{SECRET}@", f"admin:{SECRET}@@",
                                  f"admin:p/{SECRET}@"])
def test_a_proxy_url_with_credentials_is_refused_and_never_printed(fleet: Path,
                                                                   auth: str) -> None:
    write(fleet, {WEB_FILE: WEB + PROXY.format(auth=auth)})
    result = assert_refused(fleet, [
        "clusters/dev/web.yaml:4:14: error[invalid-value]: proxy.httpProxy: holds credentials "
        "(user:password@): a secret fleetgen never stores; give the proxy as http://host:port"])
    assert_no_leak(fleet, result.output)


def test_import_of_a_proxy_with_credentials_writes_no_inventory(fleet: Path,
                                                                tmp_path: Path) -> None:
    flat = tmp_path / "wl.yaml"
    flat.write_text(VSPHERE_FLAT.replace("web", "wl") + "TKG_HTTP_PROXY_ENABLED: true\n"
                    f"TKG_HTTP_PROXY: http://admin:{SECRET}@proxy.example.com:3128\n"
                    f"TKG_HTTPS_PROXY: http://admin:{SECRET}@proxy.example.com:3128\n"
                    "TKG_NO_PROXY: vc.example.com\n")
    before = state(fleet)
    result = fleetgen(fleet, "import", "tkg", str(flat), "--to", str(fleet / "clusters/dev"))
    assert result.exit_code == 2, result.output
    assert "holds credentials" in result.output
    assert SECRET not in result.output
    assert not (fleet / "clusters/dev/wl.yaml").exists()
    assert state(fleet) == before


# --- import of a private key -------------------------------------------------------------------

PEM = f"-----BEGIN RSA PRIVATE KEY-----\\nMIIE{SECRET}\\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize("variable", ["VSPHERE_REGION", "CUSTOM_TDNF_REPOSITORY_CERTIFICATE",
                                      "APISERVER_EXTRA_ARGS"])
def test_import_refuses_a_private_key_in_any_variable(fleet: Path, tmp_path: Path,
                                                      variable: str) -> None:
    flat = tmp_path / "wl.yaml"
    flat.write_text(VSPHERE_FLAT.replace("web", "wl") + f'{variable}: "{PEM}"\n')
    result = fleetgen(fleet, "import", "tkg", str(flat), "--to", str(fleet / "clusters/dev"))
    assert result.exit_code == 2, result.output
    assert f"wl.yaml:12:1: error[credential]: {variable} holds a private key" in result.output
    assert SECRET not in result.output
    assert not (fleet / "clusters/dev/wl.yaml").exists()


def test_a_base64_private_key_is_not_a_tdnf_certificate(fleet: Path) -> None:
    key = base64.b64encode(f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{SECRET}\n"
                           "-----END RSA PRIVATE KEY-----\n".encode()).decode()
    write(fleet, {WEB_FILE: WEB + f"vsphere:\n  customTDNFRepositoryCertificate: {key}\n"})
    result = assert_refused(fleet, [
        "clusters/dev/web.yaml:4:36: error[invalid-value]: "
        "vsphere.customTDNFRepositoryCertificate: is base64 but not a PEM certificate (no "
        "'-----BEGIN CERTIFICATE-----' inside)"])
    assert_no_leak(fleet, result.output)


# --- plain values around an encrypted credentials file -------------------------------------------

LAST_APPLIED = ("  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\""
                ":\"v1\",\"kind\":\"Secret\",\"stringData\":{\"password\":\"" + SECRET + "\"}}'\n")


@pytest.mark.parametrize(("case", "mode", "text", "where"), [
    ("last-applied annotation", "sops", _sops("web", LAST_APPLIED), "7:5"),
    ("secret-looking label", "sops", _sops("web", f"  labels: {{password: {SECRET}}}\n"), "6:12"),
    ("plain comment", "sops", _sops("web", head=f"# password: {SECRET}\n"), "1:1"),
    ("template annotation", "sealedSecret",
     _sealed("web", f"      annotations: {{token: {SECRET}}}\n"), "12:21"),
])
def test_a_plain_secret_beside_the_encrypted_values_is_refused(fleet: Path, case: str, mode: str,
                                                               text: str, where: str) -> None:
    api = _sops("api") if mode == "sops" else _sealed("api")
    _credentials_fleet(fleet, mode, text, api)
    result = assert_refused_cleanly(fleet, f"secrets/dev/web.yaml:{where}: error[secret-value]")
    assert_no_leak(fleet, result.output)


@pytest.mark.parametrize("mode", ["sops", "sealedSecret"])
def test_a_clean_encrypted_file_is_still_copied(fleet: Path, mode: str) -> None:
    make = _sops if mode == "sops" else _sealed
    _credentials_fleet(fleet, mode, "# encrypted with sops / kubeseal\n" + make("web"),
                       make("api"))
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert (fleet / "rendered/mgmt-a/dev/web/credentials.yaml").read_text().startswith("# enc")


# --- credentials in the GitOps repository URL ------------------------------------------------------

@pytest.mark.parametrize("url", [f"https://bot:{SECRET}@github.com/example/fleet.git",
                                 f"https://{SECRET}@github.com/example/fleet.git",
                                 f"https://bot:p/{SECRET}@github.com/example/fleet.git",
                                 f"ssh://git:{SECRET}@github.com/example/fleet.git"])
def test_a_repository_url_with_credentials_is_refused_and_never_printed(fleet: Path,
                                                                        url: str) -> None:
    write(fleet, {"fleetgen.yaml": f"gitops:\n  repository: {url}\n  argocd: {{}}\n"})
    result = assert_refused(fleet, [
        "fleetgen.yaml:2:15: error[invalid-value]: gitops.repository: holds credentials "
        "(user:password@ or a token@): a secret fleetgen never stores; give Argo CD the "
        "credentials in a repository Secret"])
    assert_no_leak(fleet, result.output)


@pytest.mark.parametrize("url", ["ssh://git@github.com/example/fleet.git",
                                 "git@github.com:example/fleet.git"])
def test_an_ssh_repository_url_with_a_user_name_is_accepted(fleet: Path, url: str) -> None:
    write(fleet, {"fleetgen.yaml": f"gitops:\n  repository: {url}\n  argocd: {{}}\n"})
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output


# --- credentials in an image registry host ---------------------------------------------------------

@pytest.mark.parametrize(("text", "where", "key"), [
    (f"imageRepository: {{host: 'admin:{SECRET}@registry.example.com/tkg'}}\n", "3:25",
     "imageRepository.host"),
    (f"additionalImageRegistries: [{{host: '{SECRET}@reg.example.com', skipTLSVerify: true}}]\n",
     "3:36", "additionalImageRegistries[0].host"),
])
def test_a_registry_host_with_credentials_is_refused_and_never_printed(fleet: Path, text: str,
                                                                       where: str,
                                                                       key: str) -> None:
    write(fleet, {WEB_FILE: WEB + text})
    result = assert_refused(fleet, [
        f"clusters/dev/web.yaml:{where}: error[invalid-value]: {key}: holds credentials "
        "(user:password@): a secret fleetgen never stores; give the registry as host[:port][/path]"])
    assert_no_leak(fleet, result.output)


# --- list items that hold the flat config's separator ------------------------------------------------

@pytest.mark.parametrize(("text", "where", "key"), [
    ("vsphere:\n  additionalFQDNs: ['a.example.com,b.example.com']\n", "4:21",
     "vsphere.additionalFQDNs[0]"),
    ("vsphere:\n  kubeVipLoadBalancer: {ipRanges: ['10.0.0.200-10.0.0.205,10.0.0.209']}\n",
     "4:36", "vsphere.kubeVipLoadBalancer.ipRanges[0]"),
    ("antrea:\n  proxySkipServices: ['kube-system/a,kube-system/b']\n", "4:23",
     "antrea.proxySkipServices[0]"),
    ("antrea:\n  multicastInterfaces: ['eth0,eth1']\n", "4:25", "antrea.multicastInterfaces[0]"),
    ("antrea:\n  proxyNodePortAddrs: ['10.0.0.0/8,10.1.0.0/16']\n", "4:24",
     "antrea.proxyNodePortAddrs[0]"),
])
def test_a_list_item_with_a_comma_is_refused(fleet: Path, text: str, where: str,
                                             key: str) -> None:
    """cluster.yaml would hold one item and cluster-config.yaml, which joins the list with ',',
    two: tanzu would build another cluster."""
    write(fleet, {WEB_FILE: WEB + text})
    result = assert_refused_cleanly(fleet, f"clusters/dev/web.yaml:{where}: error[invalid-value]: "
                                           f"{key}: ")
    assert "separates entries with ','" in result.output
