"""The TKG variable catalog: each flat variable imports to its inventory key, renders where
tanzu puts it, and comes back unchanged when the rendered cluster-config.yaml is imported again.

Expected values are traced through tanzu-framework release-0.29 (``../shared/reference/``);
``A`` = providers/yttcc/lib/config_variable_association.star, ``D`` = providers/config_default.yaml.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from support.fleets import write_tree

from generator.pipeline import render
from generator.problems import FleetError
from generator.tkg.importer import import_tkg
from generator.yaml.fast import load_fast

MGMT = "mgmt"
IMPORTED = "clusters/imported"
FLEET = f"""\
managementCluster: {MGMT}
kubernetes:
  version: v1.27.5+vmware.1-tkg.1
"""
SETTINGS = """\
credentials:
  vsphere:
    identityRef: {kind: VSphereClusterIdentity, name: tkg-vcenter}
"""
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBexampleCA\n-----END CERTIFICATE-----\n"
                      ).decode()
CA2 = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBsecondCA\n-----END CERTIFICATE-----\n"
                       ).decode()
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForFleetgenDocs"

BASE = {
    "vsphere": {
        "CLUSTER_NAME": "cat", "CLUSTER_PLAN": "dev", "INFRASTRUCTURE_PROVIDER": "vsphere",
        "VSPHERE_SERVER": "vc.example.com", "VSPHERE_DATACENTER": "/dc0",
        "VSPHERE_DATASTORE": "/dc0/datastore/ds1", "VSPHERE_FOLDER": "/dc0/vm/tkg",
        "VSPHERE_RESOURCE_POOL": "/dc0/host/c1/Resources/tkg",
        "VSPHERE_CONTROL_PLANE_ENDPOINT": "192.0.2.10"},
    "aws": {
        "CLUSTER_NAME": "cat", "CLUSTER_PLAN": "dev", "INFRASTRUCTURE_PROVIDER": "aws",
        "AWS_REGION": "eu-west-1", "AWS_NODE_AZ": "eu-west-1a", "AWS_SSH_KEY_NAME": "tkg",
        "AWS_IDENTITY_REF_KIND": "AWSClusterRoleIdentity", "AWS_IDENTITY_REF_NAME": "tkg-aws"},
    "azure": {
        "CLUSTER_NAME": "cat", "CLUSTER_PLAN": "dev", "INFRASTRUCTURE_PROVIDER": "azure",
        "AZURE_LOCATION": "westeurope",
        "AZURE_SUBSCRIPTION_ID": "3f0c8e52-6d1a-4b7e-9c2f-1a2b3c4d5e6f",
        "AZURE_SSH_PUBLIC_KEY_B64": base64.b64encode(KEY.encode()).decode()},
}


def flat_text(values: dict[str, Any]) -> str:
    from generator.yaml.dump import dump
    return dump(values)


def fleet(root: Path) -> Path:
    return write_tree(root, {"fleetgen.yaml": SETTINGS, "clusters/_defaults.yaml": FLEET,
                             f"{IMPORTED}/.keep": ""})


def import_flat(root: Path, values: dict[str, Any]) -> str:
    flat = root / "flat.yaml"
    flat.write_text(flat_text(values), encoding="utf-8")
    result = import_tkg(root, flat, None, root / IMPORTED)
    result.path.write_text(result.text, encoding="utf-8")
    return result.text


def body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def run(tmp_path: Path, infra: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Import BASE[infra] + extra, render; returns the inventory text, the topology variables,
    the Cluster, the rendered flat config and the inventory a second import gives."""
    root = fleet(tmp_path / "first")
    text = import_flat(root, {**BASE[infra], **extra})
    render(root)
    [folder] = list((root / "rendered" / MGMT).glob("*/cat"))
    cluster = load_fast((folder / "cluster.yaml").read_text())
    config = load_fast((folder / "cluster-config.yaml").read_text())
    again = import_flat(fleet(tmp_path / "again"), config)
    variables = {v["name"]: v["value"] for v in cluster["spec"]["topology"]["variables"]}
    return {"inventory": load_fast(body(text)) or {}, "variables": variables, "cluster": cluster,
            "config": config, "round_trip": (body(text), body(again))}


def test_defaults_tanzu_always_emits(tmp_path: Path) -> None:
    v = run(tmp_path, "vsphere", {})["variables"]
    assert v["auditLogging"] == {"enabled": False}  # A:442-445, D:545
    assert v["controlPlaneCertificateRotation"] == {"activate": True, "daysBefore": 90}  # A:398-407, D:52,54
    assert v["podSecurityStandard"] == {  # A:494-509, D:575-579 (enforce "" is left out)
        "deactivated": False, "audit": "baseline", "warn": "baseline"}
    for absent in ("ntpServers", "user", "proxy", "trust", "imageRepository",
                   "additionalImageRegistries", "apiServerExtraArgs"):
        assert absent not in v


def test_aws_and_azure_defaults(tmp_path: Path) -> None:
    aws = run(tmp_path / "aws", "aws", {})["variables"]
    assert aws["loadBalancerSchemeInternal"] is False  # A:521, D:250
    azure = run(tmp_path / "azure", "azure", {})["variables"]
    assert azure["privateCluster"] == {"enabled": False}  # A:727-731, D:427
    assert azure["frontendPrivateIP"] == "10.0.0.100"  # A:712, D:428
    assert azure["acceleratedNetworking"] == {"enabled": True}  # A:722-726, D:384
    assert "customTags" not in azure  # D:413 has no default
    # A:764-813: the control plane's disks and outbound LB, D:417,421,431
    assert {k: azure["controlPlane"][k] for k in ("osDisk", "dataDisks", "outboundLB")} == {
        "osDisk": {"sizeGiB": 128, "storageAccountType": "Premium_LRS"},
        "dataDisks": [{"sizeGiB": 256}], "outboundLB": {"frontendIPCount": 1}}
    # A:819-873: the workers', D:419,422,432,435 (no dataDisks: AZURE_ENABLE_NODE_DATA_DISK false)
    assert {k: azure["worker"].get(k) for k in ("osDisk", "dataDisks", "outboundLB")} == {
        "osDisk": {"sizeGiB": 128, "storageAccountType": "Premium_LRS"}, "dataDisks": None,
        "outboundLB": {"frontendIPCount": 1, "idleTimeoutInMinutes": 4}}


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("audit", "vsphere", {"ENABLE_AUDIT_LOGGING": True}, {"auditLogging": {"enabled": True}}),
    ("ntp", "vsphere", {"NTP_SERVERS": "0.pool.ntp.org, 1.pool.ntp.org"},
     {"ntpServers": ["0.pool.ntp.org", "1.pool.ntp.org"]}),  # A:994-996 drops the blanks
    # validate.go:414-422 keeps the key's first two fields; A:915-919
    ("ssh", "vsphere", {"VSPHERE_SSH_AUTHORIZED_KEY": f"{KEY} ops@example.com"},
     {"user": {"sshAuthorizedKeys": [KEY]}}),
    ("rotation", "aws", {"CONTROLPLANE_CERTIFICATE_ROTATION_ENABLED": False,
                         "CONTROLPLANE_CERTIFICATE_ROTATION_DAYS_BEFORE": 30},
     {"controlPlaneCertificateRotation": {"activate": False, "daysBefore": 30}}),  # A:398-407
    ("pss", "azure", {"POD_SECURITY_STANDARD_ENFORCE": "restricted",
                      "POD_SECURITY_STANDARD_AUDIT": "restricted"},
     {"podSecurityStandard": {"deactivated": False, "audit": "restricted", "warn": "baseline",
                              "enforce": "restricted"}}),  # A:494-509
    ("extra-args", "vsphere",
     {"APISERVER_EXTRA_ARGS": "tls-min-version=VersionTLS12;profiling=false",
      "ETCD_EXTRA_ARGS": "heartbeat-interval=300;election-timeout=2000",
      "KUBE_SCHEDULER_EXTRA_ARGS": "profiling=false",
      "KUBE_CONTROLLER_MANAGER_EXTRA_ARGS": "profiling=false",
      "CONTROLPLANE_KUBELET_EXTRA_ARGS": "read-only-port=0;event-qps=0",
      "WORKER_KUBELET_EXTRA_ARGS": "read-only-port=0"},
     {"apiServerExtraArgs": {"tls-min-version": "VersionTLS12", "profiling": "false"},  # A:451
      "etcdExtraArgs": {"heartbeat-interval": "300", "election-timeout": "2000"},  # A:448
      "kubeSchedulerExtraArgs": {"profiling": "false"},  # A:454
      "kubeControllerManagerExtraArgs": {"profiling": "false"},  # A:457
      "controlPlaneKubeletExtraArgs": {"read-only-port": "0", "event-qps": "0"},  # A:460
      "workerKubeletExtraArgs": {"read-only-port": "0"}}),  # A:463
    ("image-repository", "aws",
     {"TKG_CUSTOM_IMAGE_REPOSITORY": "harbor.example.com/tkg",
      "TKG_CUSTOM_IMAGE_REPOSITORY_SKIP_TLS_VERIFY": True},
     {"imageRepository": {"host": "harbor.example.com/tkg",  # A:409-419
                          "tlsCertificateValidation": False}}),
    ("image-repository-ca", "vsphere",
     {"TKG_CUSTOM_IMAGE_REPOSITORY": "harbor.example.com/tkg",
      "TKG_CUSTOM_IMAGE_REPOSITORY_CA_CERTIFICATE": CA},
     {"imageRepository": {"host": "harbor.example.com/tkg"},
      "trust": {"additionalTrustedCAs": [{"name": "imageRepository", "data": CA}]}}),  # A:474-478
    ("registries", "azure",
     {"ADDITIONAL_IMAGE_REGISTRY_1": "registry-1.example.com",
      "ADDITIONAL_IMAGE_REGISTRY_1_CA_CERTIFICATE": CA,
      "ADDITIONAL_IMAGE_REGISTRY_2": "registry-2.example.com:8443",
      "ADDITIONAL_IMAGE_REGISTRY_2_SKIP_TLS_VERIFY": True},
     {"additionalImageRegistries": [  # A:421-436, helpers.star:416-432
         {"host": "registry-1.example.com", "skipTlsVerify": False, "caCert": CA},
         {"host": "registry-2.example.com:8443", "skipTlsVerify": True}]}),
    ("node-labels-vsphere", "vsphere", {"CONTROL_PLANE_NODE_LABELS": "tier=cp,site=a"},
     {"controlPlane.nodeLabels": [{"key": "tier", "value": "cp"},  # A:950-952
                                  {"key": "site", "value": "a"}]}),
    ("node-labels-aws", "aws", {"CONTROL_PLANE_NODE_LABELS": "tier=cp"},
     {"controlPlane.nodeLabels": [{"key": "tier", "value": "cp"}]}),  # A:696-698
    ("node-labels-azure", "azure", {"CONTROL_PLANE_NODE_LABELS": "tier=cp"},
     {"controlPlane.nodeLabels": [{"key": "tier", "value": "cp"}]}),  # A:811-813
    ("azure-nodes", "azure",
     {"AZURE_CONTROL_PLANE_OS_DISK_STORAGE_ACCOUNT_TYPE": "StandardSSD_LRS",
      "AZURE_CONTROL_PLANE_DATA_DISK_SIZE_GIB": 512, "AZURE_ENABLE_CONTROL_PLANE_OUTBOUND_LB": True,
      "AZURE_CONTROL_PLANE_OUTBOUND_LB_FRONTEND_IP_COUNT": 2,
      "AZURE_NODE_OS_DISK_STORAGE_ACCOUNT_TYPE": "Standard_LRS", "AZURE_ENABLE_NODE_DATA_DISK": True,
      "AZURE_NODE_DATA_DISK_SIZE_GIB": 100, "AZURE_ENABLE_NODE_OUTBOUND_LB": True,
      "AZURE_NODE_OUTBOUND_LB_FRONTEND_IP_COUNT": 3, "AZURE_NODE_OUTBOUND_LB_IDLE_TIMEOUT_IN_MINUTES": 10},
     {"controlPlane.osDisk": {"sizeGiB": 128, "storageAccountType": "StandardSSD_LRS"},  # A:769-778
      "controlPlane.dataDisks": [{"sizeGiB": 512}],  # A:780-784
      "controlPlane.outboundLB": {"enabled": True, "frontendIPCount": 2},  # A:800-809
      "worker.osDisk": {"sizeGiB": 128, "storageAccountType": "Standard_LRS"},  # A:824-833
      "worker.dataDisks": [{"sizeGiB": 100}],  # A:835-841
      "worker.outboundLB": {"enabled": True, "frontendIPCount": 3,  # A:857-869
                            "idleTimeoutInMinutes": 10}}),
    ("additional-fqdn", "vsphere", {"VSPHERE_ADDITIONAL_FQDN": "api.example.com, k8s.example.com"},
     {"additionalFQDN": ["api.example.com", "k8s.example.com"]}),  # A:1002-1004
    ("tdnf", "vsphere", {"CUSTOM_TDNF_REPOSITORY_CERTIFICATE": CA},
     {"customTDNFRepository": {"certificate": CA}}),  # A:1006-1012
    ("clone-mode", "vsphere", {"VSPHERE_CLONE_MODE": "linkedClone"},
     {"vcenter.cloneMode": "linkedClone"}),  # A:894
    ("event-rate-limit", "aws", {"APISERVER_EVENT_RATE_LIMIT_CONF_BASE64": "a2luZDogQ29uZmlndXJhdGlvbgo="},
     {"eventRateLimitConf": "a2luZDogQ29uZmlndXJhdGlvbgo="}),  # A:510-512
    ("aws-lb", "aws", {"AWS_LOAD_BALANCER_SCHEME_INTERNAL": True},
     {"loadBalancerSchemeInternal": True}),  # A:521
    ("aws-security-groups", "aws",
     {"AWS_SECURITY_GROUP_APISERVER_LB": "sg-0a1", "AWS_SECURITY_GROUP_BASTION": "sg-0b2",
      "AWS_SECURITY_GROUP_CONTROLPLANE": "sg-0c3", "AWS_SECURITY_GROUP_LB": "sg-0d4",
      "AWS_SECURITY_GROUP_NODE": "sg-0e5"},
     {"network.securityGroupOverrides": {"apiServerLB": "sg-0a1", "bastion": "sg-0b2",  # A:558-577
                                         "controlPlane": "sg-0c3", "lb": "sg-0d4",
                                         "node": "sg-0e5"}}),
    ("azure-private", "azure",
     {"AZURE_ENABLE_PRIVATE_CLUSTER": True, "AZURE_FRONTEND_PRIVATE_IP": "10.0.0.200",
      "AZURE_ENABLE_ACCELERATED_NETWORKING": False, "AZURE_CUSTOM_TAGS": "env=prod,team=crm"},
     {"privateCluster": {"enabled": True}, "frontendPrivateIP": "10.0.0.200",  # A:712,727
      "acceleratedNetworking": {"enabled": False},  # A:722
      "customTags": "env=prod,team=crm"}),  # A:713: the string, split by the class (base.yaml:703)
]


def lookup(variables: dict[str, Any], path: str) -> Any:
    name, *rest = path.split(".")
    value = variables[name]
    for part in rest:
        value = value[part]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_variable_lands_and_round_trips(case: tuple[str, str, dict[str, Any], dict[str, Any]],
                                        tmp_path: Path) -> None:
    _, infra, extra, expected = case
    out = run(tmp_path, infra, extra)
    assert {path: lookup(out["variables"], path) for path in expected} == expected
    first, again = out["round_trip"]
    assert first == again


def test_proxy_no_proxy_is_completed_like_tanzu(tmp_path: Path) -> None:
    out = run(tmp_path, "aws", {
        "TKG_HTTP_PROXY_ENABLED": True, "TKG_HTTP_PROXY": "http://proxy.example.com:3128",
        "TKG_HTTPS_PROXY": "http://proxy.example.com:3128",
        "TKG_NO_PROXY": "10.0.0.0/8, .corp.example.com"})
    # A:366-374; validate.go:1587-1629 completes TKG_NO_PROXY (AWS: the VPC CIDR and link-local,
    # validate.go:1634-1638); tanzu's order is Go map order, fleetgen keeps the code's order.
    assert out["variables"]["proxy"] == {
        "httpProxy": "http://proxy.example.com:3128", "httpsProxy": "http://proxy.example.com:3128",
        "noProxy": [".svc.cluster.local", ".svc", "localhost", "127.0.0.1", "100.64.0.0/13",
                    "100.96.0.0/11", "10.0.0.0/8", ".corp.example.com", "10.0.0.0/16",
                    "169.254.0.0/16"]}  # no systemWide: the AWS class has none (vSphere only)
    assert out["inventory"]["proxy"]["noProxy"] == ["10.0.0.0/8", ".corp.example.com"]
    assert out["config"]["TKG_HTTP_PROXY_ENABLED"] is True
    assert out["round_trip"][0] == out["round_trip"][1]


def test_proxy_on_azure_adds_vnet_and_azure_vip(tmp_path: Path) -> None:
    out = run(tmp_path, "azure", {
        "TKG_HTTP_PROXY": "http://proxy.example.com:3128",
        "TKG_HTTPS_PROXY": "https://proxy.example.com", "TKG_HTTP_PROXY_ENABLED": "true"})
    no_proxy = out["variables"]["proxy"]["noProxy"]
    assert no_proxy[-3:] == ["10.0.0.0/16", "169.254.0.0/16", "168.63.129.16"]  # validate.go:1639-1645
    assert "::1" not in no_proxy


def test_proxy_on_ipv6_adds_the_ipv6_loopback(tmp_path: Path) -> None:
    out = run(tmp_path, "vsphere", {
        "TKG_IP_FAMILY": "ipv6", "VSPHERE_CONTROL_PLANE_ENDPOINT": "2001:db8::10",
        "TKG_HTTP_PROXY": "http://[2001:db8::3]:3128", "TKG_HTTPS_PROXY": "http://[2001:db8::3]:3128",
        "TKG_NO_PROXY": "vc.example.com"})
    no_proxy = out["variables"]["proxy"]["noProxy"]
    # validate.go:1590-1605: the IPv6 default CIDRs, then ::1 (only for TKG_IP_FAMILY ipv6)
    assert no_proxy == [".svc.cluster.local", ".svc", "localhost", "127.0.0.1",
                        "fd00:100:64::/108", "fd00:100:96::/48", "::1", "vc.example.com"]


def test_proxy_ca_wins_over_image_repository_ca(tmp_path: Path) -> None:
    out = run(tmp_path, "vsphere", {
        "TKG_HTTP_PROXY": "http://proxy.example.com:3128",
        "TKG_HTTPS_PROXY": "http://proxy.example.com:3128", "TKG_NODE_SYSTEM_WIDE_PROXY": True,
        "TKG_NO_PROXY": "vc.example.com",
        "TKG_PROXY_CA_CERT": CA, "TKG_CUSTOM_IMAGE_REPOSITORY": "harbor.example.com/tkg",
        "TKG_CUSTOM_IMAGE_REPOSITORY_CA_CERTIFICATE": CA2})
    # A:467-479: one CA, the proxy's
    assert out["variables"]["trust"] == {"additionalTrustedCAs": [{"name": "proxy", "data": CA}]}
    assert out["variables"]["proxy"]["systemWide"] is True  # A:372
    assert out["inventory"]["imageRepository"]["caCertificate"] == CA2  # kept for the flat config
    assert out["round_trip"][0] == out["round_trip"][1]


def test_avi_labels_become_cluster_labels(tmp_path: Path) -> None:
    out = run(tmp_path, "vsphere", {"AVI_LABELS": "{'ako-l7': 'enabled', 'tier': 1}"})
    labels = out["cluster"]["metadata"]["labels"]  # add_avi_labels.yaml:8-16
    assert labels["ako-l7"] == "enabled" and labels["tier"] == "1"
    assert out["inventory"]["labels"] == {"ako-l7": "enabled", "tier": "1"}
    assert out["round_trip"][0] == out["round_trip"][1]


def test_avi_labels_as_a_yaml_mapping(tmp_path: Path) -> None:
    out = run(tmp_path, "vsphere", {"AVI_LABELS": {"ako-l7": "enabled"}})
    assert out["cluster"]["metadata"]["labels"]["ako-l7"] == "enabled"


@pytest.mark.parametrize("extra, where, words", [
    ({"APISERVER_EXTRA_ARGS": "profiling"}, "APISERVER_EXTRA_ARGS", "key1=value1;key2=value2"),
    ({"CONTROL_PLANE_NODE_LABELS": "a=b=c"}, "CONTROL_PLANE_NODE_LABELS", "key1=value1,key2"),
    ({"TKG_HTTP_PROXY_ENABLED": True}, "TKG_HTTP_PROXY_ENABLED", "TKG_HTTP_PROXY is not set"),
    ({"TKG_HTTP_PROXY": "proxy.example.com:3128", "TKG_HTTPS_PROXY": "http://p.example.com"},
     "TKG_HTTP_PROXY", "not a proxy URL"),
    ({"TKG_HTTP_PROXY": "http://p.example.com"}, "TKG_HTTP_PROXY", "go together"),
    ({"TKG_NO_PROXY": "*.example.com", "TKG_HTTP_PROXY": "http://p.example.com",
      "TKG_HTTPS_PROXY": "http://p.example.com"}, "TKG_NO_PROXY", "'*'"),
    ({"TKG_PROXY_CA_CERT": "not base64!"}, "TKG_PROXY_CA_CERT", "not base64"),
    # providers/yttcc/lib/validate.star:44-47, helpers.star:312-321
    ({"TKG_HTTP_PROXY": "http://p.example.com", "TKG_HTTPS_PROXY": "http://p.example.com",
      "TKG_NO_PROXY": ".corp.example.com"}, "TKG_NO_PROXY", "must list the vCenter server"),
    ({"ADDITIONAL_IMAGE_REGISTRY_1": "r.example.com"}, "ADDITIONAL_IMAGE_REGISTRY_1",
     "Must provide CA"),
    ({"AVI_LABELS": "[a, b]"}, "AVI_LABELS", "mapping of label names"),
    ({"VSPHERE_SSH_AUTHORIZED_KEY": "not-a-key"}, "VSPHERE_SSH_AUTHORIZED_KEY", "SSH public key"),
    ({"CONTROLPLANE_CERTIFICATE_ROTATION_DAYS_BEFORE": 3},
     "CONTROLPLANE_CERTIFICATE_ROTATION_DAYS_BEFORE", "at least 7"),
])
def test_bad_values_are_located_errors(extra: dict[str, Any], where: str, words: str,
                                       tmp_path: Path) -> None:
    root = fleet(tmp_path)
    flat = root / "flat.yaml"
    values = {**BASE["vsphere"], **extra}
    flat.write_text(flat_text(values), encoding="utf-8")
    with pytest.raises(FleetError) as caught:
        import_tkg(root, flat, None, root / IMPORTED)
    line = list(values).index(where) + 1
    assert [(p.location.line, p.code) for p in caught.value.problems
            if words in p.message + p.hint and p.severity == "error"][:1] != [], \
        [p.message for p in caught.value.problems]
    assert any(p.location.line == line for p in caught.value.problems if words in p.message + p.hint)


@pytest.mark.parametrize("secret", ["NSXT_PASSWORD", "LDAP_BIND_PASSWORD",
                                    "OIDC_IDENTITY_PROVIDER_CLIENT_SECRET", "AVI_PASSWORD"])
def test_secrets_are_refused(secret: str, tmp_path: Path) -> None:
    root = fleet(tmp_path)
    flat = root / "flat.yaml"
    flat.write_text(flat_text({**BASE["vsphere"], secret: "hunter2"}), encoding="utf-8")
    with pytest.raises(FleetError) as caught:
        import_tkg(root, flat, None, root / IMPORTED)
    assert [p.code for p in caught.value.problems if secret in p.message] == ["credential"]


def test_management_cluster_only_variables_say_so(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    text = import_flat(root, {**BASE["vsphere"], "ENABLE_MHC": True,
                              "MHC_UNKNOWN_STATUS_TIMEOUT": "10m",
                              "IDENTITY_MANAGEMENT_TYPE": "oidc"})
    assert "ENABLE_MHC not imported: management cluster only: tanzu writes machine health " \
           "checks into the ClusterClass" in text
    assert "IDENTITY_MANAGEMENT_TYPE not imported: management cluster only" in text
