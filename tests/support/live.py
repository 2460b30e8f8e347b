"""Live exports as a running TKG 2.4 management cluster returns them (issue 17).

An object fleetgen (or tanzu) applied comes back from ``kubectl get -o yaml`` changed by the API
server, Cluster API and TKG. This module makes that object from the applied one, written from
the Cluster API v1.5 Cluster schema (``../shared/crds/cluster-api-v1.5.1``: status, refs,
``controlPlaneEndpoint``) and tanzu-framework release-0.29:
- the TKr resolver webhook (``tkr/webhook/cluster/tkr-resolver/cluster/cluster.go``): the
  ``run.tanzu.vmware.com/tkr`` label (:231), ``TKR_DATA`` at cluster level (:232-236) and per
  machine deployment (:245-255), ``spec.topology.version`` set to the TKr's Kubernetes version
  (:242);
- Cluster API's variable defaulting: every ClusterClass variable with a top-level default is
  added, and the defaults of absent properties are filled in;
- the API server: ``metadata.uid``, ``resourceVersion``, ``generation``, ``creationTimestamp``,
  ``managedFields``; the controllers: finalizers, refs, ``status``.
Nothing here comes from fleetgen's code: the tests compare fleetgen with it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from support.crds import _load_yaml, crds_dir

TKR_VERSION = re.compile(r"^(v\d+\.\d+\.\d+\+vmware\.\d+)-tkg\.\d+$")

# A ClusterClass of our own for tests that must run without ../shared: a few variables of the
# TKG vSphere class with their schema defaults (tkg-vsphere-default-v1.0.0, base.yaml), one with
# a nested default.
SMALL_CLASS_VARIABLES: list[dict[str, Any]] = [
    {"name": "cni", "required": True,
     "schema": {"openAPIV3Schema": {"type": "string", "default": "antrea"}}},
    {"name": "ntpServers", "required": False,
     "schema": {"openAPIV3Schema": {"type": "array", "items": {"type": "string"},
                                    "default": []}}},
    {"name": "controlPlaneTaint", "required": False,
     "schema": {"openAPIV3Schema": {"type": "boolean", "default": True}}},
    {"name": "vcenter", "required": True,
     "schema": {"openAPIV3Schema": {"type": "object", "properties": {
         "cloneMode": {"type": "string", "default": "fullClone"},
         "server": {"type": "string"}, "template": {"type": "string"}}}}},
    {"name": "user", "required": False,
     "schema": {"openAPIV3Schema": {"type": "object"}}},
]


def clusterclass(name: str, namespace: str,
                 variables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "ClusterClass",
            "metadata": {"name": name, "namespace": namespace, **_server_meta(name)},
            "spec": {"variables": copy.deepcopy(variables if variables is not None
                                                else SMALL_CLASS_VARIABLES)}}


def shared_class_variables(class_dir: str) -> list[dict[str, Any]]:
    """The variables of a TKG ClusterClass in ../shared/crds (skips the test without it)."""
    document = _load_yaml(crds_dir() / class_dir / "clusterclass-variables.yaml")
    return list(document["variables"])


def _server_meta(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {"uid": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "resourceVersion": str(int(digest[:6], 16)), "generation": 3,
            "creationTimestamp": "2026-11-02T09:14:27Z",
            "managedFields": [{"apiVersion": "cluster.x-k8s.io/v1beta1", "fieldsType": "FieldsV1",
                               "manager": "tanzu", "operation": "Update",
                               "time": "2026-11-02T09:14:27Z", "fieldsV1": {"f:spec": {}}}]}


def defaulted(value: Any, schema: dict[str, Any]) -> Any:
    """Structural defaulting of one variable value (properties and items, recursively)."""
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        out = dict(value)
        for key, sub in schema["properties"].items():
            if key in out:
                out[key] = defaulted(out[key], sub)
            elif isinstance(sub, dict) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [defaulted(item, schema["items"]) for item in value]
    return value


def _tkr_data(version: str, k8s: str) -> dict[str, Any]:
    tkr = version.replace("+", "---")
    return {k8s: {"kubernetesSpec": {"version": k8s, "imageRepository": "projects.registry."
                                     "vmware.com/tkg", "etcd": {"imageTag": "v3.5.7_vmware.6"},
                                     "coredns": {"imageTag": "v1.10.1_vmware.7"},
                                     "pause": {"imageTag": "3.9"}},
                  "osImageRef": {"template": f"/dc0/vm/ubuntu-2004-kube-{k8s}",
                                 "version": version},
                  "labels": {"run.tanzu.vmware.com/tkr": tkr, "os-name": "ubuntu",
                             "os-version": "20.04", "os-arch": "amd64", "image-type": "ova"}}}


def _admitted_cluster(doc: dict[str, Any], variables: list[dict[str, Any]] | None) -> None:
    topology = doc["spec"]["topology"]
    version = str(topology.get("version"))
    match = TKR_VERSION.match(version)
    k8s = match.group(1) if match else version
    doc["metadata"].setdefault("labels", {})["run.tanzu.vmware.com/tkr"] = \
        version.replace("+", "---")
    topology["version"] = k8s
    if variables is not None:
        schemas = {v["name"]: v["schema"]["openAPIV3Schema"] for v in variables}
        mine = topology.setdefault("variables", [])
        have = {v.get("name") for v in mine}
        for v in mine:
            if v.get("name") in schemas and "value" in v:
                v["value"] = defaulted(v["value"], schemas[v["name"]])
        mine += [{"name": name, "value": copy.deepcopy(schema["default"])}
                 for name, schema in schemas.items() if name not in have and "default" in schema]
        for md in (topology.get("workers") or {}).get("machineDeployments") or []:
            for v in (md.get("variables") or {}).get("overrides") or []:
                if v.get("name") in schemas and "value" in v:
                    v["value"] = defaulted(v["value"], schemas[v["name"]])
    topology.setdefault("variables", []).append({"name": "TKR_DATA",
                                                  "value": _tkr_data(version, k8s)})
    for md in (topology.get("workers") or {}).get("machineDeployments") or []:
        md.setdefault("variables", {}).setdefault("overrides", []).append(
            {"name": "TKR_DATA", "value": _tkr_data(version, k8s)})
    name = doc["metadata"]["name"]
    doc["metadata"]["finalizers"] = ["cluster.cluster.x-k8s.io"]
    doc["spec"]["controlPlaneEndpoint"] = {"host": "10.20.0.10", "port": 6443}
    doc["spec"]["infrastructureRef"] = {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                        "kind": "VSphereCluster", "name": f"{name}-x7k2p",
                                        "namespace": doc["metadata"].get("namespace")}
    doc["spec"]["controlPlaneRef"] = {"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
                                      "kind": "KubeadmControlPlane", "name": f"{name}-q9v4m",
                                      "namespace": doc["metadata"].get("namespace")}
    doc["status"] = {"phase": "Provisioned", "infrastructureReady": True,
                     "controlPlaneReady": True, "observedGeneration": 3,
                     "conditions": [{"type": "Ready", "status": "True",
                                     "lastTransitionTime": "2026-11-02T09:31:05Z"}]}


def as_live(obj: dict[str, Any], class_variables: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    """``obj`` as the management cluster returns it after it was applied (``class_variables``:
    the variables of its ClusterClass, for Cluster API's defaulting; None: no defaulting)."""
    doc = copy.deepcopy(obj)
    meta = doc.setdefault("metadata", {})
    meta.update(_server_meta(f"{doc.get('kind')}/{meta.get('namespace')}/{meta.get('name')}"))
    if doc.get("kind") == "Cluster" and str(doc.get("apiVersion")).startswith("cluster.x-k8s.io/"):
        _admitted_cluster(doc, class_variables)
    elif doc.get("kind") in ("InClusterIPPool", "GlobalInClusterIPPool"):
        doc["status"] = {"ipAddresses": {"total": 100, "used": 3, "free": 97}}
    return doc


def export(objects: list[dict[str, Any]]) -> str:
    """``kubectl get … -A -o yaml`` of ``objects``: a ``kind: List`` (JSON is YAML)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects,
                       "metadata": {"resourceVersion": ""}}, indent=1) + "\n"
