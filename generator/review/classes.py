"""The risk classes of ``fleetgen diff``: stable names for ``--fail-on`` (kept apart from
``risks`` so the command line can list them without importing the diff machinery)."""

RISK_CLASSES = ("ip-removed-in-use", "ip-overlap", "pool-capacity", "immutable-field",
                "dhcp-to-ipam", "endpoint-change", "rollout", "cluster-removed")
