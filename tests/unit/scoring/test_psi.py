"""The stability index against hand-computed examples (the acceptance oracle)."""

from __future__ import annotations

import math

import pytest

from almacen.modules.scoring import psi


def test_psi_matches_the_hand_computed_example() -> None:
    # Four score bins; the training population was spread evenly, the recent one is not.
    #   expected e = 0.25 0.25 0.25 0.25 ; actual a = 0.10 0.20 0.30 0.40
    #   (0.10 - 0.25)·ln(0.10/0.25) = -0.15 · ln 0.4 = -0.15 · -0.916291 = 0.137444
    #   (0.20 - 0.25)·ln(0.20/0.25) = -0.05 · ln 0.8 = -0.05 · -0.223144 = 0.011157
    #   (0.30 - 0.25)·ln(0.30/0.25) =  0.05 · ln 1.2 =  0.05 ·  0.182322 = 0.009116
    #   (0.40 - 0.25)·ln(0.40/0.25) =  0.15 · ln 1.6 =  0.15 ·  0.470004 = 0.070501
    #   PSI = 0.1374436 + 0.0111572 + 0.0091161 + 0.0705005 = 0.2282174 → 0.228217 at six
    #   places (the rounded terms above add to 0.228218): "watch", below 0.25
    expected = [0.25, 0.25, 0.25, 0.25]
    actual = psi.shares([10, 20, 30, 40])
    terms = psi.contributions(expected, actual)
    assert [round(t, 6) for t in terms] == [0.137444, 0.011157, 0.009116, 0.070501]
    assert psi.stability(expected, actual) == pytest.approx(0.228217, abs=1e-6)


def test_identical_distributions_are_perfectly_stable() -> None:
    assert psi.stability([0.1, 0.6, 0.3], [0.1, 0.6, 0.3]) == 0.0


def test_an_empty_bin_counts_as_epsilon() -> None:
    # e = 0.5 0.5 0 ; a = 0.5 0.25 0.25. The empty expected bin counts as 0.0001:
    #   0 + (0.25 - 0.5)·ln(0.5) + (0.25 - 0.0001)·ln(0.25 / 0.0001)
    #   = 0.173287 + 0.2499 · 7.824046 = 0.173287 + 1.955229 = 2.128516
    assert psi.EPSILON == 0.0001
    assert psi.stability([0.5, 0.5, 0.0], [0.5, 0.25, 0.25]) == pytest.approx(2.128516, abs=1e-6)
    # a bin empty on both sides adds nothing
    assert psi.stability([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0


def test_every_term_is_non_negative() -> None:
    for expected, actual in [([0.9, 0.1], [0.1, 0.9]), ([0.3, 0.7], [0.31, 0.69])]:
        assert all(t >= 0 for t in psi.contributions(expected, actual))


def test_bins_are_half_open_and_deciles_split_evenly() -> None:
    assert psi.bin_counts([499, 500, 599.5, 600, 700, 1000], [500, 600, 700]) == [1, 2, 1, 2]
    edges = psi.quantile_edges(list(range(100)))
    assert edges == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert psi.bin_counts(list(range(100)), edges) == [10] * 10
    assert psi.quantile_edges([5, 5, 5, 5]) == []  # one bin when every score is equal
    assert psi.shares([0, 0]) == [0.0, 0.0]


def test_distributions_must_have_the_same_bins() -> None:
    with pytest.raises(ValueError, match="3 expected bins but 2"):
        psi.contributions([0.2, 0.3, 0.5], [0.5, 0.5])
    assert math.isclose(sum(psi.shares([1, 3])), 1.0)
