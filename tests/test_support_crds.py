"""Prove that tests/support/crds.py accepts valid upstream objects and rejects broken ones.

A validator that never fails would let every rendering test pass vacuously, so each check here
has a passing case and a failing case.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support import crds
from support.crds import (
    NoSchemaError,
    clusterclass_variables_validator,
    crds_dir,
    strict_schema,
    validate_object,
    validate_topology_variables,
)

# The class-based vSphere Cluster of shared/docs/domain.md section 3.
VSPHERE_CLUSTER = """
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: wl1
  namespace: default
  labels: {tkg.tanzu.vmware.com/cluster-name: wl1}
  annotations:
    osInfo: ubuntu,22.04,amd64
    tkg/plan: dev
    tkg.tanzu.vmware.com/cluster-controlplane-endpoint: 10.242.3.33
spec:
  clusterNetwork:
    pods: {cidrBlocks: [100.96.0.0/11]}
    services: {cidrBlocks: [100.64.0.0/13]}
  topology:
    class: tkg-vsphere-default-v1.1.1
    version: v1.27.5+vmware.1-tkg.1
    controlPlane:
      replicas: 1
      metadata: {annotations: {run.tanzu.vmware.com/resolve-os-image: "image-type=ova,os-name=ubuntu"}}
    variables:
    - name: network
      value:
        addressesFromPools:
        - {apiGroup: ipam.cluster.x-k8s.io, kind: InClusterIPPool, name: wl1-pool}
    - {name: cni, value: antrea}
    - {name: apiServerEndpoint, value: 10.242.3.33}
    - {name: aviAPIServerHAProvider, value: false}
    - name: vcenter
      value: {cloneMode: fullClone, datacenter: /DC, datastore: /DC/datastore/ds1, folder: /DC/vm/tkg,
              network: /DC/network/pg1, resourcePool: /DC/host/c1/Resources/rp, server: vc.example.com,
              storagePolicyID: "", template: /DC/vm/ubuntu-2204, tlsThumbprint: "AA:BB:..."}
    - name: controlPlane
      value: {machine: {diskGiB: 40, memoryMiB: 8192, numCPUs: 2}, network: {nameservers: [10.0.0.53]}}
    - name: worker
      value: {machine: {diskGiB: 40, memoryMiB: 4096, numCPUs: 2}, network: {nameservers: [10.0.0.53]}}
    workers:
      machineDeployments:
      - class: tkg-worker
        name: md-0
        replicas: 2
        metadata: {annotations: {run.tanzu.vmware.com/resolve-os-image: "image-type=ova,os-name=ubuntu"}}
"""

AWS_VARIABLES = """
- {name: region, value: us-west-2}
- {name: sshKeyName, value: tkg-key}
- {name: identityRef, value: {name: tkg-identity}}
- name: network
  value:
    vpc: {cidr: 10.0.0.0/16}
    subnets:
    - {az: us-west-2a, private: {cidr: 10.0.0.0/24}, public: {cidr: 10.0.1.0/24}}
- {name: controlPlane, value: {instanceType: t3.large}}
- {name: worker, value: {instanceType: m5.large}}
"""

AZURE_VARIABLES = f"""
- {{name: location, value: westeurope}}
- {{name: subscriptionID, value: 00000000-0000-0000-0000-000000000000}}
- {{name: sshPublicKey, value: {base64.b64encode(b"ssh-rsa AAAAB3Nza user@host").decode()}}}
- {{name: network, value: {{vnet: {{name: tkg-vnet, cidrBlocks: [10.0.0.0/16]}}}}}}
- {{name: clusterRole, value: workload}}
- {{name: controlPlane, value: {{subnet: {{name: cp, cidr: 10.0.0.0/24}}}}}}
- {{name: worker, value: {{subnet: {{name: node, cidr: 10.0.1.0/24}}}}}}
"""


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


@pytest.fixture
def vsphere() -> dict[str, Any]:
    crds_dir()
    return _load(VSPHERE_CLUSTER)  # type: ignore[no-any-return]


def _variables(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    return cluster["spec"]["topology"]["variables"]  # type: ignore[no-any-return]


def _value(cluster: dict[str, Any], name: str) -> Any:
    return next(v["value"] for v in _variables(cluster) if v["name"] == name)


def _cluster_of_class(
    vsphere: dict[str, Any], topology_class: str, variables: str
) -> dict[str, Any]:
    vsphere["spec"]["topology"]["class"] = topology_class
    vsphere["spec"]["topology"]["variables"] = _load(variables)
    return vsphere


def _pool(kind: str = "InClusterIPPool", **spec: Any) -> dict[str, Any]:
    crds_dir()
    return {
        "apiVersion": "ipam.cluster.x-k8s.io/v1alpha2",
        "kind": kind,
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"addresses": ["10.10.10.2-10.10.10.100"], "prefix": 24, "gateway": "10.10.10.1"}
        | spec,
    }


# --- vSphere Cluster -----------------------------------------------------------------------------


def test_domain_doc_vsphere_cluster_is_valid(vsphere: dict[str, Any]) -> None:
    assert validate_object(vsphere) == []


Mutation = Callable[[dict[str, Any]], object]

BROKEN_VSPHERE: dict[str, tuple[Mutation, str]] = {
    "unknown topology field": (
        lambda c: c["spec"]["topology"].update(foo=1),
        "spec.topology: 'foo' is not allowed",
    ),
    "unknown top-level field": (
        lambda c: c.update(extra={}),
        "(top level): 'extra' is not allowed",
    ),
    "unknown metadata field": (
        lambda c: c["metadata"].update(uid="x"),
        "metadata: 'uid' is not allowed",
    ),
    "name not DNS-1123": (
        lambda c: c["metadata"].update(name="WL_1"),
        "metadata.name: 'WL_1' does not match",
    ),
    "label value not a string": (
        lambda c: c["metadata"]["labels"].update({"tkg.tanzu.vmware.com/cluster-name": 1}),
        "metadata.labels[\"tkg.tanzu.vmware.com/cluster-name\"]: 1 is not of type 'string'",
    ),
    "namespace missing": (
        lambda c: c["metadata"].pop("namespace"),
        "metadata: 'namespace' is a required property",
    ),
    "unknown variable": (
        lambda c: _variables(c).append({"name": "vsphereNetwork", "value": "x"}),
        "spec.topology.variables[7].name: unknown variable 'vsphereNetwork'",
    ),
    "duplicate variable": (
        lambda c: _variables(c).append({"name": "cni", "value": "calico"}),
        "spec.topology.variables[7].name: duplicate variable 'cni'",
    ),
    "missing vcenter": (
        lambda c: _variables(c).pop(4),
        "spec.topology.variables: required variable 'vcenter' of tkg-vsphere-default-v1.0.0",
    ),
    "unknown field in variable value": (
        lambda c: _value(c, "vcenter").update(foo="bar"),
        "spec.topology.variables[4].value: 'foo' is not allowed",
    ),
    "required field in variable value missing": (
        lambda c: _value(c, "vcenter").pop("server"),
        "spec.topology.variables[4].value: 'server' is a required property",
    ),
    "pool reference without apiGroup": (
        lambda c: _value(c, "network")["addressesFromPools"][0].pop("apiGroup"),
        "spec.topology.variables[0].value.addressesFromPools[0]: 'apiGroup' is a required property",
    ),
    "wrong type in variable value": (
        lambda c: _value(c, "controlPlane")["machine"].update(numCPUs="2"),
        "spec.topology.variables[5].value.machine.numCPUs: '2' is not of type 'integer'",
    ),
}


@pytest.mark.parametrize("case", BROKEN_VSPHERE, ids=list(BROKEN_VSPHERE))
def test_broken_vsphere_cluster_is_rejected(vsphere: dict[str, Any], case: str) -> None:
    mutate, expected = BROKEN_VSPHERE[case]
    mutate(vsphere)
    errors = validate_object(vsphere)
    assert any(error.startswith(expected) for error in errors), errors


def test_variables_of_a_non_tkg_class_are_not_checked(vsphere: dict[str, Any]) -> None:
    vsphere["spec"]["topology"]["class"] = "my-own-class"
    _variables(vsphere).append({"name": "anything", "value": {"x": 1}})
    assert validate_object(vsphere) == []


def test_required_variable_with_default_may_be_omitted(vsphere: dict[str, Any]) -> None:
    assert clusterclass_variables_validator("tkg-vsphere-default-v1.0.0")["cni"].required
    vsphere["spec"]["topology"]["variables"] = [
        v for v in _variables(vsphere) if v["name"] != "cni"
    ]
    assert validate_object(vsphere) == []


# --- AWS and Azure Clusters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topology_class", "variables"),
    [("tkg-aws-default-v1.0.0", AWS_VARIABLES), ("tkg-azure-default-v1.0.0", AZURE_VARIABLES)],
    ids=["aws", "azure"],
)
def test_aws_and_azure_clusters_are_valid(
    vsphere: dict[str, Any], topology_class: str, variables: str
) -> None:
    assert validate_object(_cluster_of_class(vsphere, topology_class, variables)) == []


VariablesMutation = Callable[[list[dict[str, Any]]], object]

BROKEN_VARIABLES: dict[str, tuple[str, str, VariablesMutation, str]] = {
    "cidr without prefix": (
        "tkg-aws-default-v1.0.0",
        AWS_VARIABLES,
        lambda v: v[3]["value"]["vpc"].update(cidr="10.0.0.0"),
        "spec.topology.variables[3].value.vpc.cidr: '10.0.0.0' is not a 'cidr'",
    ),
    "cidr with netmask": (
        "tkg-aws-default-v1.0.0",
        AWS_VARIABLES,
        lambda v: v[3]["value"]["subnets"][0]["public"].update(cidr="10.0.1.0/255.255.255.0"),
        "spec.topology.variables[3].value.subnets[0].public.cidr:",
    ),
    "unknown field in anchored (&subnet) schema": (
        "tkg-aws-default-v1.0.0",
        AWS_VARIABLES,
        lambda v: v[3]["value"]["subnets"][0]["public"].update(name="x"),
        "spec.topology.variables[3].value.subnets[0].public: 'name' is not allowed",
    ),
    "ssh key not base64": (
        "tkg-azure-default-v1.0.0",
        AZURE_VARIABLES,
        lambda v: v[2].update(value="ssh-rsa AAAA user"),
        "spec.topology.variables[2].value: 'ssh-rsa AAAA user' is not a 'base64'",
    ),
}


@pytest.mark.parametrize("case", BROKEN_VARIABLES, ids=list(BROKEN_VARIABLES))
def test_broken_variable_values_are_rejected(case: str) -> None:
    crds_dir()
    class_dir, variables, mutate, expected = BROKEN_VARIABLES[case]
    loaded = _load(variables)
    mutate(loaded)
    errors = validate_topology_variables(loaded, class_dir)
    assert any(error.startswith(expected) for error in errors), errors


def test_missing_required_aws_variables_are_listed() -> None:
    crds_dir()
    errors = validate_topology_variables([], "tkg-aws-default-v1.0.0")
    missing = {error.split("'")[1] for error in errors}
    assert missing == {"region", "sshKeyName", "identityRef", "network", "controlPlane", "worker"}


# --- IP pools ------------------------------------------------------------------------------------


def test_valid_in_cluster_ip_pool_passes() -> None:
    assert validate_object(_pool()) == []


def test_v1alpha1_field_in_v1alpha2_pool_fails() -> None:
    assert validate_object(_pool(start="10.10.10.2")) == ["spec: 'start' is not allowed"]


def test_pool_without_prefix_fails() -> None:
    pool = _pool()
    del pool["spec"]["prefix"]
    assert validate_object(pool) == ["spec: 'prefix' is a required property"]


def test_global_pool_is_cluster_scoped() -> None:
    pool = _pool("GlobalInClusterIPPool")
    assert validate_object(pool) == ["metadata: 'namespace' is not allowed"]
    del pool["metadata"]["namespace"]
    assert validate_object(pool) == []


# --- dispatch, conversion, skipping --------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
        ("v1", "Namespace"),
        ("cluster.x-k8s.io/v1alpha3", "Cluster"),  # in the CRD but no longer served
    ],
)
def test_objects_without_a_served_crd_raise(api_version: str, kind: str) -> None:
    crds_dir()
    with pytest.raises(NoSchemaError):
        validate_object({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}})


def test_strict_schema_conversion() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "properties": {
                "open": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {},
                },
                "port": {
                    "x-kubernetes-int-or-string": True,
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                },
                "maybe": {"type": "string", "nullable": True},
                "map": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "properties": {}},
                },
            },
        }
    )
    assert schema["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["open"]
    assert schema["properties"]["port"]["type"] == ["integer", "string"]
    assert schema["properties"]["maybe"]["type"] == ["string", "null"]
    assert schema["properties"]["map"]["additionalProperties"]["additionalProperties"] is False


def test_missing_shared_folder_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(crds, "SHARED_CRDS", tmp_path / "absent")
    with pytest.raises(pytest.skip.Exception, match="they come from the shared/ folder"):
        crds_dir()
