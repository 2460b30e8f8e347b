"""`fleetgen import tkg`: flat configs in, minimal inventories out, same rules as hand-written ones.

The corpus (``tests/import_corpus/<case>/``) holds one flat config per case
(``cluster-config.yaml``), optionally the pool object it uses (``pool.yaml``) and the import
folder's own ``_defaults.yaml``. Each case is imported into a small fleet, rendered, and every
imported variable must come back with the same value in the rendered flat config: import and
the cluster-config template are inverse functions on what fleetgen models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.tkg.importer import Imported, import_tkg
from generator.load.inventory import merge_layers
from generator.ipam.migrate import inventory_pool
from generator.pipeline import load_fleet, render, wanted_files
from generator.problems import FleetError
from generator.yaml.fast import load_fast
from generator.yaml.load import load_positioned
from support.fleets import VSPHERE_FLAT, snapshot, write_tree

CORPUS = Path(__file__).parent / "import_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
MGMT = "mgmt-lab"
BASE_DEFAULTS = f"""\
managementCluster: {MGMT}
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
"""
IMPORTED = "clusters/imported"
CREDENTIALS = "credentials: {vsphere: {identityRef: {kind: VSphereClusterIdentity, name: vc}}}\n"

# The flat config's worker size is one cluster-wide value; the inventory keeps it per
# MachineDeployment and only cluster.yaml carries it (see test_flat_config_keeps_worker_size).
WORKER_SIZE = {
    "VSPHERE_WORKER_NUM_CPUS": ("machine", "numCPUs"),
    "VSPHERE_WORKER_MEM_MIB": ("machine", "memoryMiB"),
    "VSPHERE_WORKER_DISK_GIB": ("machine", "diskGiB"),
    "NODE_MACHINE_TYPE": ("instanceType",),
    "AWS_NODE_OS_DISK_SIZE_GIB": ("rootVolume", "sizeGiB"),
    "AZURE_NODE_MACHINE_TYPE": ("vmSize",),
    "AZURE_NODE_OS_DISK_SIZE_GIB": ("osDisk", "sizeGiB"),
}
PER_MD_SIZE = {"NODE_MACHINE_TYPE_1": 1, "NODE_MACHINE_TYPE_2": 2}


# --- helpers -------------------------------------------------------------------------------------

def fleet(tmp_path: Path, case: str | None = None, defaults: str = BASE_DEFAULTS) -> Path:
    """A fleet with the base defaults, an empty import folder and the case's folder defaults."""
    files = {"clusters/_defaults.yaml": defaults, f"{IMPORTED}/.keep": "",
             "fleetgen.yaml": CREDENTIALS}  # vSphere clusters need a credentials source
    if case is not None and (CORPUS / case / "_defaults.yaml").is_file():
        files[f"{IMPORTED}/_defaults.yaml"] = (CORPUS / case / "_defaults.yaml").read_text()
    return write_tree(tmp_path, files)


def import_case(root: Path, case: str) -> Imported:
    pool = CORPUS / case / "pool.yaml"
    return import_tkg(root, CORPUS / case / "cluster-config.yaml",
                      pool if pool.is_file() else None, root / IMPORTED)


def not_imported(result: Imported) -> set[str]:
    """The variables the import reported as not imported (their message starts with the name)."""
    return {p.message.split()[0] for p in result.reported
            if p.code in ("not-imported", "unknown-variable")}


def norm(value: Any) -> str:
    """One spelling per value: ints and bools as text, comma lists without spaces."""
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    return ",".join(part.strip() for part in text.split(","))


def read_yaml(path: Path) -> Any:
    return load_fast(path.read_text(encoding="utf-8"))


def dig(data: Any, *path: str | int) -> Any:
    for part in path:
        data = data[part]
    return data


def rendered_folder(root: Path, name: str) -> Path:
    [folder] = list((root / "rendered" / MGMT).glob(f"*/{name}"))
    return folder


def worker_values(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """Each MachineDeployment's effective `worker` variable: its override, else the cluster's."""
    topology = cluster["spec"]["topology"]
    default = next(v["value"] for v in topology["variables"] if v["name"] == "worker")
    out = []
    for md in topology["workers"]["machineDeployments"]:
        overrides = (md.get("variables") or {}).get("overrides") or []
        out.append(next((v["value"] for v in overrides if v["name"] == "worker"), default))
    return out


def rendered_value(key: str, flat: dict[str, Any], config: dict[str, Any],
                   cluster: dict[str, Any]) -> Any:
    """Where the value of flat variable ``key`` ends up after import and render."""
    mds = cluster["spec"]["topology"]["workers"]["machineDeployments"]
    if key == "WORKER_MACHINE_COUNT":
        return config.get(key, sum(config.get(f"{key}_{i}", 0) for i in range(3)))
    if key.startswith("WORKER_MACHINE_COUNT_"):
        return config.get(key, config.get("WORKER_MACHINE_COUNT") if len(mds) == 1 else None)
    if key.startswith("VSPHERE_AZ_"):  # not in the flat template: see test_flat_config_keeps_zones
        return mds[int(key[-1])].get("failureDomain")
    if key == "KUBERNETES_VERSION":
        return cluster["spec"]["topology"]["version"]
    if key in WORKER_SIZE:  # every MachineDeployment without its own NODE_MACHINE_TYPE_<i>
        values = {norm(dig(v, *WORKER_SIZE[key])) for i, v in enumerate(worker_values(cluster))
                  if not (key == "NODE_MACHINE_TYPE" and f"NODE_MACHINE_TYPE_{i}" in flat)}
        return values.pop() if len(values) == 1 else sorted(values)
    if key in PER_MD_SIZE:
        return worker_values(cluster)[PER_MD_SIZE[key]]["instanceType"]
    return config.get(key)


# --- the corpus round trip -----------------------------------------------------------------------

def test_corpus_covers_the_brief() -> None:
    assert len(CASES) >= 15
    pools = {c: read_yaml(CORPUS / c / "pool.yaml") for c in CASES
             if (CORPUS / c / "pool.yaml").is_file()}
    assert {(p["kind"], p["apiVersion"].rsplit("/", 1)[1]) for p in pools.values()} == {
        (kind, version) for kind in ("InClusterIPPool", "GlobalInClusterIPPool")
        for version in ("v1alpha1", "v1alpha2")}
    families = {read_yaml(CORPUS / c / "cluster-config.yaml").get("TKG_IP_FAMILY", "ipv4")
                .replace(" ", "") for c in CASES}
    assert families == {"ipv4", "ipv6", "ipv4,ipv6", "ipv6,ipv4"}


@pytest.mark.parametrize("case", CASES)
def test_round_trip(case: str, tmp_path: Path) -> None:
    root = fleet(tmp_path, case)
    result = import_case(root, case)
    flat = read_yaml(CORPUS / case / "cluster-config.yaml")
    assert result.path == root / IMPORTED / f"{flat['CLUSTER_NAME']}.yaml"
    assert not (root / IMPORTED / result.path.name).exists()  # import itself writes nothing
    result.path.write_text(result.text, encoding="utf-8")
    render(root)

    folder = rendered_folder(root, flat["CLUSTER_NAME"])
    config, cluster = read_yaml(folder / "cluster-config.yaml"), read_yaml(folder / "cluster.yaml")
    skipped = not_imported(result)
    compared = {key: (norm(value).removesuffix("cc") if key == "CLUSTER_PLAN" else norm(value),
                      norm(rendered_value(key, flat, config, cluster)))
                for key, value in flat.items()
                if key not in skipped and value not in (None, "")}
    assert {k: v for k, v in compared.items() if v[0] != v[1]} == {}
    assert len(compared) + len(skipped) == len([v for v in flat.values() if v not in (None, "")])


@pytest.mark.parametrize("case", [c for c in CASES if (CORPUS / c / "pool.yaml").is_file()])
def test_pool_round_trip(case: str, tmp_path: Path) -> None:
    """The rendered pool is the upstream object, converted to v1alpha2 when it was v1alpha1."""
    root = fleet(tmp_path, case)
    result = import_case(root, case)
    result.path.write_text(result.text, encoding="utf-8")
    render(root)
    name, pool = inventory_pool(read_yaml(CORPUS / case / "pool.yaml"))
    [path] = [p for p in (root / "rendered").rglob("*.yaml")
              if p.name != "addons.yaml"  # several documents (the ClusterBootstrap and configs)
              and (doc := read_yaml(p)).get("kind") == pool["kind"]
              and doc["metadata"]["name"] == name]
    rendered = read_yaml(path)
    assert rendered["apiVersion"] == "ipam.cluster.x-k8s.io/v1alpha2"
    assert rendered["spec"] == {k: v for k, v in pool.items() if k != "kind"}


def _inherited(root: Path) -> dict[str, Any]:
    layers: list[tuple[dict[str, Any], dict[Any, Any]]] = []
    for rel in ("clusters/_defaults.yaml", f"{IMPORTED}/_defaults.yaml"):
        if (root / rel).is_file():
            doc, _ = load_positioned((root / rel).read_text(), rel)
            layers.append((doc, {}))
    return merge_layers(layers)[0]


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    return [(path, value)]


def _without(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = dict(data)
    if len(path) == 1:
        del out[path[0]]
    else:
        out[path[0]] = _without(out[path[0]], path[1:])
    return out


@pytest.mark.parametrize("case", CASES)
def test_imported_file_repeats_nothing(case: str, tmp_path: Path) -> None:
    """No value equals the inherited one, and every value changes what render produces (so none
    is merely a model or ClusterClass default)."""
    root = fleet(tmp_path, case)
    result = import_case(root, case)
    result.path.write_text(result.text, encoding="utf-8")
    written, _ = load_positioned(result.text, "imported")
    inherited = _inherited(root)
    leaves = _leaves(written or {})
    assert [path for path, value in leaves if dig_or_none(inherited, path) == value] == []

    def output(data: dict[str, Any]) -> dict[str, bytes] | None:
        from generator.yaml.dump import dump
        result.path.write_text(dump(data), encoding="utf-8")
        try:
            return wanted_files(root, load_fleet(root))
        except FleetError:
            return None

    full = output(written or {})
    assert full is not None
    assert [path for path, _ in leaves if output(_without(written, path)) == full] == []


def dig_or_none(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def test_values_the_folder_defaults_give_are_not_written(tmp_path: Path) -> None:
    root = fleet(tmp_path, "vsphere-inherited")
    result = import_case(root, "vsphere-inherited")
    assert result.text == (
        "# Imported from the TKG flat config cluster-config.yaml by fleetgen import tkg.\n"
        "namespace: default\n"
        "controlPlane:\n"
        "  endpoint: 10.20.0.60\n"
        # Kept, though ipv4 is the default: a stated TKG_IP_FAMILY gives the VSphereCPIConfig its
        # ipFamily (tanzu-framework-release-0.29 providers/yttcb/clusterbootstrap.yaml:278-280).
        "network:\n"
        "  ipFamily: ipv4\n")


def test_aws_prod_spreads_worker_count_like_tanzu(tmp_path: Path) -> None:
    result = import_case(fleet(tmp_path), "aws-prod-3az")
    workers = load_fast(result.text)["workers"]
    # tanzu-framework-release-0.29 tkg/client/validate.go:1460-1474 (7 = 3 + 2 + 2); the zones are
    # the subnets' (aws v2.0.2/yttcc/overlay.yaml:11-13, 65, 75, 93), which render gives a
    # machine deployment without one, so import does not repeat them.
    assert [(w["name"], w["replicas"], w.get("failureDomain")) for w in workers] == [
        ("md-0", 3, None), ("md-1", 2, None), ("md-2", 2, None)]


def test_reported_variables_are_listed_at_the_top(tmp_path: Path) -> None:
    result = import_case(fleet(tmp_path), "vsphere-dhcp-dev")
    header = [line for line in result.text.splitlines() if line.startswith("#")]
    assert header[:3] == [
        "# Imported from the TKG flat config cluster-config.yaml by fleetgen import tkg.",
        "# Not imported (the flat config's value is not part of this inventory):",
        "#   line 9: ENABLE_CEIP_PARTICIPATION not imported: management cluster only: it "
        "configures the management cluster itself (providers/config_default.yaml:56)"]
    assert len(header) == 2 + len(not_imported(result))
    assert all(p.severity == "warning" for p in result.reported)


# The flat config must say what cluster.yaml says: worker sizes and vSphere zones included.

def test_flat_config_keeps_worker_size(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    result = import_case(root, "vsphere-prod-azs")
    result.path.write_text(result.text, encoding="utf-8")
    render(root)
    config = read_yaml(rendered_folder(root, "orders") / "cluster-config.yaml")
    assert config["VSPHERE_WORKER_NUM_CPUS"] == 8


def test_flat_config_keeps_zones(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    result = import_case(root, "vsphere-prod-azs")
    result.path.write_text(result.text, encoding="utf-8")
    render(root)
    config = read_yaml(rendered_folder(root, "orders") / "cluster-config.yaml")
    assert [config.get(f"VSPHERE_AZ_{i}") for i in range(3)] == ["rack-1", "rack-2", "rack-3"]


# --- rejections: exact message and location ------------------------------------------------------

BASE_FLAT = VSPHERE_FLAT
POOL = """\
apiVersion: ipam.cluster.x-k8s.io/v1alpha2
kind: InClusterIPPool
metadata:
  name: other-pool
  namespace: dev
spec:
  addresses: [10.0.0.100-10.0.0.150]
  prefix: 24
  gateway: 10.0.0.1
"""


def flat_file(tmp_path: Path, extra: str = "", base: str = BASE_FLAT) -> Path:
    path = tmp_path / "input" / "web-config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(base + extra, encoding="utf-8")
    return path


def rejected(root: Path, flat: Path, pool: Path | None = None) -> list[str]:
    before = snapshot(root)
    with pytest.raises(FleetError) as info:
        import_tkg(root, flat, pool, root / IMPORTED)
    assert snapshot(root) == before  # nothing written
    return [p.text() for p in info.value.problems if p.severity == "error"]


def test_base_flat_config_imports(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    result = import_tkg(root, flat_file(tmp_path), None, root / IMPORTED)
    assert result.reported == []
    assert load_fast(result.text)["controlPlane"] == {"endpoint": "10.0.0.10"}


def test_vsphere_password_is_refused(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "VSPHERE_USERNAME: admin@vsphere.local\nVSPHERE_PASSWORD: VMware1!\n")
    assert rejected(root, flat) == [
        f"{flat}:13:1: error[credential]: VSPHERE_PASSWORD is a credential; fleetgen never stores "
        "secrets in an inventory\n"
        "  hint: vCenter credentials belong in a Secret on the management cluster (the CAPV "
        "identity the cluster uses); remove the line"]


def test_encoded_values_are_refused_whatever_the_variable(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "NSXT_PASSWORD: <encoded:Vk13YXJlMSE=>\n")
    problems = rejected(root, flat)
    assert problems == [
        f"{flat}:12:1: error[credential]: NSXT_PASSWORD holds an encoded secret; fleetgen never "
        "stores secrets in an inventory\n"
        "  hint: the tanzu CLI writes secrets as <encoded:…>; keep the secret in a Secret on the "
        "management cluster, reference it (identityRef) and remove the line"]
    assert "Vk13YXJlMSE" not in "\n".join(problems)


@pytest.mark.parametrize("key", ["AZURE_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY",
                                 "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"])
def test_cloud_secrets_are_refused(key: str, tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, f"{key}: s3cr3t-value\n")
    [problem] = rejected(root, flat)
    assert problem.startswith(f"{flat}:12:1: error[credential]: {key} is a credential")
    assert "identityRef" in problem and "s3cr3t" not in problem


def test_unknown_variable_is_reported_not_an_error(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "TEAM_OWNER: payments\nVSPHERE_DATASTOR: /dc0/datastore/ds2\n"
                     "AWS_REGION: eu-west-1\n")
    result = import_tkg(root, flat, None, root / IMPORTED)
    assert [p.text() for p in result.reported] == [
        f"{flat}:12:1: warning[unknown-variable]: TEAM_OWNER not imported: fleetgen does "
        "not model this variable\n"
        "  hint: set it another way (an overlay, or the management cluster) if it is still needed",
        f"{flat}:13:1: warning[unknown-variable]: VSPHERE_DATASTOR not imported: fleetgen does not "
        "model this variable\n  hint: did you mean 'VSPHERE_DATASTORE'?",
        f"{flat}:14:1: warning[not-imported]: AWS_REGION not imported: it applies to AWS "
        "clusters, this one is vSphere"]
    assert result.text.splitlines()[1:5] == [
        "# Not imported (the flat config's value is not part of this inventory):",
        "#   line 12: TEAM_OWNER not imported: fleetgen does not model this variable",
        "#   line 13: VSPHERE_DATASTOR not imported: fleetgen does not model this variable",
        "#   line 14: AWS_REGION not imported: it applies to AWS clusters, this one is vSphere"]


def test_management_credentials_are_reported(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    result = import_tkg(root, flat_file(tmp_path, "VSPHERE_USERNAME: admin@vsphere.local\n"),
                        None, root / IMPORTED)
    assert [(p.location.line, p.code, p.message) for p in result.reported] == [
        (12, "not-imported", "VSPHERE_USERNAME not imported: belongs to the management "
         "cluster's credentials, not to a workload cluster")]


IPAM = """\
NODE_IPAM_IP_POOL_NAME: web-pool
CONTROL_PLANE_NODE_NAMESERVERS: 10.0.0.53
WORKER_NODE_NAMESERVERS: 10.0.0.53
"""


def test_pool_name_must_match(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, IPAM)
    pool = tmp_path / "input" / "pool.yaml"
    pool.write_text(POOL, encoding="utf-8")
    assert rejected(root, flat, pool) == [
        f"{flat}:12:25: error[pool-mismatch]: NODE_IPAM_IP_POOL_NAME is 'web-pool', but {pool} "
        f"declares InClusterIPPool 'other-pool' ({pool}:4:9)\n"
        "  hint: pass the pool this cluster uses, or correct NODE_IPAM_IP_POOL_NAME"]


def test_pool_kind_must_match(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, IPAM + "NODE_IPAM_IP_POOL_KIND: GlobalInClusterIPPool\n")
    pool = tmp_path / "input" / "pool.yaml"
    pool.write_text(POOL.replace("other-pool", "web-pool"), encoding="utf-8")
    assert rejected(root, flat, pool) == [
        f"{flat}:15:25: error[pool-mismatch]: NODE_IPAM_IP_POOL_KIND is GlobalInClusterIPPool, but "
        f"pool 'web-pool' in {pool} is a InClusterIPPool\n"
        "  hint: set NODE_IPAM_IP_POOL_KIND: InClusterIPPool"]


def test_pool_problems_point_into_the_pool_file(tmp_path: Path) -> None:
    """The node-pool rules run on the imported pool, located in the file it came from."""
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, IPAM)
    pool = tmp_path / "input" / "pool.yaml"
    pool.write_text(POOL.replace("other-pool", "web-pool").replace("10.0.0.100-10.0.0.150",
                                                                   "10.0.0.100-10.0.0.101"))
    assert rejected(root, flat, pool) == [
        f"{pool}:4:3: error[pool-capacity]: pool 'web-pool' is short by 2: 2 allocatable, 4 "
        "needed (web 4, rollout surge included)\n"
        "  hint: add addresses to the pool or move a cluster to another pool"]


def test_dual_stack_on_photon(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "OS_NAME: photon\nTKG_IP_FAMILY: ipv4,ipv6\n"
                     "CLUSTER_CIDR: 100.96.0.0/11,fd00:100:96::/48\n"
                     "SERVICE_CIDR: 100.64.0.0/13,fd00:100:64::/108\n")
    assert rejected(root, flat) == [
        f"{flat}:13:16: error[family-unsupported]: TKG_IP_FAMILY: dual-stack clusters need Ubuntu "
        "nodes, not photon"]


def test_service_cidr_too_large(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "SERVICE_CIDR: 100.64.0.0/11\n")
    assert rejected(root, flat) == [
        f"{flat}:12:15: error[service-cidr-too-large]: SERVICE_CIDR: service CIDR 100.64.0.0/11 "
        "has 21 host bits; at most 20 are allowed\n  hint: use a /12 or longer prefix"]


def test_even_control_plane_count(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "CONTROL_PLANE_MACHINE_COUNT: 2\n")
    assert rejected(root, flat) == [
        f"{flat}:12:30: error[invalid-value]: CONTROL_PLANE_MACHINE_COUNT: control-plane replicas "
        "must be odd and at least 1 (etcd quorum), not 2"]


def test_values_must_have_the_right_type(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    flat = flat_file(tmp_path, "WORKER_MACHINE_COUNT: three\nBASTION_HOST_ENABLED: yes\n"
                     "CLUSTER_PLAN_X: 1\n", base=BASE_FLAT.replace("dev\n", "custom\n", 1))
    assert rejected(root, flat) == [
        f"{flat}:2:15: error[invalid-value]: CLUSTER_PLAN 'custom' is not a TKG plan\n"
        "  hint: use dev, prod, devcc or prodcc",
        f"{flat}:12:23: error[wrong-type]: WORKER_MACHINE_COUNT must be a whole number, not "
        "'three'"]


def test_target_file_exists(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    write_tree(root, {f"{IMPORTED}/web.yaml": "controlPlane: {endpoint: 10.0.0.99}\n"})
    assert rejected(root, flat_file(tmp_path)) == [
        "clusters/imported/web.yaml: error[file-exists]: clusters/imported/web.yaml already "
        "exists\n  hint: import into another folder with --to, or remove the file first"]


def test_missing_management_cluster(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet", defaults="kubernetes: {version: v1.27.5+vmware.1-tkg.1}\n")
    flat = flat_file(tmp_path)
    assert rejected(root, flat) == [
        f"{flat}:1:1: error[missing-key]: managementCluster is not set: a flat config does not "
        "name the management cluster\n"
        f"  hint: add 'managementCluster: <name>' to {root / IMPORTED}/_defaults.yaml"]


def test_missing_kubernetes_version_unless_in_the_flat_config(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet", defaults=f"managementCluster: {MGMT}\n")
    flat = flat_file(tmp_path)
    [problem] = rejected(root, flat)
    assert problem.startswith(f"{flat}:1:1: error[missing-key]: kubernetes.version is not set")
    flat = flat_file(tmp_path, "KUBERNETES_VERSION: v1.26.8+vmware.1-tkg.1\n")
    result = import_tkg(root, flat, None, root / IMPORTED)
    assert load_fast(result.text)["kubernetes"] == {"version": "v1.26.8+vmware.1-tkg.1"}


def test_target_outside_the_fleet(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    with pytest.raises(FleetError) as info:
        import_tkg(root, flat_file(tmp_path), None, tmp_path / "elsewhere")
    assert [p.code for p in info.value.problems] == ["outside-fleet"]


def test_endpointslice_is_an_antrea_setting(tmp_path: Path) -> None:
    # ANTREA_ENDPOINTSLICE is antrea.endpointSlice (tests/tkg/test_import_addons.py); true is
    # tanzu's default (providers/config_default.yaml:750), so nothing is reported nor written.
    root = fleet(tmp_path / "fleet")
    result = import_tkg(root, flat_file(tmp_path, "ANTREA_ENDPOINTSLICE: true\n"), None,
                        root / IMPORTED)
    assert result.reported == []
    assert "antrea" not in load_fast(result.text)
