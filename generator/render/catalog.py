"""The TKG variable catalog: one table of the flat variables fleetgen models through the
``generator.load.options`` keys, and what tanzu makes of each.

Each ``Entry`` says: the flat variable, its inventory path, how its text is read and written
(``kind``), where tanzu puts it (``lands``: a ClusterClass variable path such as
``auditLogging.enabled``, or a Cluster field), the infrastructures it applies to, tanzu's default
and the reference lines both come from. Everything else is driven by this table: the topology
variables and flat-config lines the renderer adds (``catalog_view``), ``fleetgen import tkg``
(``generator.tkg.catalog``) and the documentation test (docs/tkg-variables.md).

Sources are in tanzu-framework release-0.29 (``../shared/reference/``): ``A`` is
providers/yttcc/lib/config_variable_association.star (get_cluster_variables / get_vsphere_vars /
get_aws_vars / get_azure_vars), ``D`` is providers/config_default.yaml.

What tanzu emits and when (traced, so a rendered Cluster is what ``tanzu cluster create`` builds):
- a variable whose default is set (ENABLE_AUDIT_LOGGING, the certificate rotation, the Pod
  Security Standard levels, AWS_LOAD_BALANCER_SCHEME_INTERNAL, the Azure private cluster /
  frontend IP / accelerated networking) is emitted for every cluster, with tanzu's default when
  the inventory leaves it unset;
- the others only when set;
- ``proxy`` only with TKG_HTTP_PROXY (A:366-374), its ``noProxy`` completed as
  tkg/client/validate.go getFullTKGNoProxy does (validate.go:1587-1655);
- ``trust`` holds one CA: TKG_PROXY_CA_CERT wins over TKG_CUSTOM_IMAGE_REPOSITORY_CA_CERTIFICATE
  (A:467-484);
- ``user.sshAuthorizedKeys`` gets the key without its comment (validate.go:414-422 trims it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from generator.load.model import ClusterSpec

A = "providers/yttcc/lib/config_variable_association.star"
D = "providers/config_default.yaml"
V = "tkg/client/validate.go"
AVI = "providers/yttcc/02_customizations/add_avi_labels.yaml"

ALL = ("vsphere", "aws", "azure")

# How a flat value is read and written:
#   text, int, bool; list: "a,b"; args: "k=v;k2=v2" (helpers.star get_extra_args_map_from_string);
#   labels / tags: "k=v,k2=v2"; key: one SSH key ↔ a one-item list; map: a YAML mapping (AVI_LABELS)
Kind = Literal["text", "int", "bool", "list", "args", "labels", "tags", "key", "map"]


@dataclass(frozen=True)
class Entry:
    flat: str
    path: tuple[str | int, ...]  # the inventory path
    kind: Kind
    lands: str  # ClusterClass variable path ("auditLogging.enabled") or a Cluster field
    source: str  # where tanzu maps it (file:line in the reference)
    infra: tuple[str, ...] = ALL
    default: Any = None  # tanzu's default (config_default.yaml); None: unset
    default_at: str = ""

    @property
    def variable(self) -> str | None:
        """The ClusterClass variable path, or None when it lands elsewhere."""
        return None if " " in self.lands else self.lands


def _e(flat: str, path: str, kind: Kind, lands: str, source: str, infra: tuple[str, ...] = ALL,
       default: Any = None, default_at: int | None = None) -> Entry:
    parts = tuple(int(p) if p.isdigit() else p for p in path.split("."))
    return Entry(flat, parts, kind, lands, source, infra, default,
                 f"{D}:{default_at}" if default_at else "")


def _registries() -> list[Entry]:
    out = []
    for n, line in ((1, 422), (2, 426), (3, 430)):
        base, at = f"ADDITIONAL_IMAGE_REGISTRY_{n}", f"{A}:{line}"
        lands = f"additionalImageRegistries[{n - 1}]"
        out += [_e(base, f"additionalImageRegistries.{n - 1}.host", "text", f"{lands}.host", at),
                _e(f"{base}_SKIP_TLS_VERIFY", f"additionalImageRegistries.{n - 1}.skipTLSVerify",
                   "bool", f"{lands}.skipTlsVerify", at),
                _e(f"{base}_CA_CERTIFICATE", f"additionalImageRegistries.{n - 1}.caCertificate",
                   "text", f"{lands}.caCert", at)]
    return out


def _azure_nodes() -> list[Entry]:
    """The Azure control-plane and worker disks and outbound load balancer (A:764-873)."""
    cp, w, az = "azure.controlPlaneNodes", "azure.workerNodes", ("azure",)
    return [
        _e("AZURE_CONTROL_PLANE_OS_DISK_STORAGE_ACCOUNT_TYPE", f"{cp}.osDiskStorageAccountType",
           "text", "controlPlane.osDisk.storageAccountType", f"{A}:770", az, "Premium_LRS", 417),
        _e("AZURE_CONTROL_PLANE_DATA_DISK_SIZE_GIB", f"{cp}.dataDiskSizeGiB", "int",
           "controlPlane.dataDisks[0].sizeGiB", f"{A}:781", az, 256, 421),
        _e("AZURE_ENABLE_CONTROL_PLANE_OUTBOUND_LB", f"{cp}.outboundLB.enabled", "bool",
           "controlPlane.outboundLB.enabled", f"{A}:801", az, False, 429),
        _e("AZURE_CONTROL_PLANE_OUTBOUND_LB_FRONTEND_IP_COUNT", f"{cp}.outboundLB.frontendIPCount",
           "int", "controlPlane.outboundLB.frontendIPCount", f"{A}:804", az, 1, 431),
        _e("AZURE_NODE_OS_DISK_STORAGE_ACCOUNT_TYPE", f"{w}.osDiskStorageAccountType", "text",
           "worker.osDisk.storageAccountType", f"{A}:825", az, "Premium_LRS", 419),
        _e("AZURE_ENABLE_NODE_DATA_DISK", f"{w}.dataDisk", "bool", "worker.dataDisks",
           f"{A}:836", az, False, 422),
        _e("AZURE_NODE_DATA_DISK_SIZE_GIB", f"{w}.dataDiskSizeGiB", "int",
           "worker.dataDisks[0].sizeGiB", f"{A}:839", az, 256, 423),
        _e("AZURE_ENABLE_NODE_OUTBOUND_LB", f"{w}.outboundLB.enabled", "bool",
           "worker.outboundLB.enabled", f"{A}:858", az, False, 430),
        _e("AZURE_NODE_OUTBOUND_LB_FRONTEND_IP_COUNT", f"{w}.outboundLB.frontendIPCount", "int",
           "worker.outboundLB.frontendIPCount", f"{A}:861", az, 1, 432),
        _e("AZURE_NODE_OUTBOUND_LB_IDLE_TIMEOUT_IN_MINUTES", f"{w}.outboundLB.idleTimeoutInMinutes",
           "int", "worker.outboundLB.idleTimeoutInMinutes", f"{A}:864", az, 4, 435),
    ]


CATALOG: tuple[Entry, ...] = (
    _e("ENABLE_AUDIT_LOGGING", "auditLogging", "bool", "auditLogging.enabled", f"{A}:442",
       default=False, default_at=545),
    _e("NTP_SERVERS", "ntpServers", "list", "ntpServers", f"{A}:994", infra=("vsphere",)),
    _e("VSPHERE_SSH_AUTHORIZED_KEY", "sshAuthorizedKeys", "key", "user.sshAuthorizedKeys",
       f"{A}:915", infra=("vsphere",)),
    _e("TKG_HTTP_PROXY", "proxy.httpProxy", "text", "proxy.httpProxy", f"{A}:369"),
    _e("TKG_HTTPS_PROXY", "proxy.httpsProxy", "text", "proxy.httpsProxy", f"{A}:370"),
    _e("TKG_NO_PROXY", "proxy.noProxy", "list", "proxy.noProxy", f"{A}:371"),
    _e("TKG_NODE_SYSTEM_WIDE_PROXY", "proxy.systemWide", "bool", "proxy.systemWide", f"{A}:372",
       default=False, default_at=526, infra=("vsphere",)),
    _e("TKG_PROXY_CA_CERT", "proxy.caCertificate", "text", "trust.additionalTrustedCAs",
       f"{A}:469"),
    _e("TKG_CUSTOM_IMAGE_REPOSITORY", "imageRepository.host", "text", "imageRepository.host",
       f"{A}:410"),
    _e("TKG_CUSTOM_IMAGE_REPOSITORY_SKIP_TLS_VERIFY", "imageRepository.skipTLSVerify", "bool",
       "imageRepository.tlsCertificateValidation", f"{A}:413", default=False, default_at=496),
    _e("TKG_CUSTOM_IMAGE_REPOSITORY_CA_CERTIFICATE", "imageRepository.caCertificate", "text",
       "trust.additionalTrustedCAs", f"{A}:474"),
    *_registries(),
    _e("POD_SECURITY_STANDARD_DEACTIVATED", "podSecurityStandard.deactivated", "bool",
       "podSecurityStandard.deactivated", f"{A}:495", default=False, default_at=575),
    _e("POD_SECURITY_STANDARD_AUDIT", "podSecurityStandard.audit", "text",
       "podSecurityStandard.audit", f"{A}:498", default="baseline", default_at=577),
    _e("POD_SECURITY_STANDARD_WARN", "podSecurityStandard.warn", "text",
       "podSecurityStandard.warn", f"{A}:501", default="baseline", default_at=578),
    _e("POD_SECURITY_STANDARD_ENFORCE", "podSecurityStandard.enforce", "text",
       "podSecurityStandard.enforce", f"{A}:504", default="", default_at=579),
    _e("CONTROLPLANE_CERTIFICATE_ROTATION_ENABLED", "controlPlane.certificateRotation.enabled",
       "bool", "controlPlaneCertificateRotation.activate", f"{A}:399", default=True,
       default_at=52),
    _e("CONTROLPLANE_CERTIFICATE_ROTATION_DAYS_BEFORE",
       "controlPlane.certificateRotation.daysBefore", "int",
       "controlPlaneCertificateRotation.daysBefore", f"{A}:402", default=90, default_at=54),
    _e("ETCD_EXTRA_ARGS", "kubernetes.extraArgs.etcd", "args", "etcdExtraArgs", f"{A}:448"),
    _e("APISERVER_EXTRA_ARGS", "kubernetes.extraArgs.apiServer", "args", "apiServerExtraArgs",
       f"{A}:451"),
    _e("KUBE_SCHEDULER_EXTRA_ARGS", "kubernetes.extraArgs.scheduler", "args",
       "kubeSchedulerExtraArgs", f"{A}:454"),
    _e("KUBE_CONTROLLER_MANAGER_EXTRA_ARGS", "kubernetes.extraArgs.controllerManager", "args",
       "kubeControllerManagerExtraArgs", f"{A}:457"),
    _e("CONTROLPLANE_KUBELET_EXTRA_ARGS", "kubernetes.extraArgs.controlPlaneKubelet", "args",
       "controlPlaneKubeletExtraArgs", f"{A}:460"),
    _e("WORKER_KUBELET_EXTRA_ARGS", "kubernetes.extraArgs.workerKubelet", "args",
       "workerKubeletExtraArgs", f"{A}:463"),
    _e("CONTROL_PLANE_NODE_LABELS", "controlPlane.nodeLabels", "labels", "controlPlane.nodeLabels",
       f"{A}:950"),
    _e("APISERVER_EVENT_RATE_LIMIT_CONF_BASE64", "kubernetes.apiServerEventRateLimitConfig", "text",
       "eventRateLimitConf", f"{A}:510"),
    _e("VSPHERE_CLONE_MODE", "vsphere.cloneMode", "text",
       "vcenter.cloneMode (written by the class template)", f"{A}:894", infra=("vsphere",),
       default="fullClone", default_at=124),
    _e("VSPHERE_ADDITIONAL_FQDN", "vsphere.additionalFQDNs", "list", "additionalFQDN",
       f"{A}:1002", infra=("vsphere",)),
    _e("CUSTOM_TDNF_REPOSITORY_CERTIFICATE", "vsphere.customTDNFRepositoryCertificate", "text",
       "customTDNFRepository.certificate", f"{A}:1007", infra=("vsphere",)),
    _e("AVI_LABELS", "labels", "map", "Cluster metadata.labels", f"{AVI}:8", infra=("vsphere",)),
    _e("AWS_LOAD_BALANCER_SCHEME_INTERNAL", "aws.loadBalancerSchemeInternal", "bool",
       "loadBalancerSchemeInternal", f"{A}:521", infra=("aws",), default=False, default_at=250),
    _e("AWS_SECURITY_GROUP_APISERVER_LB", "aws.securityGroupOverrides.apiServerLB", "text",
       "network.securityGroupOverrides.apiServerLB", f"{A}:562", infra=("aws",)),
    _e("AWS_SECURITY_GROUP_BASTION", "aws.securityGroupOverrides.bastion", "text",
       "network.securityGroupOverrides.bastion", f"{A}:559", infra=("aws",)),
    _e("AWS_SECURITY_GROUP_CONTROLPLANE", "aws.securityGroupOverrides.controlPlane", "text",
       "network.securityGroupOverrides.controlPlane", f"{A}:568", infra=("aws",)),
    _e("AWS_SECURITY_GROUP_LB", "aws.securityGroupOverrides.lb", "text",
       "network.securityGroupOverrides.lb", f"{A}:565", infra=("aws",)),
    _e("AWS_SECURITY_GROUP_NODE", "aws.securityGroupOverrides.node", "text",
       "network.securityGroupOverrides.node", f"{A}:571", infra=("aws",)),
    _e("AZURE_ENABLE_PRIVATE_CLUSTER", "azure.privateCluster", "bool", "privateCluster.enabled",
       f"{A}:727", infra=("azure",), default=False, default_at=427),
    _e("AZURE_FRONTEND_PRIVATE_IP", "azure.frontendPrivateIP", "text", "frontendPrivateIP",
       f"{A}:712", infra=("azure",), default="10.0.0.100", default_at=428),
    _e("AZURE_CUSTOM_TAGS", "azure.customTags", "tags", "customTags", f"{A}:713",
       infra=("azure",)),
    *_azure_nodes(),
    _e("AZURE_ENABLE_ACCELERATED_NETWORKING", "azure.acceleratedNetworking", "bool",
       "acceleratedNetworking.enabled", f"{A}:722", infra=("azure",), default=True,
       default_at=384),
)
BY_FLAT = {entry.flat: entry for entry in CATALOG}

# Variables the class templates already emit: the catalog adds fields to them (``merges``)
# instead of a second variable of the same name.
MERGED = {"vsphere": ("controlPlane",), "aws": ("controlPlane", "network"),
          "azure": ("controlPlane", "worker")}
# Emitted only when true: tanzu tests them with `!= False` (A:801, 858).
_ONLY_TRUE = ("AZURE_ENABLE_CONTROL_PLANE_OUTBOUND_LB", "AZURE_ENABLE_NODE_OUTBOUND_LB")
# Built by their own code below, not field by field.
_SPECIAL = ("proxy", "trust", "imageRepository", "additionalImageRegistries", "user",
            "worker.dataDisks")


def _special_variable(variable: str) -> bool:
    return any(variable == s or variable.startswith((f"{s}.", f"{s}[")) for s in _SPECIAL)

# tanzu's noProxy completion (validate.go:1590-1593, 1603-1605, 1634-1645); the values of
# ServiceDNSClusterLocalSuffix, ServiceDNSSuffix, LocalHost, LocalHostIP, LocalHostIPv6,
# LinkLocalAddress and AzurePublicVIP are tanzu-framework tkg/constants/defaults.go (not in the
# reference folder). Go iterates a map in random order; fleetgen keeps the code's order.
NO_PROXY_ALWAYS = (".svc.cluster.local", ".svc", "localhost", "127.0.0.1")
NO_PROXY_IPV6 = "::1"
NO_PROXY_LINK_LOCAL = "169.254.0.0/16"
NO_PROXY_AZURE_VIP = "168.63.129.16"


def get_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        inside_dict = isinstance(data, dict) and part in data
        inside_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if inside_dict or inside_list:
            data = data[part]
        else:
            return None
    return data


# --- flat text ↔ inventory value ----------------------------------------------------------------

def flat_text(kind: Kind, value: Any) -> Any:
    """The flat-config value of an inventory value (bools and ints stay typed)."""
    if kind == "list":
        return ",".join(value)
    if kind == "args":
        return ";".join(f"{k}={v}" for k, v in value.items())
    if kind in ("labels", "tags"):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if kind == "key":
        return value[0]
    if kind == "map":
        return json.dumps(value, separators=(", ", ": "))
    return value


# --- what tanzu emits ---------------------------------------------------------------------------

def _effective(entry: Entry, data: dict[str, Any]) -> Any:
    value = get_at(data, entry.path)
    return entry.default if value is None else value


def _class_value(entry: Entry, value: Any) -> Any:
    if entry.kind == "labels":
        return [{"key": k, "value": v} for k, v in value.items()]
    if entry.kind == "tags":
        return flat_text("tags", value)
    return value


def _put(out: dict[str, Any], lands: str, value: Any) -> None:
    """Set ``value`` at a variable path; ``name[0]`` is a list of one mapping."""
    parts = lands.split(".")
    node = out
    for part in parts[:-1]:
        if part.endswith("[0]"):
            node = node.setdefault(part[:-3], [{}])[0]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def no_proxy(spec: ClusterSpec, given: list[str]) -> list[str]:
    """TKG_NO_PROXY as tanzu completes it (validate.go:1587-1629)."""
    entries = [*NO_PROXY_ALWAYS, *spec.network.service_cidrs, *spec.network.pod_cidrs]
    if spec.network.ip_family == "ipv6":
        entries.append(NO_PROXY_IPV6)
    entries += given
    if spec.aws is not None:
        entries += [c for c in (spec.aws.vpc_cidr,) if c]
        entries.append(NO_PROXY_LINK_LOCAL)
    if spec.azure is not None:
        entries += [*spec.azure.vnet.cidr_blocks, NO_PROXY_LINK_LOCAL, NO_PROXY_AZURE_VIP]
    return list(dict.fromkeys(entries))


def _special(spec: ClusterSpec, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    proxy = spec.proxy
    if proxy is not None and proxy.http_proxy:  # A:366-374
        out["proxy"] = {"httpProxy": proxy.http_proxy, "httpsProxy": proxy.https_proxy,
                        "noProxy": no_proxy(spec, proxy.no_proxy or [])}
        if spec.vsphere is not None:
            # tanzu writes systemWide on every infrastructure (A:372), but only the vSphere class
            # defines it (providers/infrastructure-vsphere/v1.5.3/cconly/base.yaml:318); Cluster
            # API refuses a variable field its class does not define (cluster-api#7507).
            out["proxy"]["systemWide"] = bool(proxy.system_wide)
    repo = spec.image_repository
    image: dict[str, Any] = {}
    if repo is not None and repo.host:  # A:409-419
        image["host"] = repo.host
    if repo is not None and repo.skip_tls_verify:
        image["tlsCertificateValidation"] = False
    if image:
        out["imageRepository"] = image
    registries = [{"host": r.host, "skipTlsVerify": r.skip_tls_verify,  # helpers.star:416-432
                   **({"caCert": r.ca_certificate} if not r.skip_tls_verify else {})}
                  for r in spec.additional_image_registries or []]
    if registries:
        out["additionalImageRegistries"] = registries
    if proxy is not None and proxy.ca_certificate:  # A:467-484: the proxy CA wins
        out["trust"] = {"additionalTrustedCAs": [{"name": "proxy", "data": proxy.ca_certificate}]}
    elif repo is not None and repo.ca_certificate:
        out["trust"] = {"additionalTrustedCAs": [{"name": "imageRepository",
                                                  "data": repo.ca_certificate}]}
    nodes = spec.azure.worker_nodes if spec.azure is not None else None
    if nodes is not None and nodes.data_disk:  # A:835-841: dataDisks only when enabled
        size = nodes.data_disk_size_gib or BY_FLAT["AZURE_NODE_DATA_DISK_SIZE_GIB"].default
        out["worker"] = {"dataDisks": [{"sizeGiB": size}]}
    if spec.vsphere is not None and spec.ssh_authorized_keys:  # A:915-919, validate.go:414-422
        out["user"] = {"sshAuthorizedKeys": [" ".join(key.split()[:2])
                                             for key in spec.ssh_authorized_keys]}
    return out


def catalog_view(spec: ClusterSpec) -> dict[str, Any]:
    """``extra_variables`` ([{name, value}]), ``variable_merges`` ({class variable: fields to
    add}) and ``flat_extra`` ([[KEY, value]]) for one cluster."""
    infra = spec.infrastructure
    # what the inventory sets (a registry's skipTLSVerify: false is its default, not a setting)
    data = spec.model_dump(by_alias=True, mode="json", exclude_none=True, exclude_defaults=True)
    values: dict[str, Any] = {}
    flat: list[list[Any]] = []
    for entry in CATALOG:
        if infra not in entry.infra:
            continue
        given = get_at(data, entry.path)
        if given is not None and given != [] and given != {}:
            flat.append([entry.flat, flat_text(entry.kind, given)])
        variable = entry.variable
        if variable is None or _special_variable(variable):
            continue
        value = _effective(entry, data)
        if value is None or value == "" or value == {} or value == []:
            continue
        if entry.flat in _ONLY_TRUE and value is not True:
            continue
        _put(values, variable, _class_value(entry, value))
    for name, value in _special(spec, data).items():  # merge, "worker" may hold fields already
        values[name] = {**values.get(name, {}), **value} if isinstance(value, dict) else value
    os_disk = {role: values.get(role, {}).pop("osDisk", {}).get("storageAccountType")
               for role in ("controlPlane", "worker")} if infra == "azure" else {}
    if spec.proxy is not None and spec.proxy.http_proxy:
        flat.append(["TKG_HTTP_PROXY_ENABLED", True])
    merged = MERGED[infra]
    return {
        "extra_variables": [{"name": k, "value": v} for k, v in values.items() if k not in merged],
        "variable_merges": {k: values.get(k, {}) for k in merged},
        "flat_extra": flat,
        "azure_os_disk": os_disk,  # inside the osDisk the Azure template writes
    }
