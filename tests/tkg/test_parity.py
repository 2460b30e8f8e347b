"""TKG parity: `fleetgen import tkg` then `fleetgen render` gives the objects `tanzu cluster create`
would build from the same flat config.

The corpus is ``tests/tkg/parity/<case>/`` (see its README.md): a flat config of our own
(``cluster-config.yaml``), optionally the node pool it uses (``pool.yaml``), and the objects tanzu
builds from it (``expected.yaml``), traced by hand through the tanzu-framework reference with the
``file:line`` traced written beside each value. The expected objects never come from fleetgen.

Each case is imported into a fresh fleet of its own (management cluster ``mgmt``, the fleet-wide
vCenter identity ``tkg-vcenter``), rendered, and every object Flux would apply for it (everything
the kustomizations below ``rendered/mgmt/`` list) is compared with ``expected.yaml``:
``spec.topology.variables`` by name, machine deployments by name, everything else exactly (see
``normalise`` for the two documented relaxations).
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import Result

from generator.tkg.variables import KNOWN
from generator.yaml.fast import load_fast, load_fast_all
from support.cli import fleetgen
from support.crds import (CLASS_VARIABLE_DIRS, NoSchemaError, clusterclass_variables_validator,
                          crds_dir, validate_object)
from support.fleets import write_tree
from support.live import defaulted

PARITY = Path(__file__).parent / "parity"
CASES = sorted(p.name for p in PARITY.iterdir() if p.is_dir()) if PARITY.is_dir() else []
MGMT = "mgmt"
IMPORTED = "clusters/imported"
FLEET = {
    # The corpus fleet: every vSphere cluster takes its vCenter credentials from one fleet-wide
    # VSphereClusterIdentity (the credentials exception of the README), so expected.yaml has the
    # identityRef variable and no Secret.
    "fleetgen.yaml": """\
        credentials:
          vsphere:
            identityRef:
              kind: VSphereClusterIdentity
              name: tkg-vcenter
        """,
    "clusters/_defaults.yaml": f"managementCluster: {MGMT}\n",
    f"{IMPORTED}/.keep": "",
}
POOL_KINDS = ("InClusterIPPool", "GlobalInClusterIPPool")
SHOWN = 12  # differing paths shown per failure


# --- the fleet, import and render ----------------------------------------------------------------

def read_yaml(path: Path) -> Any:
    return load_fast(path.read_text(encoding="utf-8"))


def flat_config(case: str) -> dict[str, Any]:
    data = read_yaml(PARITY / case / "cluster-config.yaml")
    assert isinstance(data, dict), f"{case}: cluster-config.yaml is not a mapping"
    return data


def new_fleet(root: Path) -> Path:
    return write_tree(root, FLEET)


def ok(result: Result, what: str) -> None:
    assert result.exit_code == 0, (
        f"{what} exited {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")


def import_flat(root: Path, flat: Path, pool: Path | None, what: str) -> Path:
    """`fleetgen import tkg` into clusters/imported/; returns the inventory file written."""
    args = ["import", "tkg", str(flat), "--to", IMPORTED]
    if pool is not None:
        args += ["--pool", str(pool)]
    ok(fleetgen(root, *args), what)
    [written] = [p for p in (root / IMPORTED).glob("*.yaml") if p.name != "_defaults.yaml"]
    return written


def import_and_render(root: Path, case: str) -> Path:
    pool = PARITY / case / "pool.yaml"
    written = import_flat(new_fleet(root), PARITY / case / "cluster-config.yaml",
                          pool if pool.is_file() else None, f"{case}: fleetgen import tkg")
    ok(fleetgen(root, "render"), f"{case}: fleetgen render")
    return written


def applied_files(folder: Path) -> Iterator[Path]:
    """Every file the kustomization in ``folder`` applies, following sub-folders."""
    kustomization = read_yaml(folder / "kustomization.yaml") or {}
    for entry in kustomization.get("resources") or []:
        path = folder / entry
        if path.is_dir():
            yield from applied_files(path)
        else:
            yield path


def applied_objects(root: Path) -> list[dict[str, Any]]:
    top = root / "rendered" / MGMT
    assert (top / "kustomization.yaml").is_file(), f"render wrote no {top}/kustomization.yaml"
    return [doc for path in applied_files(top)
            for doc in load_fast_all(path.read_text(encoding="utf-8")) if doc]


def expected_objects(case: str) -> list[dict[str, Any]]:
    text = (PARITY / case / "expected.yaml").read_text(encoding="utf-8")
    return [doc for doc in load_fast_all(text) if doc]


def identity(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj.get('kind')} {namespace + '/' if namespace else ''}{meta.get('name')}"


# --- comparison ----------------------------------------------------------------------------------

def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _by_name(items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        key = str(name) if name not in out else f"{name} (repeated)"
        out[key] = item
    return out


def _as_set(value: Any) -> Any:
    """A no-proxy list: tanzu builds it from a Go map (tkg/client/validate.go:1587-1629), so its order
    changes from run to run; compared as a sorted set."""
    if isinstance(value, str):
        return sorted({part for part in value.split(",") if part})
    if isinstance(value, list):
        return sorted(set(value))
    return value


# Issue 18, helper G: a documented relaxation. fleetgen protects every Cluster and node pool
# from Flux's and Argo CD's prune (docs/gitops.md); tanzu, which applies once and never prunes,
# writes no such annotation. Only annotations and labels with these prefixes are dropped: they
# direct an applier and are not part of the cluster (fleetgen diff --live does the same).
APPLIER_PREFIXES = ("kustomize.toolkit.fluxcd.io/", "argocd.argoproj.io/")


def _without_applier_directives(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return obj
    for field in ("annotations", "labels"):
        values = metadata.get(field)
        if isinstance(values, dict):
            kept = {k: v for k, v in values.items() if not k.startswith(APPLIER_PREFIXES)}
            if kept:
                metadata[field] = kept
            else:
                del metadata[field]
    return obj


def normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """The compared form: nulls dropped (kubectl apply stores nothing for them), variables and
    machine deployments keyed by name, tanzu's no-proxy lists as sets; the rest as it is."""
    obj = _without_applier_directives(_drop_nulls(obj))
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind == "Cluster" and isinstance(spec.get("topology"), dict):
        topology = spec["topology"]
        if isinstance(topology.get("variables"), list):
            topology["variables"] = _by_name(topology["variables"])
            proxy = topology["variables"].get("proxy")
            if isinstance(proxy, dict) and isinstance(proxy.get("value"), dict):
                value = proxy["value"]
                if "noProxy" in value:
                    value["noProxy"] = _as_set(value["noProxy"])
        workers = topology.get("workers")
        if isinstance(workers, dict) and isinstance(workers.get("machineDeployments"), list):
            workers["machineDeployments"] = _by_name(workers["machineDeployments"])
    elif kind == "VSphereCPIConfig":
        proxy = (spec.get("vsphereCPI") or {}).get("proxy")
        if isinstance(proxy, dict) and "no_proxy" in proxy:
            proxy["no_proxy"] = _as_set(proxy["no_proxy"])
    elif kind == "VSphereCSIConfig":
        config = (spec.get("vsphereCSI") or {}).get("config")
        if isinstance(config, dict) and config.get("noProxy"):
            config["noProxy"] = _as_set(config["noProxy"])
    elif kind in CSI_DRIVERS:  # the AWS and Azure CSI configs: one comma-separated string
        driver = spec.get(CSI_DRIVERS[kind])
        if isinstance(driver, dict) and driver.get("noProxy"):
            driver["noProxy"] = _as_set(driver["noProxy"])
    return obj


# The AWS and Azure CSI configs tanzu creates with a proxy (clusterbootstrap.yaml:348-403), and
# the key of their driver settings.
CSI_DRIVERS = {"AwsEbsCSIConfig": "awsEBSCSIDriver", "AzureDiskCSIConfig": "azureDiskCSIDriver",
               "AzureFileCSIConfig": "azureFileCSIDriver"}


MISSING = "<missing>"


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every path where the two differ, as 'path: expected X, rendered Y'."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}.{key}" if path else str(key)
            if "." in str(key) or "/" in str(key):
                sub = f"{path}[{key}]"
            out += differences(expected.get(key, MISSING), actual.get(key, MISSING), sub)
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual))
                for d in differences(e, a, f"{path}[{i}]")]
    if expected == actual and type(expected) is type(actual):
        return []
    return [f"{path}: expected {expected!r}, rendered {actual!r}"]


def compare(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    want = {identity(o): normalise(o) for o in expected}
    got = {identity(o): normalise(o) for o in actual}
    problems = [f"missing object: {key}" for key in want if key not in got]
    problems += [f"unexpected object: {key}" for key in got if key not in want]
    for key in want:
        if key in got:
            problems += [f"{key}: {d}" for d in differences(want[key], got[key])]
    return problems


# --- the tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_parity(case: str, tmp_path: Path) -> None:
    """import + render gives exactly the objects tanzu builds (expected.yaml)."""
    import_and_render(tmp_path, case)
    problems = compare(expected_objects(case), applied_objects(tmp_path))
    assert not problems, (f"{case}: {len(problems)} difference(s) from tanzu's objects; first:\n  "
                          + "\n  ".join(problems[:SHOWN]))


def _without_header(text: str) -> str:
    """The inventory without its leading comment lines (the import header and its report)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines)


def _rendered_pool(root: Path, flat: dict[str, Any]) -> Path | None:
    name = flat.get("NODE_IPAM_IP_POOL_NAME")
    if not name:
        return None
    for path in (root / "rendered" / MGMT).rglob("*.yaml"):
        for doc in load_fast_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") in POOL_KINDS \
                    and (doc.get("metadata") or {}).get("name") == name:
                return path
    pytest.fail(f"render wrote no pool named {name}")


@pytest.mark.parametrize("case", CASES)
def test_reimport_round_trip(case: str, tmp_path: Path) -> None:
    """The rendered cluster-config.yaml (and pool), imported into a fresh fleet, gives the same
    inventory: the flat config fleetgen writes means what the inventory means."""
    first = import_and_render(tmp_path / "first", case)
    flat = flat_config(case)
    [rendered] = list((tmp_path / "first" / "rendered" / MGMT).glob(
        f"**/{flat['CLUSTER_NAME']}/cluster-config.yaml"))
    second = import_flat(new_fleet(tmp_path / "second"), rendered,
                         _rendered_pool(tmp_path / "first", flat), f"{case}: re-import")
    assert second.name == first.name
    assert _without_header(second.read_text(encoding="utf-8")) == \
        _without_header(first.read_text(encoding="utf-8"))


# --- the corpus covers the issue -----------------------------------------------------------------

def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# The variables issue 15 names (items 1-5): each appears in at least one flat config.
NAMED = [
    "WORKER_MACHINE_COUNT", "WORKER_MACHINE_COUNT_0", "VSPHERE_AZ_0", "VSPHERE_AZ_1", "AWS_NODE_AZ_1",
    "AZURE_NODE_AZ_1", "SIZE", "CONTROLPLANE_SIZE", "WORKER_SIZE", "VSPHERE_NUM_CPUS",
    "VSPHERE_MEM_MIB", "VSPHERE_DISK_GIB", "CLUSTER_CLASS", "CONTROL_PLANE_NODE_LABELS",
    "NTP_SERVERS", "ENABLE_AUDIT_LOGGING", "VSPHERE_SSH_AUTHORIZED_KEY", "TKG_HTTP_PROXY",
    "TKG_CUSTOM_IMAGE_REPOSITORY", "TKG_CUSTOM_IMAGE_REPOSITORY_CA_CERTIFICATE",
    "ADDITIONAL_IMAGE_REGISTRY_1", "ENABLE_MHC", "AWS_LOAD_BALANCER_SCHEME_INTERNAL",
    "AWS_SECURITY_GROUP_NODE", "AZURE_ENABLE_PRIVATE_CLUSTER", "AZURE_FRONTEND_PRIVATE_IP",
    "AZURE_CUSTOM_TAGS", "AVI_LABELS", "VSPHERE_REGION", "VSPHERE_ZONE", "ANTREA_PROXY_ALL",
    "NODE_IPAM_IP_POOL_KIND", "CONTROL_PLANE_NODE_NAMESERVERS", "CONTROL_PLANE_NODE_SEARCH_DOMAINS",
    "POD_SECURITY_STANDARD_ENFORCE", "CONTROLPLANE_CERTIFICATE_ROTATION_DAYS_BEFORE",
    "APISERVER_EXTRA_ARGS", "WORKER_KUBELET_EXTRA_ARGS",
]


def test_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        assert {p.name for p in (PARITY / case).iterdir()} <= {
            "cluster-config.yaml", "expected.yaml", "pool.yaml"}, case
        assert (PARITY / case / "expected.yaml").is_file(), case
        assert ".yaml:" in (PARITY / case / "expected.yaml").read_text(encoding="utf-8"), \
            f"{case}: expected.yaml cites no reference file:line"
    flats = {case: flat_config(case) for case in CASES}
    for case, flat in flats.items():
        assert {"CLUSTER_NAME", "CLUSTER_PLAN", "INFRASTRUCTURE_PROVIDER",
                "KUBERNETES_VERSION"} <= set(flat), case
        assert not any(k.endswith(("_PASSWORD", "_SECRET")) for k in flat), f"{case}: a secret"
        assert case.startswith(f"{flat['INFRASTRUCTURE_PROVIDER']}-"), case
    assert {f["INFRASTRUCTURE_PROVIDER"] for f in flats.values()} == {"vsphere", "aws", "azure"}
    assert {(f["INFRASTRUCTURE_PROVIDER"], f["CLUSTER_PLAN"]) for f in flats.values()} == {
        (infra, plan) for infra in ("vsphere", "aws", "azure") for plan in ("dev", "prod")}
    assert {str(f.get("TKG_IP_FAMILY", "ipv4")).replace(" ", "") for f in flats.values()} == {
        "ipv4", "ipv6", "ipv4,ipv6", "ipv6,ipv4"}
    pools = [read_yaml(PARITY / c / "pool.yaml") for c in CASES if (PARITY / c / "pool.yaml").is_file()]
    assert {p["kind"] for p in pools} == set(POOL_KINDS)
    assert any(str(f.get("AVI_CONTROL_PLANE_HA_PROVIDER")).lower() == "true"
               and not _is_address(str(f.get("VSPHERE_CONTROL_PLANE_ENDPOINT", "")))
               and f.get("VSPHERE_CONTROL_PLANE_ENDPOINT") for f in flats.values()), "NSX ALB + FQDN"
    used = {key for f in flats.values() for key in f}
    assert [key for key in NAMED if key not in used] == []
    spread = [f for f in flats.values() if f["CLUSTER_PLAN"] == "prod"
              and f["INFRASTRUCTURE_PROVIDER"] == "vsphere" and "WORKER_MACHINE_COUNT_0" not in f
              and int(f.get("WORKER_MACHINE_COUNT", 3)) % 3]
    assert spread, "a prod vSphere cluster whose worker count does not divide by three"


def test_corpus_covers_every_modelled_variable() -> None:
    """Every flat variable fleetgen models (generator.tkg.variables.KNOWN: the import table, the
    specially assembled ones and the catalog) is set by at least one corpus flat config, so the
    corpus keeps checking what fleetgen claims to model."""
    used = {key for case in CASES for key in flat_config(case)}
    missing = [key for key in KNOWN if key not in used]
    assert not missing, (f"{len(missing)} modelled variable(s) set by no flat config in "
                         f"{PARITY}: {', '.join(missing)}")


# --- the objects validate against the upstream schemas -------------------------------------------

# Kinds tanzu creates that have no schema in ../shared/crds, with the reason. Every other kind
# must have one: a NoSchemaError for it fails the test.
NO_UPSTREAM_SCHEMA = {
    kind: "tanzu-framework release-0.29 defines it (providers/yttcb/clusterbootstrap.yaml:348-403 "
          "writes it with a proxy), but ../shared/crds/tanzu-addons-release-0.29 holds only the "
          "ClusterBootstrap, AntreaConfig, CalicoConfig, VSphereCPIConfig, KubevipCPIConfig and "
          "VSphereCSIConfig schemas"
    for kind in CSI_DRIVERS
}

# Where tanzu's own output and the ClusterClass variable schema in ../shared/crds disagree, the
# corpus expects what tanzu writes (test_parity), so the schema check meets the disagreement in
# every case that sets the variable. Each entry is (class prefix, variable, path inside its value,
# message fragment) with the reason. Remove an entry once fleetgen or tests/support/crds.py
# settles it; an entry that no longer matches anything in the corpus fails
# test_schema_conflicts_still_occur.
SCHEMA_CONFLICTS: dict[tuple[str, str, str, str], str] = {
    ("tkg-aws-default", "network", "securityGroupOverrides", "'controlPlane' is not allowed"):
        "AWS_SECURITY_GROUP_CONTROLPLANE: tanzu writes network.securityGroupOverrides.controlPlane "
        "(providers/yttcc/lib/config_variable_association.star:568-570) and the class's patch reads "
        ".controlPlane (providers/infrastructure-aws/v2.0.2/cconly/base.yaml:685,698), but the "
        "class schema names the key controlplane (base.yaml:199, and "
        "../shared/crds/tkg-aws-default-v1.0.0). Like the Azure dataDisks case in "
        "tests/support/crds.py, what the class reads is kept",
}


def _apply_schema_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """A variable value as Cluster API stores it: the schema defaults of absent properties filled
    in, nested ones included (CAPI's variable defaulting, which the README's exceptions leave out
    of expected.yaml). A required property with a default, such as vcenter.datastore when only
    VSPHERE_STORAGE_POLICY_ID is set (tkg/client/validate.go:920-929), is then present."""
    return defaulted(value, schema)


def _class_prefix(obj: dict[str, Any]) -> str | None:
    if obj.get("kind") != "Cluster":
        return None
    topology_class = str(((obj.get("spec") or {}).get("topology") or {}).get("class", ""))
    return next((prefix for prefix in CLASS_VARIABLE_DIRS if topology_class.startswith(prefix)), None)


def _as_capi_stores_it(obj: dict[str, Any]) -> dict[str, Any]:
    """The Cluster with its topology variables defaulted from its class's variable schemas."""
    prefix = _class_prefix(obj)
    if prefix is None:
        return obj
    known = clusterclass_variables_validator(CLASS_VARIABLE_DIRS[prefix])
    obj = copy.deepcopy(obj)
    for variable in obj["spec"]["topology"].get("variables") or []:
        spec = known.get(variable.get("name"))
        if spec is not None and "value" in variable:
            variable["value"] = _apply_schema_defaults(variable["value"], spec.validator.schema)
    return obj


def _conflict(obj: dict[str, Any], error: str) -> tuple[str, str, str, str] | None:
    """The SCHEMA_CONFLICTS entry an error of a Cluster is, if any."""
    prefix = _class_prefix(obj)
    variables = obj["spec"]["topology"].get("variables") or [] if prefix else []
    for index, variable in enumerate(variables):
        for key in SCHEMA_CONFLICTS:
            cls, name, inner, fragment = key
            where = f"spec.topology.variables[{index}].value" + (f".{inner}" if inner else "")
            if (cls, name) == (prefix, variable.get("name")) and error.startswith(f"{where}: ") \
                    and fragment in error:
                return key
    return None


def _schema_problems(case: str, root: Path) -> tuple[list[str], set[tuple[str, str, str, str]]]:
    """The schema errors of every object the harness collects, and the known conflicts met."""
    problems: list[str] = []
    met: set[tuple[str, str, str, str]] = set()
    for obj in applied_objects(root):
        if obj.get("kind") in NO_UPSTREAM_SCHEMA:
            continue
        try:
            errors = validate_object(_as_capi_stores_it(obj))
        except NoSchemaError as missing:
            errors = [f"no upstream schema: {missing}"]
        for error in errors:
            conflict = _conflict(obj, error)
            if conflict is None:
                problems.append(f"{identity(obj)}: {error}")
            else:
                met.add(conflict)
    return problems, met


@pytest.mark.parametrize("case", CASES)
def test_objects_conform_to_upstream_schemas(case: str, tmp_path: Path) -> None:
    """Every object the harness collects for the case (what Flux would apply) validates against
    its upstream CRD schema in ../shared/crds, and a Cluster's topology variables, defaulted as
    Cluster API defaults them, against its ClusterClass's variable schemas
    (tests/support/crds.py). Only the SCHEMA_CONFLICTS entries are let through."""
    crds_dir()  # skips, with the reason, when ../shared is absent
    import_and_render(tmp_path, case)
    problems, _ = _schema_problems(case, tmp_path)
    assert not problems, (f"{case}: {len(problems)} schema error(s):\n  "
                          + "\n  ".join(problems[:SHOWN]))


def test_schema_conflicts_still_occur(tmp_path: Path) -> None:
    """Each SCHEMA_CONFLICTS entry is met by some case: a stale entry is removed, not kept."""
    crds_dir()
    met: set[tuple[str, str, str, str]] = set()
    infrastructures = {prefix.split("-")[1] for prefix, _, _, _ in SCHEMA_CONFLICTS}
    for case in CASES:
        if flat_config(case)["INFRASTRUCTURE_PROVIDER"] not in infrastructures:
            continue
        import_and_render(tmp_path / case, case)
        met |= _schema_problems(case, tmp_path / case)[1]
    assert [key for key in SCHEMA_CONFLICTS if key not in met] == []
