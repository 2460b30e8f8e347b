"""Secrets and network checks bypassed through overlays (issue 14, item 5).

The inventory refuses secrets and its network rules check pools and endpoints; an overlay (a
shared one under ``overlays/``, or a cluster's own ``<cluster>.overlay.yaml``) could put a
password into rendered/, or move a pool onto another pool's range and an endpoint onto another
cluster's, and validate, render and diff took it. Now the secret rules run on the final objects
(after every overlay), and an overlay may not change a field fleetgen writes from a checked
inventory key: both refusals point at the overlay entry that did it and name what to change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.cli import fleetgen
from support.fleets import small_fleet
from support.hostile import assert_refused, copy_fleet, state, write

SECRET = "Hunter2-Prod!"
ENCODED = "<encoded:SHVudGVyMi1Qcm9kIQ==>"
POOLED = """\
controlPlane:
  endpoint: {endpoint}
network:
  nodes:
    ipPool: {name}-pool
  nameservers: {{controlPlane: [10.0.1.2], worker: [10.0.1.2]}}
ipPools:
  {name}-pool:
    kind: InClusterIPPool
    gateway: 10.0.1.1
    prefix: 24
    addresses: [{addresses}]
"""
WEB = POOLED.format(endpoint="10.0.0.10", name="web", addresses="10.0.1.10-10.0.1.50")
API = POOLED.format(endpoint="10.0.0.11", name="api", addresses="10.0.1.60-10.0.1.90")
WEB_FILE = "clusters/dev/web.yaml"
OWN = "clusters/dev/web.overlay.yaml"
SHARED = "overlays/extra/overlay.yaml"
SECRET_HINT = ("  hint: keep it in a Secret on the management cluster and reference it "
               "(identityRef); remove it from git history too")


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two clusters, each with its own node pool in one subnet, rendered once."""
    root = tmp_path_factory.mktemp("pooled")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        small_fleet(root, web=WEB, api=API)
        result = fleetgen(root, "render")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def fleet(pooled: Path, tmp_path: Path) -> Path:
    return copy_fleet(pooled, tmp_path / "fleet")


def shared(root: Path, overlay: str, **files: str) -> Path:
    """``overlays/extra`` (with ``files`` beside it), chosen by web."""
    write(root, {SHARED: overlay, WEB_FILE: WEB + "overlays: [extra]\n",
                 **{f"overlays/extra/{name}": text for name, text in files.items()}})
    return root


def assert_never_printed(root: Path) -> None:
    for fmt in ("text", "json", "github"):
        result = fleetgen(root, "validate", "--format", fmt)
        assert result.exit_code == 2, result.output
        assert SECRET not in result.output and "SHVudGVy" not in result.output, result.output


# --- secrets --------------------------------------------------------------------------------

def test_a_secret_key_in_common_annotations_is_refused(fleet: Path) -> None:
    shared(fleet, f"commonAnnotations:\n  vsphere-password: {SECRET}\n")
    assert_refused(fleet, [
        f"{SHARED}: error[secret-in-output]: 'vsphere-password' looks like a secret; "
        "commonAnnotations would write it to rendered/ (VSphereCPIConfig dev/web, "
        "VSphereCSIConfig dev/web, ClusterBootstrap dev/web, Cluster dev/web, InClusterIPPool "
        "dev/web-pool)", SECRET_HINT])
    assert_never_printed(fleet)


def test_a_secret_key_in_labels_is_refused(fleet: Path) -> None:
    shared(fleet, "labels:\n- pairs:\n    api-token: abc\n")
    assert_refused(fleet, [
        f"{SHARED}: error[secret-in-output]: 'api-token' looks like a secret; labels would "
        "write it to rendered/ (VSphereCPIConfig dev/web, VSphereCSIConfig dev/web, "
        "ClusterBootstrap dev/web, Cluster dev/web, InClusterIPPool dev/web-pool)", SECRET_HINT])


def test_a_password_in_a_clusters_own_patch_is_refused(fleet: Path) -> None:
    write(fleet, {OWN: f"""\
patches:
- target: {{kind: Cluster}}
  patch: |
    kind: Cluster
    metadata: {{name: web}}
    spec:
      topology:
        variables:
        - name: vcenter
          value:
            password: "{SECRET}"
"""})
    assert_refused(fleet, [
        f"{OWN}:2:3: error[secret-in-output]: 'password' looks like a secret; patches[0] would "
        "write it to rendered/ (Cluster dev/web)", SECRET_HINT])
    assert_never_printed(fleet)


def test_a_secret_added_by_a_json_patch_file_is_refused(fleet: Path) -> None:
    shared(fleet, "patches:\n- path: annotate.yaml\n  target: {kind: InClusterIPPool}\n",
           **{"annotate.yaml": f"- op: add\n  path: /metadata/annotations\n  value: "
                               f"{{db-password: '{SECRET}'}}\n"})
    assert_refused(fleet, [
        f"{SHARED}:2:3: error[secret-in-output]: 'db-password' looks like a secret; patches[0] "
        "(annotate.yaml) would write it to rendered/ (InClusterIPPool dev/web-pool)",
        SECRET_HINT])


def test_a_secret_moved_under_a_secret_key_is_refused(fleet: Path) -> None:
    # The value is not in the patch: a 'copy' puts an existing one under a secret-looking key.
    write(fleet, {OWN: """\
patches:
- target: {kind: Cluster}
  patch: |
    - {op: copy, from: /metadata/annotations/osInfo, path: /metadata/annotations/token}
"""})
    assert_refused(fleet, [
        f"{OWN}:2:3: error[secret-in-output]: 'token' looks like a secret; patches[0] would "
        "write it to rendered/ (Cluster dev/web)", SECRET_HINT])


def test_an_encoded_value_in_a_patch_is_refused_at_the_patch(fleet: Path) -> None:
    shared(fleet, f"""\
patches:
- target: {{kind: Cluster}}
  patch: |
    - {{op: add, path: /metadata/labels/note, value: "{ENCODED}"}}
""")
    assert_refused(fleet, [
        f"{SHARED}:2:3: error[secret-in-output]: an encoded password or a private key; "
        "patches[0] would write it to rendered/ (Cluster dev/web)", SECRET_HINT])
    assert_never_printed(fleet)


# --- network fields -------------------------------------------------------------------------

PROTECTED_HINT = ("  hint: change {key} in the inventory ({where}) instead: the network checks "
                  "(pool overlap and capacity, endpoint uniqueness, address families) run there")


def protected(where: str, label: str, field: str, obj: str, key: str, at: str) -> list[str]:
    return [f"{where}: error[overlay-changes-checked-field]: {label} changes {field} of {obj}, "
            f"which fleetgen writes from the inventory's {key}",
            PROTECTED_HINT.format(key=key, where=at)]


def test_a_pool_moved_onto_another_pools_range_is_refused(fleet: Path) -> None:
    write(fleet, {OWN: """\
patches:
- target: {kind: InClusterIPPool}
  patch: |
    - {op: replace, path: /spec/addresses, value: [10.0.1.60-10.0.1.90]}
"""})
    assert_refused(fleet, protected(f"{OWN}:2:3", "patches[0]", "spec.addresses",
                                    "InClusterIPPool dev/web-pool", "ipPools.web-pool.addresses",
                                    f"{WEB_FILE}:12:5"))
    assert_refused(fleet, protected(f"{OWN}:2:3", "patches[0]", "spec.addresses",
                                    "InClusterIPPool dev/web-pool", "ipPools.web-pool.addresses",
                                    f"{WEB_FILE}:12:5"), "validate")


@pytest.mark.parametrize("field, patch, key, at", [
    ("spec.prefix", "{op: replace, path: /spec/prefix, value: 16}", "prefix", "11:5"),
    ("spec.gateway", "{op: remove, path: /spec/gateway}", "gateway", "10:5"),
    ("spec.excludedAddresses", "{op: add, path: /spec/excludedAddresses, value: [10.0.1.11]}",
     "excludedAddresses", "9:5"),
    ("spec.allocateReservedIPAddresses",
     "{op: add, path: /spec/allocateReservedIPAddresses, value: true}",
     "allocateReservedIPAddresses", "9:5"),
], ids=["prefix", "gateway", "excludedAddresses", "a new spec field"])
def test_every_field_of_a_pool_spec_is_the_inventorys(fleet: Path, field: str, patch: str,
                                                      key: str, at: str) -> None:
    write(fleet, {OWN: f"patches:\n- target: {{kind: InClusterIPPool}}\n  patch: |\n"
                       f"    - {patch}\n"})
    assert_refused(fleet, protected(f"{OWN}:2:3", "patches[0]", field,
                                    "InClusterIPPool dev/web-pool", f"ipPools.web-pool.{key}",
                                    f"{WEB_FILE}:{at}"))


def test_an_endpoint_moved_onto_another_clusters_is_refused(fleet: Path) -> None:
    shared(fleet, """\
patches:
- target: {kind: Cluster}
  patch: |
    kind: Cluster
    metadata: {name: any}
    spec:
      topology:
        variables:
        - name: apiServerEndpoint
          value: 10.0.0.11
""")
    assert_refused(fleet, protected(f"{SHARED}:2:3", "patches[0]",
                                    "spec.topology.variables[apiServerEndpoint]",
                                    "Cluster dev/web", "controlPlane.endpoint",
                                    f"{WEB_FILE}:2:3"))


@pytest.mark.parametrize("overlay, where, label, field, key, at", [
    ("patches:\n- target: {kind: Cluster}\n  patch: |\n"
     "    - {op: add, path: /spec/controlPlaneEndpoint, value: {host: 10.0.0.11, port: 6443}}\n",
     f"{SHARED}:2:3", "patches[0]", "spec.controlPlaneEndpoint", "controlPlane.endpoint",
     "2:3"),
    ("commonAnnotations:\n  tkg.tanzu.vmware.com/cluster-controlplane-endpoint: 10.0.0.11\n",
     SHARED, "commonAnnotations",
     "metadata.annotations[tkg.tanzu.vmware.com/cluster-controlplane-endpoint]",
     "controlPlane.endpoint", "2:3"),
    ("patches:\n- target: {kind: Cluster}\n  patch: |\n"
     "    - {op: replace, path: /spec/clusterNetwork/pods/cidrBlocks, value: [10.0.0.0/8]}\n",
     f"{SHARED}:2:3", "patches[0]", "spec.clusterNetwork.pods", "network.pods", "4:3"),
    ("patches:\n- target: {kind: Cluster}\n  patch: |\n    kind: Cluster\n"
     "    metadata: {name: any}\n    spec:\n      clusterNetwork:\n        services:\n"
     "          cidrBlocks: [10.0.1.0/24]\n",
     f"{SHARED}:2:3", "patches[0]", "spec.clusterNetwork.services", "network.services", "4:3"),
    ("patches:\n- target: {kind: Cluster}\n  patch: |\n    kind: Cluster\n"
     "    metadata: {name: any}\n    spec:\n      topology:\n        variables:\n"
     "        - name: network\n          value: {ipv6Primary: true, addressesFromPools: []}\n",
     f"{SHARED}:2:3", "patches[0]", "spec.topology.variables[network]",
     "network.ipFamily and network.nodes.ipPool", "3:1"),
    ("patches:\n- target: {kind: Cluster}\n  patch: |\n"
     "    - {op: replace, path: /spec/topology/variables/3/value, value: true}\n",
     f"{SHARED}:2:3", "patches[0]", "spec.topology.variables[aviAPIServerHAProvider]",
     "controlPlane.endpointProvider", "2:3"),
], ids=["controlPlaneEndpoint", "endpoint annotation", "pod CIDRs", "service CIDRs",
        "node network and family", "NSX ALB provider"])
def test_cluster_fields_from_checked_keys_are_the_inventorys(
        fleet: Path, overlay: str, where: str, label: str, field: str, key: str,
        at: str) -> None:
    shared(fleet, overlay)
    assert_refused(fleet, protected(where, label, field, "Cluster dev/web", key,
                                    f"{WEB_FILE}:{at}"))


def test_what_overlays_are_for_still_renders(fleet: Path) -> None:
    # Sizing, labels, annotations and the pool's own metadata are the overlay's to change.
    shared(fleet, """\
labels:
- pairs: {team: web}
commonAnnotations:
  fleet.example.com/alerts: oncall
patches:
- target: {kind: Cluster}
  patch: |
    kind: Cluster
    metadata: {name: any}
    spec:
      topology:
        controlPlane: {replicas: 3}
        variables:
        - name: worker
          value: {machine: {numCPUs: 8}}
- target: {kind: InClusterIPPool}
  patch: |
    - {op: add, path: /metadata/annotations/owner, value: network-team}
""")
    before = state(fleet)
    result = fleetgen(fleet, "render")
    assert result.exit_code == 0, result.output
    assert state(fleet) != before
    pool = (fleet / "rendered/mgmt-a/dev/web/ippool.yaml").read_text()
    assert "owner: network-team" in pool and "10.0.1.10-10.0.1.50" in pool


def test_the_refusal_is_reported_in_json_too(fleet: Path) -> None:
    shared(fleet, f"commonAnnotations:\n  vsphere-password: {SECRET}\n")
    result = fleetgen(fleet, "validate", "--format", "json")
    assert result.exit_code == 2
    [problem] = json.loads(result.stdout)
    assert (problem["code"], problem["path"]) == ("secret-in-output", SHARED)


def test_a_secret_topology_variable_is_refused(fleet: Path) -> None:
    # Topology variables (and env vars) are written as {name: KEY, value: …}: the name is the key.
    write(fleet, {OWN: f"""\
patches:
- target: {{kind: Cluster}}
  patch: |
    - {{op: add, path: /spec/topology/variables/-, value: {{name: vspherePassword, value: "{SECRET}"}}}}
"""})
    assert_refused(fleet, [
        f"{OWN}:2:3: error[secret-in-output]: 'vspherePassword' looks like a secret; patches[0] "
        "would write it to rendered/ (Cluster dev/web)", SECRET_HINT])


def test_a_secret_written_by_a_local_template_is_refused_at_the_rendered_file(
        fleet: Path) -> None:
    template = (Path(__file__).resolve().parents[2] / "templates/ippool.yaml.j2").read_text()
    write(fleet, {"templates/ippool.yaml.j2": template + f"\n  token: {SECRET}\n"})
    assert_refused(fleet, [
        "rendered/mgmt-a/dev/api/ippool.yaml: error[secret-in-output]: 'token' looks like a "
        "secret; the templates would write it to rendered/ (InClusterIPPool dev/api-pool)",
        SECRET_HINT,
        "rendered/mgmt-a/dev/web/ippool.yaml: error[secret-in-output]: 'token' looks like a "
        "secret; the templates would write it to rendered/ (InClusterIPPool dev/web-pool)",
        SECRET_HINT])


KEYS = st.sampled_from(["password", "PassWord", "pa\u017fsword", "sshKeyName", "ssh_key",
                        "accessKeyName", "privateKey", "name", "value", "x", "tok\u212aen",
                        "credentials", "spec"])
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), KEYS, st.text(max_size=12),
                   st.just("<encoded:YQ==>"), st.just("-----BEGIN RSA PRIVATE KEY-----"))
DOCS = st.recursive(VALUES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=12)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(DOCS)
def test_the_fast_screen_never_misses_a_secret(doc: object) -> None:
    from generator.render.final import find_secrets
    from generator.secrets import may_hold_secret
    if list(find_secrets(doc)):
        assert may_hold_secret(json.dumps(doc, ensure_ascii=False, default=str))
