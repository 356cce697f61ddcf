"""Optimal binning of one characteristic, and its bin table: counts, event rate, WoE and IV.

The cut points (numeric) or category groups (categorical) come from optbinning's
``OptimalBinning`` (a mixed-integer programme, solved with OR-Tools' CP-SAT, maximising
information value under monotonicity and minimum-bin-size constraints: the method of
Navas-Palencia, 2020). The bin table is then counted here, from those bins, so that one
convention holds everywhere (``DOMAIN.md``): WoE = ln(%non-events / %events) and
IV = Σ (%non-events − %events)·WoE. With a target whose event is a default, a bin of good
payers has a positive WoE.

Numeric bins are intervals ``[lower, upper)`` (None is unbounded), the first from −∞ and the
last to +∞, so that every number falls in one; a missing value falls in the missing bin.
A category outside every group (not seen in training) counts as missing.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Bin", "Binned", "apply_woe", "assign", "bin_table", "fit_characteristic", "woe_iv"]

#: Added to both counts of a bin without events or without non-events, so its WoE is finite.
SMOOTHING = 0.5


@dataclasses.dataclass(frozen=True)
class Bin:
    """One bin and what the training data put in it."""

    lower: float | None = None
    upper: float | None = None
    categories: tuple[str, ...] | None = None
    count: int = 0
    events: int = 0
    woe: float = 0.0
    iv: float = 0.0

    @property
    def label(self) -> str:
        """``[lower, upper)`` or the categories (the missing bin is labelled by its table)."""
        if self.categories is not None:
            return ", ".join(self.categories)
        low = "-inf" if self.lower is None else f"{self.lower:g}"
        high = "inf" if self.upper is None else f"{self.upper:g}"
        return f"[{low}, {high})"

    def as_json(self, total: int, *, label: str | None = None) -> dict[str, Any]:
        """The bin's row of the report's bin table."""
        return {
            "bin": label or self.label,
            "lower": self.lower,
            "upper": self.upper,
            "categories": list(self.categories) if self.categories is not None else None,
            "count": self.count,
            "share": round(self.count / total, 6) if total else 0.0,
            "events": self.events,
            "non_events": self.count - self.events,
            "event_rate": round(self.events / self.count, 6) if self.count else None,
            "woe": round(self.woe, 6),
            "iv": round(self.iv, 6),
        }


@dataclasses.dataclass(frozen=True)
class Binned:
    """A characteristic binned: its bins (in order) and the missing bin after them."""

    name: str
    kind: str
    bins: tuple[Bin, ...]
    missing: Bin
    #: Numeric: the cut points (``bins[i]`` is ``[splits[i-1], splits[i])``).
    splits: tuple[float, ...] = ()

    @property
    def iv(self) -> float:
        """The characteristic's information value (the missing bin included)."""
        return sum(b.iv for b in self.bins) + self.missing.iv

    def table(self) -> list[dict[str, Any]]:
        """The bin table: every bin, then the missing bin."""
        total = sum(b.count for b in self.bins) + self.missing.count
        return [b.as_json(total) for b in self.bins] + [
            self.missing.as_json(total, label="missing")
        ]


def woe_iv(events: Sequence[int], non_events: Sequence[int]) -> tuple[list[float], list[float]]:
    """WoE and IV contribution of each bin from its event and non-event counts.

    WoE_i = ln((n_i / N) / (e_i / E)) and IV_i = (n_i / N − e_i / E)·WoE_i. A bin with no
    records has WoE 0 (it says nothing); a bin with records of one kind only has
    :data:`SMOOTHING` added to both of its counts.
    """
    total_events, total_non = sum(events), sum(non_events)
    woes: list[float] = []
    ivs: list[float] = []
    for e, n in zip(events, non_events, strict=True):
        if e + n == 0 or total_events == 0 or total_non == 0:
            woes.append(0.0)
            ivs.append(0.0)
            continue
        fe, fn = (e, n) if e and n else (e + SMOOTHING, n + SMOOTHING)
        share_e, share_n = fe / total_events, fn / total_non
        woe = math.log(share_n / share_e)
        woes.append(woe)
        ivs.append((share_n - share_e) * woe)
    return woes, ivs


def assign(binned: Binned, values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """The bin of each value: an index into ``binned.bins``, ``len(bins)`` for the missing bin."""
    missing = len(binned.bins)
    if binned.kind == "numeric":
        numbers = np.asarray(values, dtype=np.float64)
        index = np.searchsorted(np.asarray(binned.splits, dtype=np.float64), numbers, side="right")
        return np.where(np.isnan(numbers), missing, index).astype(np.intp)
    lookup = {c: i for i, b in enumerate(binned.bins) for c in b.categories or ()}
    return np.fromiter(
        (lookup.get(v, missing) if v is not None else missing for v in values),
        dtype=np.intp,
        count=len(values),
    )


def bin_table(
    name: str,
    kind: str,
    index: npt.NDArray[np.intp],
    target: npt.NDArray[np.int8],
    groups: Sequence[tuple[float | None, float | None, tuple[str, ...] | None]],
    splits: tuple[float, ...] = (),
) -> Binned:
    """Count the bins ``index`` assigns (``len(groups)`` is the missing bin) into a Binned."""
    size = len(groups) + 1
    counts = np.bincount(index, minlength=size)
    events = np.bincount(index, weights=target, minlength=size).astype(np.int64)
    non_events = counts - events
    woes, ivs = woe_iv(events.tolist(), non_events.tolist())
    bins = [
        Bin(lower, upper, cats, int(counts[i]), int(events[i]), woes[i], ivs[i])
        for i, (lower, upper, cats) in enumerate(groups)
    ]
    missing = Bin(None, None, None, int(counts[-1]), int(events[-1]), woes[-1], ivs[-1])
    return Binned(name=name, kind=kind, bins=tuple(bins), missing=missing, splits=splits)


def _optimal(name: str, kind: str, values: npt.NDArray[Any], target: npt.NDArray[np.int8]) -> Any:
    from optbinning import OptimalBinning

    binning = OptimalBinning(
        name=name,
        dtype="numerical" if kind == "numeric" else "categorical",
        solver="cp",
        # numeric: ascending, descending, peaked or valley, whichever fits best; the
        # categorical bins are ordered by event rate, so monotonic by construction.
        monotonic_trend="auto" if kind == "numeric" else None,
    )
    with warnings.catch_warnings():
        # optbinning and scikit-learn warn about things like constant columns; the bin
        # table says the same (one bin, no information).
        warnings.simplefilter("ignore")
        binning.fit(values, target)
    return binning


def fit_characteristic(
    name: str, kind: str, values: npt.NDArray[Any], target: npt.NDArray[np.int8]
) -> Binned:
    """Bin one characteristic optimally against the target and count its bin table.

    :param kind: ``numeric`` (floats, NaN missing) or ``categorical`` (strings, None missing).
    """
    present = (
        ~np.isnan(values.astype(np.float64))
        if kind == "numeric"
        else np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    )
    groups: list[tuple[float | None, float | None, tuple[str, ...] | None]]
    splits: tuple[float, ...] = ()
    if kind == "numeric":
        found = (
            _optimal(name, kind, values[present], target[present]).splits
            if present.sum() > 1
            else []
        )
        splits = tuple(float(s) for s in found)
        edges: list[float | None] = [None, *splits, None]
        groups = [(edges[i], edges[i + 1], None) for i in range(len(splits) + 1)]
    else:
        seen = values[present]
        groups = []
        if len(seen):
            found = _optimal(name, kind, seen.astype(str), target[present]).splits
            groups = [(None, None, tuple(sorted(str(c) for c in group))) for group in found]
            grouped = {c for _, _, cats in groups for c in cats or ()}
            # optbinning leaves out no category here (no cat_cutoff); should a version do, the
            # remainder is a group of its own rather than silently a missing value.
            rest = sorted(set(seen.tolist()) - grouped)
            if rest:
                groups.append((None, None, tuple(rest)))
    draft = Binned(
        name=name,
        kind=kind,
        bins=tuple(Bin(lo, hi, cats) for lo, hi, cats in groups),
        missing=Bin(),
        splits=splits,
    )
    return bin_table(name, kind, assign(draft, values), target, groups, splits)


def apply_woe(binned: Binned, values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Each value's WoE (its bin's; the missing bin's for a missing or unknown value)."""
    woe = np.asarray([b.woe for b in binned.bins] + [binned.missing.woe], dtype=np.float64)
    return woe[assign(binned, values)]
