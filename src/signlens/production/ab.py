"""A/B testing: sticky weighted assignment, and the statistics to read the result honestly.

Assignment hashes the client id (never random per request), so one user always sees the same
variant while the weights stay the same. The comparison is a two-sided two-proportion z-test on
feedback accuracy, with Wilson score intervals per variant.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from signlens.errors import SignlensError


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float


def parse_weights(spec: str) -> list[Variant]:
    """'champion=90,challenger=10' -> variants; weights need not sum to 100."""
    variants = []
    for part in spec.split(","):
        name, sep, weight = part.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not sep or not name.strip() or value < 0:
            raise SignlensError(f"traffic weights must look like 'champion=90,challenger=10', got {spec!r}")
        variants.append(Variant(name.strip(), value))
    if sum(v.weight for v in variants) <= 0:
        raise SignlensError("traffic weights must not all be zero")
    return variants


def bucket(client_id: str, salt: str = "signlens-ab") -> float:
    """A stable, uniform number in [0, 1) for a client id."""
    digest = hashlib.sha256(f"{salt}:{client_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(client_id: str, variants: list[Variant], salt: str = "signlens-ab") -> str:
    total = sum(v.weight for v in variants)
    point = bucket(client_id, salt) * total
    cumulative = 0.0
    for v in variants:
        cumulative += v.weight
        if point < cumulative:
            return v.name
    return next(v.name for v in reversed(variants) if v.weight > 0)


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval: well-behaved for small n and accuracies near 0 or 1."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_z_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Two-sided z-test of p1 == p2 with the pooled proportion; returns (z, p-value)."""
    if n1 == 0 or n2 == 0:
        return (0.0, 1.0)
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return (0.0, 1.0)
    z = (k1 / n1 - k2 / n2) / se
    return (z, math.erfc(abs(z) / math.sqrt(2)))
