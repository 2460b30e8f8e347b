"""The infrastructure sections of a cluster inventory: ``vsphere:``, ``aws:`` and ``azure:``.

Split from ``model`` (which re-exports every name) so each stays small; the same strict style.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.load.grammar import SelectorValue
from generator.load.model_base import CIDR, Model

AWS_DEFAULT_PRIVATE = ("10.0.0.0/24", "10.0.2.0/24", "10.0.4.0/24")
AWS_DEFAULT_PUBLIC = ("10.0.1.0/24", "10.0.3.0/24", "10.0.5.0/24")

# --- infrastructure --------------------------------------------------------------------------

class VSphere(Model):
    server: str
    datacenter: str
    datastore: str
    folder: str
    resource_pool: str
    network: str = "VM Network"
    template: str = ""
    storage_policy_id: str = Field(default="", alias="storagePolicyID")
    tls_thumbprint: str = ""
    clone_mode: Literal["fullClone", "linkedClone"] = "fullClone"


class AWSRef(Model):
    cidr: CIDR | None = None
    id: str | None = None


class AWSSubnet(Model):
    az: str
    private: AWSRef = Field(default_factory=AWSRef)
    public: AWSRef = Field(default_factory=AWSRef)


class AWSVPC(Model):
    cidr: CIDR | None = None
    existing_id: str | None = Field(default=None, alias="existingID")


class IdentityRef(Model):
    kind: str
    name: str


class AWS(Model):
    region: SelectorValue
    ssh_key_name: str
    identity_ref: IdentityRef = Field(
        default_factory=lambda: IdentityRef(kind="AWSClusterControllerIdentity", name="default"))
    vpc: AWSVPC = Field(default_factory=AWSVPC)
    subnets: list[AWSSubnet] = Field(min_length=1, max_length=3)
    bastion: bool = True

    def subnet_cidr(self, index: int, side: str) -> str | None:
        """The subnet's CIDR, the TKG default for its index when neither CIDR nor id is set."""
        ref: AWSRef = getattr(self.subnets[index], side)
        if ref.cidr or ref.id:
            return ref.cidr
        return (AWS_DEFAULT_PRIVATE if side == "private" else AWS_DEFAULT_PUBLIC)[index]

    @property
    def vpc_cidr(self) -> str | None:
        if self.vpc.existing_id and not self.vpc.cidr:
            return None
        return self.vpc.cidr or "10.0.0.0/16"


class AzureSubnet(Model):
    """A new subnet (``cidr``, optionally named) or an existing one (``name`` only)."""

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
    control_plane_subnet: AzureSubnet = Field(default_factory=lambda: AzureSubnet(cidr="10.0.0.0/24"))
    worker_subnet: AzureSubnet = Field(default_factory=lambda: AzureSubnet(cidr="10.0.1.0/24"))
