"""Property: no sequence of opt-outs, attempts and checks ever lets ``check_contact`` allow a
channel after an opt-out on it, whoever the opt-out named (the debtor, an address, both) and
whether it covered one channel or all. An independent model of who opted out of what is the
oracle; the debtor lives in the real ledger, so the ledger's mirrored consent is read too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almacen.gateway.app import gateway_of
from almacen.gateway.tenancy.service import create_tenant, subscribe
from almacen.modules.ledger.models import ContactPoint, Debtor
from almacen.modules.notifications.contact import (
    Recipient,
    check_contact,
    is_opted_out,
    record_attempt,
    record_opt_out,
)
from tests.common.sessions import rolled_back

CHANNELS = ("sms", "email", "whatsapp", "voice")
EMAIL, PHONE = "debtor@example.com", "+12125550143"
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

opt_out = st.tuples(
    st.just("opt_out"),
    st.sampled_from(("debtor", "address", "both")),
    st.sampled_from((*CHANNELS, None)),
)
check = st.tuples(st.just("check"), st.sampled_from(("full", "address")), st.sampled_from(CHANNELS))
attempt = st.tuples(st.just("attempt"), st.just("full"), st.sampled_from(CHANNELS))
steps = st.lists(
    st.tuples(st.one_of(opt_out, check, attempt), st.integers(min_value=0, max_value=24 * 14)),
    min_size=1,
    max_size=25,
)


def _address(channel: str | None) -> str:
    return EMAIL if channel in ("email", None) else PHONE


def _world_tenant(world: Any, app: Any) -> tuple[Any, str]:
    registry = gateway_of(app).registry
    operator = world.open_session(None)
    tenant = create_tenant(operator, slug=f"nfy-{uuid.uuid4().hex[:12]}", name="p")
    operator.flush()
    session = world.open_session(tenant.id)
    session.info["registry"] = registry
    subscribe(session, module=registry.modules["ledger"], config={})
    subscribe(session, module=registry.modules["notifications"], config={"default_country": "US"})
    debtor = Debtor(external_ref="d-1", name="D", time_zone="America/New_York")
    debtor.contact_points = [
        ContactPoint(kind="phone", value=PHONE, position=0),
        ContactPoint(kind="email", value=EMAIL, position=1),
    ]
    session.add(debtor)
    session.flush()
    return session, debtor.id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(program=steps)
def test_no_contact_is_allowed_after_an_opt_out(app: Any, program: Any) -> None:
    with rolled_back(app) as world:
        session, debtor_id = _world_tenant(world, app)
        tenant_id = session.info["tenant_id"]
        full = Recipient(debtor_id, "America/New_York", "US", "en", EMAIL, PHONE, None)
        bare = Recipient(None, "America/New_York", "US", "en", EMAIL, PHONE, None)
        # The model: (subject, channel or None for all) pairs opted out.
        model: set[tuple[str, str | None]] = set()
        for (kind, who, channel), hours in sorted(program, key=lambda step: step[1]):
            at = START + dt.timedelta(hours=hours)
            if kind == "opt_out":
                named_debtor = debtor_id if who in ("debtor", "both") else None
                named_address = _address(channel) if who in ("address", "both") else None
                record_opt_out(
                    session,
                    tenant_id,
                    debtor_id=named_debtor,
                    address=named_address,
                    channel=channel,
                    source="inbound",
                    at=at,
                )
                model |= {(s, channel) for s in (named_debtor, named_address) if s}
            elif kind == "attempt":
                record_attempt(session, tenant_id, full, channel, ["acc-1"], at)
            else:
                recipient = full if who == "full" else bare
                subjects = {recipient.address(channel)} | (
                    {debtor_id} if recipient.debtor_id else set()
                )
                expected = any((s, c) in model for s in subjects for c in (channel, None))
                decision = check_contact(session, tenant_id, recipient, channel, at, ["acc-1"])
                reasons = [reason.code for reason in decision.reasons]
                assert ("opted_out" in reasons) is expected, (model, channel, who)
                if expected:
                    assert decision.allowed is False
                    assert decision.next_allowed_at is None
                assert (
                    is_opted_out(
                        session,
                        tenant_id,
                        debtor_id=recipient.debtor_id,
                        address=recipient.address(channel),
                        channel=channel,
                    )
                    is expected
                    or recipient.debtor_id is not None  # the ledger's consent may say more
                )
