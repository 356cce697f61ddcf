"""Champion/challenger reports: per arm, how many subjects reached each declared outcome.

Outcomes come from the blueprint (``outcomes``), never from knowledge of a module: an outcome
is an event type, counted once per subject that has at least one such event after it was
assigned to its arm, and optionally summed over a payload path (``amount.amount``).

Rates carry a Wilson score interval (95 %); each challenger is compared with the champion (the
first arm) by a two-sided, pooled two-proportion z-test.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from statistics import NormalDist
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..events import Event
from .blueprint import Blueprint, Outcome, Rule
from .models import ExperimentAssignment

__all__ = ["ALPHA", "experiment_report", "two_proportion_test", "wilson_interval"]

ALPHA = 0.05
_Z = NormalDist().inv_cdf(1 - ALPHA / 2)  # 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = _Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 0) when there are no trials."""
    if trials == 0:
        return 0.0, 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float | None]:
    """Pooled two-proportion z-test of x2/n2 against x1/n1: (z, two-sided p-value).

    (None, None) when a side has no subjects or the pooled rate is 0 or 1 (no variance).
    """
    if n1 == 0 or n2 == 0:
        return None, None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None, None
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    p_value = 2 * (1 - NormalDist().cdf(abs(z)))
    return z, p_value


def _dig(payload: Any, path: str) -> Decimal | None:
    value = payload
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _measure(
    session: Session, service: str, rule: str, outcome: Outcome
) -> tuple[dict[str, set[tuple[str, str]]], dict[str, Decimal]]:
    """Per arm: subjects with the outcome's event after assignment, and the sum."""
    rows = session.execute(
        select(ExperimentAssignment.arm, Event.subject_type, Event.subject_id, Event.payload)
        .join(
            Event,
            (Event.tenant_id == ExperimentAssignment.tenant_id)
            & (Event.subject_type == ExperimentAssignment.subject_type)
            & (Event.subject_id == ExperimentAssignment.subject_id)
            & (Event.occurred_at >= ExperimentAssignment.assigned_at),
        )
        .where(
            ExperimentAssignment.service == service,
            ExperimentAssignment.experiment == rule,
            Event.type == outcome.event,
        )
    )
    subjects: dict[str, set[tuple[str, str]]] = defaultdict(set)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for arm, subject_type, subject_id, payload in rows:
        subjects[arm].add((subject_type, subject_id))
        if outcome.sum:
            amount = _dig(payload, outcome.sum)
            if amount is not None:
                sums[arm] += amount
    return subjects, sums


def _rule_report(
    session: Session, service: str, rule: Rule, outcomes: tuple[Outcome, ...]
) -> dict[str, Any]:
    assert rule.arms
    counts: dict[str, int] = defaultdict(int)
    for arm_name, assigned in session.execute(
        select(ExperimentAssignment.arm, func.count(ExperimentAssignment.id))
        .where(
            ExperimentAssignment.service == service, ExperimentAssignment.experiment == rule.name
        )
        .group_by(ExperimentAssignment.arm)
    ):
        counts[arm_name] = int(assigned)
    names = [arm.name for arm in rule.arms] + sorted(set(counts) - {a.name for a in rule.arms})
    weights = {arm.name: arm.weight for arm in rule.arms}
    arms: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "weight": weights.get(name, 0),
            "champion": name == rule.champion,
            "subjects": counts.get(name, 0),
            "outcomes": {},
        }
        for name in names
    }
    comparisons = []
    for outcome in outcomes:
        reached, sums = _measure(session, service, rule.name, outcome)
        for name, arm in arms.items():
            n, x = arm["subjects"], len(reached.get(name, ()))
            low, high = wilson_interval(x, n)
            measured: dict[str, Any] = {
                "subjects": x,
                "rate": x / n if n else 0.0,
                "ci_low": low,
                "ci_high": high,
            }
            if outcome.sum:
                total = sums.get(name, Decimal(0))
                measured["sum"] = str(total)
                measured["mean"] = str((total / n).quantize(Decimal("0.0001"))) if n else "0"
            arm["outcomes"][outcome.name] = measured
        champion = arms[rule.champion or names[0]]
        for name, arm in arms.items():
            if arm is champion:
                continue
            x1, n1 = champion["outcomes"][outcome.name]["subjects"], champion["subjects"]
            x2, n2 = arm["outcomes"][outcome.name]["subjects"], arm["subjects"]
            z, p_value = two_proportion_test(x1, n1, x2, n2)
            comparisons.append(
                {
                    "outcome": outcome.name,
                    "champion": champion["name"],
                    "challenger": name,
                    "difference": (x2 / n2 if n2 else 0.0) - (x1 / n1 if n1 else 0.0),
                    "z": z,
                    "p_value": p_value,
                    "significant": p_value is not None and p_value < ALPHA,
                }
            )
    return {
        "rule": rule.name,
        "champion": rule.champion,
        "arms": list(arms.values()),
        "comparisons": comparisons,
    }


def experiment_report(session: Session, service: str, blueprint: Blueprint) -> list[dict[str, Any]]:
    """One report per split rule of ``blueprint``."""
    return [
        _rule_report(session, service, rule, blueprint.outcomes)
        for rule in blueprint.rules
        if rule.arms
    ]
