"""Small statistics helpers shared by the scenarios."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of an already sorted sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def thin(ordered: Sequence[float], limit: int) -> list[float]:
    """At most `limit` evenly spaced samples of a sorted sequence."""
    if len(ordered) <= limit:
        return list(ordered)
    step = len(ordered) / limit
    return [ordered[int(i * step)] for i in range(limit)]
