"""``/jobs/aging``: the daily aging job, run for the calling tenant."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import accounts, daily
from ..schemas import AgingReportSchema
from ._common import date, pointer

__all__ = ["run_aging"]

_report = AgingReportSchema()


def run_aging(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Age the tenant's accounts and evaluate its pending promises as of a date."""
    session = request_session()
    as_of = (body or {}).get("as_of")
    day = date(as_of, pointer("/as_of")) if as_of else accounts.today()
    report = daily.run_daily(session, as_of=day, config=accounts.settings_for(session))
    return dict(
        _report.dump(
            {
                "as_of": day,
                "counts": report.aging.counts,
                "changed": len(report.aging.changed),
                "promises": dict(report.promises),
                "plans": dict(report.plans),
            }
        )
    )
