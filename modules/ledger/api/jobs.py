"""``/jobs/aging``: the daily aging job, run for the calling tenant."""

from __future__ import annotations

from collections import Counter
from typing import Any

from almacen.gateway.state import request_session

from .. import accounts, aging, plans, promises
from ..schemas import AgingReportSchema
from ._common import date, pointer

__all__ = ["run_aging"]

_report = AgingReportSchema()


def run_aging(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Age the tenant's accounts and evaluate its pending promises as of a date."""
    session = request_session()
    as_of = (body or {}).get("as_of")
    day = date(as_of, pointer("/as_of")) if as_of else accounts.today()
    config = accounts.settings_for(session)
    report = aging.run_aging(session, as_of=day, config=config)
    changes = promises.evaluate_promises(session, as_of=day, config=config)
    resolved = Counter(change.new for change in changes if change.new != change.old)
    arrangements = Counter(c.new for c in plans.evaluate_plans(session, as_of=day, config=config))
    return dict(
        _report.dump(
            {
                "as_of": day,
                "counts": report.counts,
                "changed": len(report.changed),
                "promises": dict(resolved),
                "plans": dict(arrangements),
            }
        )
    )
