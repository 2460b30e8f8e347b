"""fleetgen: render declarative TKG / Cluster API cluster inventories into GitOps manifests."""

__version__ = "0.1.0"
