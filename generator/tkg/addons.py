"""Importing the add-on settings of a flat config: every ``ANTREA_*`` variable tanzu reads into
its AntreaConfig (tanzu-framework-release-0.29 providers/config_default.yaml:717-763,
providers/yttcb/clusterbootstrap.yaml:161-235) into ``antrea:``, and VSPHERE_REGION / VSPHERE_ZONE
(config_default.yaml:151-152, clusterbootstrap.yaml:272-277, 328-329) into ``vsphere.region`` /
``vsphere.zone``, and KUBEVIP_LOADBALANCER_* into ``vsphere.kubeVipLoadBalancer``.

Values are normalised as tanzu reads them (``"true"`` is true, a list is comma-separated); the
model then checks them, and every problem points at the flat line. The written file keeps only the
values off tanzu's default (``minimise``), since the AntreaConfig exists only for those.
"""

from __future__ import annotations

from generator.load.addons import (
    ANTREA,
    KUBEVIP_ENABLE,
    KUBEVIP_LISTS,
    VSPHERE_ADDON_VARIABLES,
)
from generator.tkg.job import Job

ADDON_VARIABLES = (*ANTREA, *VSPHERE_ADDON_VARIABLES, KUBEVIP_ENABLE, *KUBEVIP_LISTS)


def import_addons(job: Job, infra: str | None) -> None:
    """Put every given add-on variable into the inventory being built."""
    _unreport(job, [variable for variable in ADDON_VARIABLES if job.given(variable)])
    for variable, (key, kind) in ANTREA.items():
        if job.given(variable):
            value = job.value(variable, kind)
            if value is not None:
                job.put(("antrea", key), value, variable)
    for variable, key in VSPHERE_ADDON_VARIABLES.items():
        if not job.given(variable):
            continue
        if infra == "vsphere":
            job.put(("vsphere", key), job.value(variable, "text"), variable)
        else:
            job.report(variable, "not-imported", "it applies to vSphere clusters only")
    _kubevip(job, infra)


def _unreport(job: Job, handled: list[str]) -> None:
    """Drop what the generic pass (importer._classify) said of the variables handled here: that
    fleetgen does not model them, as it says of every variable outside its table."""
    where = {job.flat.key_at(variable) for variable in handled}
    job.problems = [p for p in job.problems
                    if not (p.code in ("unknown-variable", "not-imported") and p.location in where
                            and p.severity == "warning")]


def _kubevip(job: Job, infra: str | None) -> None:
    """KUBEVIP_LOADBALANCER_ENABLE / _CIDRS / _IP_RANGES (config_default.yaml:767-769) into
    ``vsphere.kubeVipLoadBalancer``, whose presence is ENABLE; the lists mean nothing without it
    (clusterbootstrap.yaml:122-124, config_variable_association.star:998-999)."""
    given = [v for v in (KUBEVIP_ENABLE, *KUBEVIP_LISTS) if job.given(v)]
    if not given:
        return
    if infra != "vsphere":
        for variable in given:
            job.report(variable, "not-imported", "it applies to vSphere clusters only")
        return
    enabled = job.value(KUBEVIP_ENABLE, "bool") if job.given(KUBEVIP_ENABLE) else False
    if not enabled:
        for variable in given:
            if variable != KUBEVIP_ENABLE:
                job.report(variable, "not-imported", "KUBEVIP_LOADBALANCER_ENABLE is not true")
        if enabled is False and KUBEVIP_ENABLE in given:
            job.used.add(KUBEVIP_ENABLE)  # false is tanzu's default: nothing to keep
        return
    lists = {key: job.value(variable, "list") for variable, key in KUBEVIP_LISTS.items()
             if job.given(variable)}
    path = ("vsphere", "kubeVipLoadBalancer")
    if not lists:
        job.put(path, {}, KUBEVIP_ENABLE)
    for variable, key in KUBEVIP_LISTS.items():
        if key in lists:
            job.put((*path, key), lists[key], variable)
    job.note(path, {}, KUBEVIP_ENABLE)

