"""Node sizes: tanzu's SIZE / CONTROLPLANE_SIZE / WORKER_SIZE and the vSphere base machine
(VSPHERE_NUM_CPUS …) as the inventory's ``machine.size`` and top-level ``machine``.

A machine is resolved in layers, each one winning over the ones before it:

1. the ClusterClass default (``DEFAULT_MACHINE``);
2. the cluster-wide ``machine`` (tanzu's SIZE and VSPHERE_NUM_CPUS / _MEM_MIB / _DISK_GIB):
   its ``size`` first, then its explicit fields;
3. the role's own ``machine`` (``controlPlane.machine``, ``workers[].machine``): its ``size``
   first, then its explicit fields.

On vSphere a size names a row of tanzu's node type table; on AWS it is an instance type, on Azure
a vmSize (tanzu-framework-release-0.29 tkg/client/validate.go:1209-1221 sets
CONTROL_PLANE_MACHINE_TYPE / NODE_MACHINE_TYPE from the size, validate.go:1161-1205 the Azure
machine types).
"""

from __future__ import annotations

from typing import Any

from generator.load.model import DEFAULT_MACHINE, Machine

# tanzu's vSphere node types. The table is not in ../shared/reference: it is
# tanzu-framework pkg/v1/tkg/tkgconfigproviders/vsphere.go:31-34 (NodeTypes, used by
# tanzu-framework-release-0.29 tkg/client/validate.go:1285 OverrideVsphereNodeSizeWithOptions), and
# the same values the TKG installer offers ("small (cpu: 2, ram: 4 GB, disk: 20 GB)" …).
VSPHERE_SIZES: dict[str, dict[str, int]] = {
    "small": {"numCPUs": 2, "memoryMiB": 4096, "diskGiB": 20},
    "medium": {"numCPUs": 2, "memoryMiB": 8192, "diskGiB": 40},
    "large": {"numCPUs": 4, "memoryMiB": 16384, "diskGiB": 40},
    "extra-large": {"numCPUs": 8, "memoryMiB": 32768, "diskGiB": 80},
}
# The vSphere minimum node size is the "small" row (validate.go:1101 ValidateVsphereNodeSize).
VSPHERE_MINIMUM = VSPHERE_SIZES["small"]
# On AWS and Azure a size is the machine type itself (validate.go:1161-1221).
SIZE_FIELD = {"aws": "instanceType", "azure": "vmSize"}


def size_fields(infra: str, size: str | None) -> dict[str, Any]:
    """The machine fields a size stands for ({} for no size or an unknown vSphere size, which
    the ``unknown-size`` rule reports)."""
    if size is None:
        return {}
    if infra == "vsphere":
        return dict(VSPHERE_SIZES.get(size, {}))
    return {SIZE_FIELD[infra]: size}


def expand(infra: str, machine: Machine | None) -> dict[str, Any]:
    """One machine layer: its size expanded, then its explicit fields (which win)."""
    if machine is None:
        return {}
    given = machine.model_dump(by_alias=True, exclude_none=True)
    size = given.pop("size", None)
    return {**size_fields(infra, size), **given}


def resolve(infra: str, role: str, common: Machine | None, own: Machine | None) -> dict[str, Any]:
    """The effective machine of a role ("controlPlane" or "worker"): class default, then the
    cluster-wide ``machine``, then the role's own."""
    return {**DEFAULT_MACHINE[infra][role], **expand(infra, common), **expand(infra, own)}
