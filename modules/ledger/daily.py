"""The ledger's daily job: age every open account, then judge promises and plans, as of a day.

One tenant's run is :func:`run_daily` (``POST /v1/ledger/jobs/aging`` calls it with the day
the caller names). :class:`DailyAging` runs it for every tenant once a day, from ``almacen
worker`` (an ``almacen_worker_tasks`` task): each cycle it takes one tenant whose open
accounts were not aged yet on the tenant's own date (``time_zone`` in its ledger
configuration), among those whose configuration says ``daily_aging: true``, and ages them as
of that date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from almacen.gateway.db import Database
from almacen.gateway.tenancy.models import Subscription

from . import aging, plans, promises
from .accounts import settings_for
from .models import Account

__all__ = ["DailyAging", "DailyReport", "local_today", "run_daily"]

#: Cross-tenant reads of the worker (the session's tenant criteria would hide them).
_ALL_TENANTS = {"all_tenants": True}


@dataclasses.dataclass(frozen=True)
class DailyReport:
    """What one tenant's daily run did."""

    aging: aging.AgingReport
    #: Promises resolved, by their new status.
    promises: Counter[str]
    #: Plans and settlements resolved, by their new status.
    plans: Counter[str]


def run_daily(session: Session, *, as_of: dt.date, config: Mapping[str, Any]) -> DailyReport:
    """Age the session's tenant's open accounts, then evaluate its pending promises and its
    active plans and settlements, all as of ``as_of``."""
    report = aging.run_aging(session, as_of=as_of, config=config)
    changes = promises.evaluate_promises(session, as_of=as_of, config=config)
    resolved = Counter(change.new for change in changes if change.new != change.old)
    arrangements = Counter(c.new for c in plans.evaluate_plans(session, as_of=as_of, config=config))
    return DailyReport(aging=report, promises=resolved, plans=arrangements)


def local_today(config: Mapping[str, Any], *, now: dt.datetime | None = None) -> dt.date:
    """The date in the tenant's ledger ``time_zone``."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(zoneinfo.ZoneInfo(config.get("time_zone", "UTC"))).date()


class DailyAging:
    """The worker task that runs :func:`run_daily` once a day for each tenant whose ledger
    configuration asks for it (``daily_aging: true``), on the tenant's own date.

    Safe in several workers at once: a tenant is claimed by locking its ledger subscription
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and checked again once claimed. It looks for
    due tenants at most every :attr:`interval` seconds.
    """

    #: Seconds between two looks for due tenants when none was due.
    interval = 60.0

    def __init__(self, db: Database, *, now: dt.datetime | None = None) -> None:
        self.db = db
        #: A fixed clock for tests; the current time when None.
        self.now = now
        self._idle_until = 0.0

    def __call__(self) -> int:
        """One worker cycle: age one due tenant; 1 when one was aged, else 0."""
        if time.monotonic() < self._idle_until:
            return 0
        for tenant_id in self.due():
            if self._age(tenant_id):
                return 1
        self._idle_until = time.monotonic() + self.interval
        return 0

    def drain(self) -> int:
        """Age every due tenant now (one-off runs and tests); how many were aged."""
        return sum(self._age(tenant_id) for tenant_id in self.due())

    def due(self) -> list[str]:
        """The tenants that asked for a daily run and have an open account not aged yet on
        their own date."""
        with self.db.session() as session:
            asked = {
                str(tenant_id): local_today(config or {}, now=self.now)
                for tenant_id, config in session.execute(
                    select(Subscription.tenant_id, Subscription.config)
                    .where(Subscription.module == "ledger")
                    .execution_options(**_ALL_TENANTS)
                )
                if (config or {}).get("daily_aging")
            }
            if not asked:
                return []
            # Per tenant, the oldest aging date of its open accounts (never aged: year 1).
            oldest = session.execute(
                select(Account.tenant_id, func.min(func.coalesce(Account.aged_on, dt.date.min)))
                .where(Account.tenant_id.in_(list(asked)), Account.status == "open")
                .group_by(Account.tenant_id)
                .order_by(Account.tenant_id)
                .execution_options(**_ALL_TENANTS)
            )
            return [
                str(tenant_id) for tenant_id, aged_on in oldest if aged_on < asked[str(tenant_id)]
            ]

    def _age(self, tenant_id: str) -> bool:
        with self.db.transaction(tenant_id=tenant_id) as session:
            claim = select(Subscription.id).where(Subscription.module == "ledger")
            if not self.db.is_sqlite:
                claim = claim.with_for_update(skip_locked=True)
            if session.scalar(claim) is None:
                return False  # another worker is aging it
            config = settings_for(session)
            day = local_today(config, now=self.now)
            due = session.scalar(
                select(Account.id)
                .where(
                    Account.status == "open",
                    or_(Account.aged_on.is_(None), Account.aged_on < day),
                )
                .limit(1)
            )
            if due is None:
                return False  # aged since it was found due
            run_daily(session, as_of=day, config=config)
            return True
