"""Issue 17, "Import that changes nothing": a flat config imported into a folder whose
``_defaults.yaml`` chain says otherwise renders the cluster the flat config describes.

"Equal up to spelling" (``same_up_to_spelling``), for the input flat config F and the rendered
``cluster-config.yaml`` R:

1. every variable F sets (a non-empty value) and the import imports is in R with the same value,
   compared by ``test_import.norm``: YAML typing and quoting ignored (``3`` = ``"3"``,
   ``true`` = ``"true"``), comma lists item by item with the spaces around items dropped,
   ``devcc`` = ``dev``; the variables the flat template lays out otherwise (worker counts per
   machine deployment, zones, per-deployment sizes, KUBERNETES_VERSION) are read where
   ``test_import.rendered_value`` finds them; VSPHERE_NUM_CPUS / _MEM_MIB / _DISK_GIB (both
   roles) as each role's variable the input does not set; AVI_LABELS as the mapping it holds; a
   registry's ``_SKIP_TLS_VERIFY: false`` (tanzu's default) may be left out; SIZE,
   CONTROLPLANE_SIZE and WORKER_SIZE are written as the machine variables they resolve to, so
   only 2 compares them;
2. every variable R writes that F does not set holds tanzu's default: R is, as a mapping (key
   order ignored), the render of F imported into a folder with no ``_defaults.yaml`` of its own
   (the baseline, which tests/tkg/test_parity.py proves is tanzu's own output).

The variables the import reports as not imported cannot come back and are left out of 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.cli import fleetgen
from support.fleets import snapshot, write_tree
from test_import import norm, rendered_value
from typer.testing import Result

from generator.yaml.fast import load_fast

PARITY = Path(__file__).parent / "parity"
MGMT = "mgmt"
FLEET = {
    "fleetgen.yaml": "credentials:\n  vsphere:\n    identityRef:\n"
                     "      kind: VSphereClusterIdentity\n      name: tkg-vcenter\n",
    "clusters/_defaults.yaml": f"managementCluster: {MGMT}\n",
}
# A site folder whose defaults differ from every flat config of the corpus wherever they can.
SITE_DEFAULTS = """\
namespace: elsewhere
plan: prod
kubernetes: {version: v1.26.8+vmware.1-tkg.1, class: tkg-vsphere-default-v1.0.0}
os: {name: photon, version: "5"}
controlPlane: {replicas: 3, endpoint: 10.9.9.9}
cni: calico
network:
  pods: [10.10.0.0/16]
  services: [10.11.0.0/16]
  nameservers: {controlPlane: [10.0.0.53], worker: [10.0.0.53]}
  searchDomains: {controlPlane: [corp.example], worker: [corp.example]}
vsphere:
  server: vc-other.example.com
  template: /dc0/vm/other-template
  tlsThumbprint: "AA:BB:CC"
  network: /dc0/network/other
  storagePolicyID: policy-x
  cloneMode: linkedClone
ntpServers: [ntp.example.com]
auditLogging: true
proxy: {httpProxy: "http://proxy.example.com:3128", httpsProxy: "http://proxy.example.com:3128"}
machine: {numCPUs: 8}
workers: [{name: md-x, replicas: 5}]
"""


def ok(result: Result, what: str) -> Result:
    assert result.exit_code == 0, (f"{what} exited {result.exit_code}\n--- stdout\n"
                                   f"{result.stdout}\n--- stderr\n{result.stderr}")
    return result


def new_fleet(root: Path, folders: dict[str, str] | None = None) -> Path:
    """The corpus fleet (management cluster mgmt, the fleet-wide vCenter identity) with
    ``folders`` (folder → its _defaults.yaml text; "" for none)."""
    files = dict(FLEET)
    for folder, defaults in (folders or {}).items():
        files[f"{folder}/{'_defaults.yaml' if defaults else '.keep'}"] = defaults
    return write_tree(root, files)


def import_args(case: str, to: str) -> list[str]:
    args = ["import", "tkg", str(PARITY / case / "cluster-config.yaml"), "--to", to]
    if (PARITY / case / "pool.yaml").is_file():
        args += ["--pool", str(PARITY / case / "pool.yaml")]
    return args


def rendered(root: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rendered cluster-config.yaml and Cluster of cluster ``name``."""
    [folder] = [p.parent for p in (root / "rendered").rglob(f"{name}/cluster-config.yaml")]
    return (load_fast((folder / "cluster-config.yaml").read_text(encoding="utf-8")),
            load_fast((folder / "cluster.yaml").read_text(encoding="utf-8")))


def flat_of(case: str) -> dict[str, Any]:
    data = load_fast((PARITY / case / "cluster-config.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def baseline(tmp_path: Path, case: str) -> dict[str, Any]:
    """R0: the case imported into a folder without _defaults.yaml, rendered."""
    root = new_fleet(tmp_path / f"baseline-{case}", {"clusters/plain": ""})
    ok(fleetgen(root, *import_args(case, "clusters/plain")), f"{case}: baseline import")
    ok(fleetgen(root, "render"), f"{case}: baseline render")
    return rendered(root, str(flat_of(case)["CLUSTER_NAME"]))[0]


def not_imported(stderr: str) -> set[str]:
    """The variables the import reported as not imported (warning lines on stderr)."""
    return {line.split("]: ", 1)[1].split()[0] for line in stderr.splitlines()
            if "warning[not-imported]" in line or "warning[unknown-variable]" in line}


# Written as what they resolve to: tanzu's node sizes become the per-role machine variables
# (generator/load/sizes.py); only part 2 (and test_parity's objects) compare them.
SIZES = {"SIZE", "CONTROLPLANE_SIZE", "WORKER_SIZE"}
# Both roles at once: the flat template writes each role's own variable.
BOTH_ROLES = {"VSPHERE_NUM_CPUS": "NUM_CPUS", "VSPHERE_MEM_MIB": "MEM_MIB",
              "VSPHERE_DISK_GIB": "DISK_GIB"}
# tanzu's default, which the flat template leaves out (helpers.star skips an unset flag).
DEFAULT_LEFT_OUT = {f"ADDITIONAL_IMAGE_REGISTRY_{n}_SKIP_TLS_VERIFY": "false" for n in (1, 2, 3)}
MAPPINGS = {"AVI_LABELS"}  # a YAML mapping written as a string: compared as the mapping


def _as_mapping(value: Any) -> Any:
    return load_fast(value) if isinstance(value, str) else value


def spelling_differences(flat: dict[str, Any], config: dict[str, Any], cluster: dict[str, Any],
                         skipped: set[str]) -> dict[str, tuple[str, str]]:
    """Part 1 of "equal up to spelling": variable → (input, rendered) where they differ."""
    out = {}
    for key, value in flat.items():
        if key in skipped or key in SIZES or value in (None, "") or (
                isinstance(value, str) and not value.strip()):
            continue
        want = norm(value).removesuffix("cc") if key == "CLUSTER_PLAN" else norm(value)
        if key in BOTH_ROLES:
            roles = [f"VSPHERE_{role}_{BOTH_ROLES[key]}" for role in ("CONTROL_PLANE", "WORKER")]
            got = ",".join(sorted({norm(config.get(r)) for r in roles if r not in flat}))
        elif key in MAPPINGS:
            same = _as_mapping(value) == _as_mapping(config.get(key))
            got = want if same else norm(config.get(key))
        elif key in DEFAULT_LEFT_OUT and key not in config:
            got = DEFAULT_LEFT_OUT[key]
        else:
            got = norm(rendered_value(key, flat, config, cluster))
        if want != got:
            out[key] = (want, got)
    return out


def same_up_to_spelling(case: str, root: Path, stderr: str, base: dict[str, Any]) -> None:
    flat = flat_of(case)
    config, cluster = rendered(root, str(flat["CLUSTER_NAME"]))
    assert spelling_differences(flat, config, cluster, not_imported(stderr)) == {}, case
    assert config == base, case


# --- the tests ----------------------------------------------------------------------------------

CASES = ["vsphere-dev-dhcp-minimal", "vsphere-custom-dns", "vsphere-ipam-global", "vsphere-proxy"]


def test_import_into_differing_defaults_renders_the_input(tmp_path: Path) -> None:
    """Through the real CLI: import into a folder whose _defaults.yaml differs from each flat
    config everywhere it can, then render: each cluster-config.yaml is the input."""
    root = new_fleet(tmp_path / "site", {"clusters/site": SITE_DEFAULTS})
    errors = {}
    for case in CASES:
        errors[case] = ok(fleetgen(root, *import_args(case, "clusters/site")), case).stderr
    ok(fleetgen(root, "render"), "render")
    for case in CASES:
        same_up_to_spelling(case, root, errors[case], baseline(tmp_path, case))


def test_the_bug_it_fixes(tmp_path: Path) -> None:
    """Without the overrides the site's nameservers, template and thumbprint leak in."""
    root = new_fleet(tmp_path, {"clusters/site": SITE_DEFAULTS})
    ok(fleetgen(root, *import_args("vsphere-dev-dhcp-minimal", "clusters/site")), "import")
    ok(fleetgen(root, "render"), "render")
    config, _ = rendered(root, "web-min")
    assert "CONTROL_PLANE_NODE_NAMESERVERS" not in config
    assert "NTP_SERVERS" not in config
    assert config["VSPHERE_TEMPLATE"] == "/dc0/vm/templates/ubuntu-2204-kube-v1.27.5+vmware.1"
    assert config["NAMESPACE"] == "default"
    assert config["CONTROL_PLANE_MACHINE_COUNT"] == 1


def test_the_import_says_what_it_left_to_inheritance(tmp_path: Path) -> None:
    root = new_fleet(tmp_path, {"clusters/site": "namespace: dev\nvsphere:\n"
                                                 "  server: vc01.example.com\n"})
    result = ok(fleetgen(root, *import_args("vsphere-custom-dns", "clusters/site")), "import")
    assert result.stdout.splitlines() == [
        "wrote clusters/site/dns-custom.yaml",
        ("  inherits managementCluster from clusters/_defaults.yaml:1:1: a flat config does not "
         "name its management cluster (tanzu uses the current kubectl context)"),
        ("  inherits namespace from clusters/site/_defaults.yaml:1:1: the same as the flat "
         "config's NAMESPACE"),
        ("  inherits vsphere.server from clusters/site/_defaults.yaml:3:3: the same as the flat "
         "config's VSPHERE_SERVER")]
    written = load_fast((root / "clusters/site/dns-custom.yaml").read_text(encoding="utf-8"))
    assert "namespace" not in written and "server" not in written["vsphere"]


def test_kubernetes_version_is_inherited_only_when_the_flat_config_has_none(
        tmp_path: Path) -> None:
    flat = tmp_path / "in" / "web.yaml"
    text = (PARITY / "vsphere-dev-dhcp-minimal" / "cluster-config.yaml").read_text("utf-8")
    write_tree(tmp_path / "in", {"web.yaml": "\n".join(
        line for line in text.splitlines() if not line.startswith("KUBERNETES_VERSION"))})
    root = new_fleet(tmp_path / "fleet", {"clusters/site": SITE_DEFAULTS})
    result = ok(fleetgen(root, "import", "tkg", str(flat), "--to", "clusters/site"), "import")
    assert ("  inherits kubernetes.version from clusters/site/_defaults.yaml:3:14: the flat "
            "config has no KUBERNETES_VERSION (tanzu takes the management cluster's default "
            "TKr)") in result.stdout.splitlines()
    written = load_fast((root / "clusters/site/web-min.yaml").read_text(encoding="utf-8"))
    assert written["kubernetes"] == {"class": None}  # the class is tanzu's default, not the site's


def test_a_stated_ip_family_cannot_be_unset(tmp_path: Path) -> None:
    """tanzu writes the CPI's ipFamily only when TKG_IP_FAMILY is set; the model has no value
    for "not stated", so the import refuses rather than render a different VSphereCPIConfig."""
    root = new_fleet(tmp_path, {"clusters/site": "network:\n  ipFamily: ipv4\n"})
    before = snapshot(root)
    result = fleetgen(root, *import_args("vsphere-dev-dhcp-minimal", "clusters/site"))
    assert result.exit_code == 2
    assert snapshot(root) == before
    assert result.stderr.splitlines()[:2] == [
        ("clusters/site/_defaults.yaml:2:3: error[cannot-unset]: network.ipFamily: the flat "
         "config does not set it, but clusters/site/_defaults.yaml does, and an imported cluster "
         "file cannot unset it: the cluster would differ from the one tanzu built"),
        ("  hint: add 'TKG_IP_FAMILY: ipv4' to the flat config to keep this value, or move "
         "network.ipFamily out of clusters/site/_defaults.yaml into the clusters that need it")]


def test_mapping_keys_the_chain_adds_cannot_be_removed(tmp_path: Path) -> None:
    """Mappings merge key by key: an extra argument the folder adds cannot be taken away by a
    cluster file that sets other ones."""
    root = new_fleet(tmp_path, {"clusters/site": "kubernetes:\n  extraArgs:\n    apiServer:\n"
                                                 "      audit-log-maxage: '30'\n"})
    result = fleetgen(root, *import_args("vsphere-extra-args-pss-certs", "clusters/site"))
    assert result.exit_code == 2, result.stdout
    assert ("clusters/site/_defaults.yaml:4:7: error[cannot-unset]: "
            "kubernetes.extraArgs.apiServer.audit-log-maxage") in result.stderr


def test_a_mapping_the_flat_config_leaves_unset_is_written_as_null(tmp_path: Path) -> None:
    root = new_fleet(tmp_path, {"clusters/site": "kubernetes:\n  extraArgs:\n    apiServer:\n"
                                                 "      audit-log-maxage: '30'\n"})
    ok(fleetgen(root, *import_args("vsphere-dev-dhcp-minimal", "clusters/site")), "import")
    written = load_fast((root / "clusters/site/web-min.yaml").read_text(encoding="utf-8"))
    assert written["kubernetes"] == {"version": "v1.27.5+vmware.1-tkg.1", "extraArgs": None}
    ok(fleetgen(root, "render"), "render")
    assert "APISERVER_EXTRA_ARGS" not in rendered(root, "web-min")[0]


def test_the_credentials_of_another_infrastructure_are_not_inherited(tmp_path: Path) -> None:
    """The vCenter identity is inherited by vSphere clusters only: an AWS cluster in the same
    folder gets no vsphere section (the import unsets it)."""
    identity = "vsphere:\n  identityRef: {kind: VSphereClusterIdentity, name: site-vc}\n"
    root = new_fleet(tmp_path, {"clusters/site": identity})
    result = ok(fleetgen(root, *import_args("aws-dev-minimal", "clusters/site")), "import")
    written = load_fast((root / "clusters/site/aws-minimal.yaml").read_text(encoding="utf-8"))
    assert written["vsphere"] is None
    assert "vsphere.identityRef" not in result.stdout
    result = ok(fleetgen(root, *import_args("vsphere-dev-dhcp-minimal", "clusters/site")), "import")
    assert ("  inherits vsphere.identityRef from clusters/site/_defaults.yaml:2:3: the "
            "credentials: a flat config's secrets are never imported, so the identity the fleet "
            "references stands in for them") in result.stdout.splitlines()
    ok(fleetgen(root, "validate"), "validate")
