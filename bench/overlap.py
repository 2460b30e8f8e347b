"""Benchmark: the fleet-wide overlap check over many node pools (issue target: 10,000 pools,
mixed IPv4 / IPv6 with /64s, well under a second).

    .venv/bin/python bench/overlap.py [--pools 10000] [--overlaps 20] [--repeat 5]

Pools are spread over 20 management clusters; ``--overlaps`` of them deliberately collide, so the
sweep also has pairs to report. Prints the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import time

from generator.net.addresses import AddressSet, parse_entry
from generator.check.pools import Placed, collisions
from generator.problems import Location


def make_pools(count: int, overlaps: int, seed: int = 1) -> list[Placed]:
    rng = random.Random(seed)
    pools = []
    for index in range(count):
        if index % 2:  # an IPv6 /64 (2**64 addresses, one range)
            entries = [f"{ipaddress.IPv6Address((0xFD00 << 112) | (index << 64))}/64"]
        else:  # an IPv4 range plus two single addresses in a /24 of its own
            base = int(ipaddress.IPv4Address("10.0.0.0")) + (index << 8)
            start = ipaddress.IPv4Address(base + 10)
            entries = [f"{start}-{start + 100}", str(start + 120), str(start + 122)]
        pools.append(Placed("pool", f"pool-{index}", Location(f"p{index}.yaml", 1, 1),
                            AddressSet.of(parse_entry(e) for e in entries),
                            frozenset({f"mgmt:m{index % 20}"})))
    for _ in range(overlaps):  # a copy of a random pool on the same management cluster
        victim = pools[rng.randrange(count)]
        pools.append(Placed("pool", f"dup-of-{victim.what}", Location("dup.yaml", 1, 1),
                            victim.addresses, victim.scopes))
    return pools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--overlaps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pools = make_pools(args.pools, args.overlaps)
    best, found = float("inf"), 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        found = sum(1 for _ in collisions(pools))
        best = min(best, time.perf_counter() - start)
    ranges = sum(len(p.addresses.ranges) for p in pools)
    print(f"{len(pools)} pools ({ranges} ranges), {found} overlapping pairs: "
          f"best of {args.repeat} = {best * 1000:.1f} ms")


if __name__ == "__main__":
    main()
