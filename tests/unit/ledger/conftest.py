"""The ledger's unit-test world: a new tenant's session inside a transaction rolled back at
the end of each test. Rows to put in it: ``tests/common/ledger_rows.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from almacen.gateway.tenancy.service import create_tenant


@pytest.fixture
def new_tenant(open_session: Callable[[str | None], Session]) -> Callable[[], Session]:
    """Make a tenant; return its scoped session on the test's rolled-back connection."""

    def make() -> Session:
        operator = open_session(None)
        tenant = create_tenant(operator, slug=f"unit-{uuid.uuid4().hex[:10]}", name="unit")
        operator.flush()
        return open_session(tenant.id)

    return make


@pytest.fixture
def session(new_tenant: Callable[[], Session]) -> Session:
    """The session of a new tenant."""
    return new_tenant()
