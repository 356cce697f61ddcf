"""Population and characteristic stability indices: pure arithmetic, no database.

PSI compares the share of a population in each bin now (``a``, the *actual* shares) with the
share when the model was built (``e``, the *expected* shares)::

    PSI = Σ (a_i − e_i) · ln(a_i / e_i)

Each term is ≥ 0 (both factors have the same sign), so PSI is ≥ 0 and 0 only when nothing
moved. Common reading: < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted. CSI is the same sum over
one characteristic's bins.

**Empty bins.** ``ln(a/e)`` is undefined when a share is 0, so a zero share is replaced by
:data:`EPSILON` (0.0001, i.e. 0.01 %) before the sum; shares are not renormalised after the
replacement (the effect is below 0.0001 per empty bin). A bin empty on both sides contributes
exactly 0.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

__all__ = ["EPSILON", "bin_counts", "contributions", "quantile_edges", "shares", "stability"]

#: The share an empty bin is counted as, so that ln(a/e) is defined.
EPSILON = 0.0001


def shares(counts: Sequence[float]) -> list[float]:
    """Counts (or weights) as shares of their total; all zeros when the total is 0."""
    total = float(sum(counts))
    if total <= 0:
        return [0.0 for _ in counts]
    return [float(count) / total for count in counts]


def contributions(expected: Sequence[float], actual: Sequence[float]) -> list[float]:
    """Each bin's term ``(a − e)·ln(a/e)``, zero shares counted as :data:`EPSILON`.

    :raises ValueError: the two distributions have a different number of bins.
    """
    if len(expected) != len(actual):
        raise ValueError(f"{len(expected)} expected bins but {len(actual)} actual bins")
    terms = []
    for e, a in zip(expected, actual, strict=True):
        if e <= 0 and a <= 0:
            terms.append(0.0)
            continue
        e, a = max(e, EPSILON), max(a, EPSILON)
        terms.append((a - e) * math.log(a / e))
    return terms


def stability(expected: Sequence[float], actual: Sequence[float]) -> float:
    """PSI (or CSI) of two distributions given as shares per bin, in the same bin order."""
    return math.fsum(contributions(expected, actual))


def bin_counts(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    """How many values fall in each bin ``(-inf, e1), [e1, e2), …, [ek, inf)``.

    ``edges`` are sorted ascending; there are ``len(edges) + 1`` bins.
    """
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect.bisect_right(edges, value)] += 1
    return counts


def quantile_edges(values: Sequence[float], bins: int = 10) -> list[float]:
    """Inner edges splitting ``values`` into about ``bins`` equally populated bins (deciles).

    Repeated edges (many equal scores) are merged, so there may be fewer bins.
    """
    ordered = sorted(values)
    if not ordered:
        return []
    edges: list[float] = []
    for i in range(1, bins):
        edge = ordered[min(len(ordered) - 1, (i * len(ordered)) // bins)]
        if edge > ordered[0] and (not edges or edge > edges[-1]):
            edges.append(edge)
    return edges
