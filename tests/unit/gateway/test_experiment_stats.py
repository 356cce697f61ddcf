"""Champion/challenger statistics against independent formulas and worked numbers."""

from __future__ import annotations

import math

import pytest

from almacen.gateway.services.blueprint import Arm, Rule
from almacen.gateway.services.engine import arm_for_bucket, assign_bucket
from almacen.gateway.services.experiments import two_proportion_test, wilson_interval

Z = 1.959963984540054


@pytest.mark.parametrize(("x", "n"), [(81, 263), (0, 10), (10, 10), (5, 20), (1, 1)])
def test_wilson_bounds_solve_the_score_equation(x: int, n: int) -> None:
    """Independently: the bounds are the roots p of (x/n - p)^2 = z^2 p (1 - p) / n."""
    low, high = wilson_interval(x, n)
    p_hat = x / n
    a = 1 + Z * Z / n
    b = -(2 * p_hat + Z * Z / n)
    c = p_hat * p_hat
    disc = math.sqrt(b * b - 4 * a * c)
    assert low == pytest.approx((-b - disc) / (2 * a), abs=1e-12)
    assert high == pytest.approx((-b + disc) / (2 * a), abs=1e-12)


def test_wilson_worked_example() -> None:
    # 81 successes in 263 trials: Wilson 95 % interval 0.2553 to 0.3662 (worked by hand).
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_two_proportion_worked_example() -> None:
    # 50/100 against 65/100: pooled p = 0.575, SE = sqrt(.575 * .425 * .02) = 0.069911,
    # z = 0.15 / 0.069911 = 2.1456, two-sided p = 0.0319.
    z, p_value = two_proportion_test(50, 100, 65, 100)
    assert z == pytest.approx(2.1456, abs=1e-4)
    assert p_value == pytest.approx(0.0319, abs=1e-4)


def test_z_squared_is_the_chi_square_of_the_two_by_two_table() -> None:
    x1, n1, x2, n2 = 30, 200, 48, 210
    z, _ = two_proportion_test(x1, n1, x2, n2)
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    total = n1 + n2
    columns = [x1 + x2, total - x1 - x2]
    chi2 = sum(
        (table[i][j] - (n1, n2)[i] * columns[j] / total) ** 2 / ((n1, n2)[i] * columns[j] / total)
        for i in range(2)
        for j in range(2)
    )
    assert z is not None and z * z == pytest.approx(chi2)


def test_no_test_without_variance_or_subjects() -> None:
    assert two_proportion_test(0, 0, 1, 2) == (None, None)
    assert two_proportion_test(5, 5, 7, 7) == (None, None)


def test_assignment_is_deterministic_and_follows_weights() -> None:
    step: tuple = ()
    rule = Rule("r", "x.y", None, (), None, (Arm("a", 80, step), Arm("b", 20, step)))
    buckets = [assign_bucket("svc", "r", "account", str(i)) for i in range(2000)]
    assert buckets == [assign_bucket("svc", "r", "account", str(i)) for i in range(2000)]
    arms = [arm_for_bucket(rule, bucket) for bucket in buckets]
    share = arms.count("a") / len(arms)
    assert 0.75 < share < 0.85
