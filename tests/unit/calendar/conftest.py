"""Fixtures of the calendar's unit tests: tenants' sessions inside one rolled-back transaction.

Every session of a test shares one connection whose transaction is rolled back at the end,
so nothing a test writes outlives it; each session is scoped to its tenant like a request's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from almacen.gateway.app import gateway_of
from almacen.gateway.tenancy.service import create_tenant, subscribe


@pytest.fixture
def new_tenant(
    app: Any, open_session: Callable[[str | None], Session], unique: Callable[[str], str]
) -> Callable[..., Session]:
    """Make a tenant subscribed to the calendar with ``config``; return its session."""
    module = gateway_of(app).registry.modules["calendar"]

    def make(*, subscribed: bool = True, **config: Any) -> Session:
        operator = open_session(None)
        tenant = create_tenant(operator, slug=unique("cal"), name="Calendar unit test")
        operator.flush()
        session = open_session(tenant.id)
        if subscribed:
            subscribe(session, module=module, config=config)
        return session

    return make


@pytest.fixture
def session(new_tenant: Callable[..., Session]) -> Session:
    """The session of a tenant subscribed to the calendar with the default configuration."""
    return new_tenant()
