"""The infrastructure sections of a cluster inventory: ``vsphere:``, ``aws:`` and ``azure:``.

Split from ``model`` (which re-exports every name) so each stays small; the same strict style.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.load.grammar import SelectorValue
from generator.load.addons import KubeVipLoadBalancer, VSphereIdentityRef
from generator.load.model_base import CIDR, IP, Model
from generator.load.options import (AzureNodes, AzureTags, CACertificate, ListItem,
                                    SecurityGroupOverrides)

# tanzu-framework-release-0.29 providers/config_default.yaml:268-274 (AWS_VPC_CIDR,
# AWS_PRIVATE_NODE_CIDR(_1/_2), AWS_PUBLIC_NODE_CIDR(_1/_2)); a new VPC only: with AWS_VPC_ID the CLI
# blanks them (tkg/client/validate.go:1002-1009).
AWS_DEFAULT_PRIVATE = ("10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24")
AWS_DEFAULT_PUBLIC = ("10.0.1.0/24", "10.0.3.0/24", "10.0.5.0/24")
AWS_DEFAULT_VPC = "10.0.0.0/16"
# prodcc builds subnets 0 … 2 (providers/yttcc/lib/config_variable_association.star:610-670)
AWS_PROD_SUBNETS = 3

# --- infrastructure --------------------------------------------------------------------------

class VSphere(Model):
    server: str
    datacenter: str
    # Optional when storagePolicyID is set: tanzu needs one of the two
    # (tanzu-framework-release-0.29 tkg/client/validate.go:920-928; generator/check/parity_rules.py).
    datastore: str = ""
    folder: str
    resource_pool: str
    network: str = "VM Network"
    template: str = ""
    storage_policy_id: str = Field(default="", alias="storagePolicyID")
    tls_thumbprint: str = ""
    clone_mode: Literal["fullClone", "linkedClone"] = "fullClone"
    # the variable catalog (issue 15, helper B)
    additional_fqdns: list[ListItem] | None = Field(default=None, alias="additionalFQDNs")
    # the tdnf server's certificate, base64 PEM like every tanzu *_CERTIFICATE (never a key)
    custom_tdnf_repository_certificate: CACertificate | None = Field(
        default=None, alias="customTDNFRepositoryCertificate")
    # issue 15, helper C: CPI / CSI region and zone (VSPHERE_REGION / VSPHERE_ZONE) and the
    # identity the VSphereCluster uses (overrides fleetgen.yaml credentials.vsphere)
    region: str | None = Field(default=None, min_length=1)
    zone: str | None = Field(default=None, min_length=1)
    identity_ref: VSphereIdentityRef | None = None
    kube_vip_load_balancer: KubeVipLoadBalancer | None = None  # KUBEVIP_LOADBALANCER_*


class AWSRef(Model):
    cidr: CIDR | None = None
    id: str | None = None


class AWSSubnet(Model):
    # "" (AWS_NODE_AZ unset) is tanzu's default: the class and the machine deployments take
    # <region>a / b / c (providers/infrastructure-aws/v2.0.2/cconly/base.yaml:581,
    # providers/infrastructure-aws/v2.0.2/yttcc/overlay.yaml:11-13,
    # providers/yttcc/lib/helpers.star:129-135).
    az: str = ""
    private: AWSRef = Field(default_factory=AWSRef)
    public: AWSRef = Field(default_factory=AWSRef)


class AWSVPC(Model):
    cidr: CIDR | None = None
    existing_id: str | None = Field(default=None, alias="existingID")


class IdentityRef(Model):
    """AWS_IDENTITY_REF_KIND / _NAME, each optional as in tanzu: without a kind the class uses
    AWSClusterRoleIdentity (providers/infrastructure-aws/v2.0.2/cconly/base.yaml:124-126, 666);
    without a name the class sets no identity at all (base.yaml:654), so CAPA's default controller
    identity applies."""

    kind: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1)


class AWS(Model):
    region: SelectorValue
    ssh_key_name: str
    # None: tanzu's `identityRef: {}` (config_variable_association.star:540-547 always writes it)
    identity_ref: IdentityRef | None = None
    vpc: AWSVPC = Field(default_factory=AWSVPC)
    subnets: list[AWSSubnet] = Field(default_factory=lambda: [AWSSubnet()], min_length=1,
                                     max_length=AWS_PROD_SUBNETS)
    bastion: bool = True
    load_balancer_scheme_internal: bool | None = None  # the variable catalog (issue 15, helper B)
    security_group_overrides: SecurityGroupOverrides | None = None

    def tanzu_subnets(self, plan: str) -> list[AWSSubnet]:
        """The subnets tanzu builds: the given ones, and for a prod cluster in a new VPC always
        three (subnets 1 and 2 take the default CIDRs and the zone <region>b / c when their
        variables are unset: config_variable_association.star:610-670). An existing VPC gets no
        such defaults: tanzu asks for every private subnet ID (validate.go:1028-1039)."""
        given = list(self.subnets)
        if plan == "prod" and not self.vpc.existing_id:
            given += [AWSSubnet() for _ in range(len(given), AWS_PROD_SUBNETS)]
        return given

    def subnet_cidr(self, index: int, side: str) -> str | None:
        """The subnet's CIDR: in a new VPC the TKG default for its index when neither CIDR nor
        id is set; in an existing VPC only the one given (tanzu blanks the node CIDRs there,
        tkg/client/validate.go:1002-1009)."""
        ref: AWSRef = getattr(self.subnets[index], side) if index < len(self.subnets) else AWSRef()
        if ref.cidr or ref.id or self.vpc.existing_id:
            return ref.cidr
        return (AWS_DEFAULT_PRIVATE if side == "private" else AWS_DEFAULT_PUBLIC)[index]

    @property
    def vpc_cidr(self) -> str | None:
        if self.vpc.existing_id and not self.vpc.cidr:
            return None
        return self.vpc.cidr or AWS_DEFAULT_VPC


# tanzu's AZURE_CONTROL_PLANE_SUBNET_CIDR / AZURE_NODE_SUBNET_CIDR defaults
# (providers/config_default.yaml:398, 401): a subnet given neither a CIDR nor a name is new, with
# that CIDR, and tanzu writes the CIDR beside an existing subnet's name too.
AZURE_DEFAULT_SUBNETS = {"controlPlane": "10.0.0.0/24", "worker": "10.0.1.0/24"}


class AzureSubnet(Model):
    """A new subnet (``cidr``, optionally named; neither: tanzu's default CIDR) or an existing
    one (``name`` only)."""

    name: str | None = None
    cidr: CIDR | None = None
    security_group: str | None = None

    @property
    def existing(self) -> bool:
        return self.cidr is None and self.name is not None


class AzureVNet(Model):
    name: str | None = None
    cidr_blocks: list[CIDR] = Field(default_factory=lambda: ["10.0.0.0/16"], min_length=1)
    resource_group: str | None = None


class AzureIdentityRef(Model):
    name: str
    namespace: str = "default"


class Azure(Model):
    location: str
    subscription_id: str = Field(alias="subscriptionID")
    resource_group: str | None = None
    ssh_public_key: str = Field(description="the SSH public key, base64-encoded (AZURE_SSH_PUBLIC_KEY_B64)")
    identity_ref: AzureIdentityRef | None = None
    environment: str = "AzurePublicCloud"
    vnet: AzureVNet = Field(default_factory=AzureVNet)
    control_plane_subnet: AzureSubnet = Field(
        default_factory=lambda: AzureSubnet(cidr=AZURE_DEFAULT_SUBNETS["controlPlane"]))
    worker_subnet: AzureSubnet = Field(
        default_factory=lambda: AzureSubnet(cidr=AZURE_DEFAULT_SUBNETS["worker"]))
    # the variable catalog (issue 15, helper B); None is tanzu's default
    private_cluster: bool | None = None
    frontend_private_ip: IP | None = Field(default=None, alias="frontendPrivateIP")
    custom_tags: AzureTags | None = None
    accelerated_networking: bool | None = None
    control_plane_nodes: AzureNodes | None = None  # disks and outbound LB of the control plane
    worker_nodes: AzureNodes | None = None
