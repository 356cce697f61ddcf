"""Property: no sequence of sends, opt-outs (an inbound STOP, the one-click unsubscribe POST,
the consent API) and provider retries ever delivers a message to a debtor after their
opt-out on that channel. End to end on the service layer and the real database; the
recording provider is the oracle of what was delivered."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almacen.gateway.app import gateway_of
from almacen.gateway.db import utcnow
from almacen.modules.notifications.contact import unsubscribe_url
from almacen.modules.notifications.sending import accept_message, receive_inbound
from tests.common.actors import Admin, TenantHandle
from tests.common.notifications_sending import (
    BASE,
    MEMO,
    Env,
    MemoPlugin,
    body_to,
    sender_of,
    transient,
)

OPT_OUTS = ("stop", "unsubscribe", "api")
_addresses = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(["wait", "drop"])),
        st.tuples(st.sampled_from(OPT_OUTS), st.none()),
        st.tuples(st.just("fail"), st.integers(min_value=1, max_value=3)),
        st.tuples(st.just("drain"), st.none()),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def memo_app(make_app: Any) -> tuple[Any, MemoPlugin]:
    plugin = MemoPlugin()
    return make_app(plugins=[("memo_channel", plugin)]), plugin


@pytest.fixture(scope="module")
def world(memo_app: tuple[Any, MemoPlugin], admin: Admin) -> Iterator[tuple[Env, TenantHandle]]:
    """One tenant for every example (each example writes to a fresh address); retries are
    due at once, so a sequence can exhaust them."""
    app, plugin = memo_app
    env = Env(app, Admin(app.test_client(), admin.headers["X-API-Key"]), plugin.provider)
    tenant = env.tenant(retry_backoff_seconds=0, max_attempts=3)
    yield env, tenant
    env.provider.raises.clear()


def run(env: Env, tenant: TenantHandle, ops: list[tuple[str, Any]]) -> tuple[int, int | None]:
    """Play ``ops`` for a fresh address; check the property after each; return how many
    messages were delivered and the step of the first opt-out."""
    db = gateway_of(env.app).db
    address = f"prop-{next(_addresses)}-{utcnow().timestamp()}"
    sender = sender_of(env.app)
    env.provider.raises.clear()
    opted_out_at: int | None = None
    for step, (op, arg) in enumerate(ops):
        before = len(env.provider.sent_to(address))
        if op == "send":
            with db.transaction(tenant_id=tenant.id) as session:
                accept_message(session, tenant.id, body_to(address, on_blocked=arg))
        elif op == "stop":
            with db.transaction(tenant_id=tenant.id) as session:
                reply = {"channel": MEMO, "sender": address, "text": "STOP"}
                assert receive_inbound(session, tenant.id, MEMO, reply).opted_out
        elif op == "unsubscribe":
            with db.transaction(tenant_id=tenant.id) as session:
                url = unsubscribe_url(
                    tenant.id,
                    debtor_id=None,
                    address=address,
                    channel=MEMO,
                    base_url="https://cobranza.example",
                    session=session,
                )
            clicked = env.admin.client.post(
                urlsplit(url).path,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert clicked.status_code == 200, clicked.text
        elif op == "api":
            answer = tenant.post(
                f"{BASE}/contact/consents",
                json={"address": address, "channel": MEMO, "status": "opted_out"},
            )
            assert answer.status_code in (200, 201), answer.text
        elif op == "fail":
            env.provider.fail_next(*(transient() for _ in range(arg)))
        else:
            while sender.send_due():
                pass
        if op in OPT_OUTS and opted_out_at is None:
            opted_out_at = step
        if opted_out_at is not None and opted_out_at < step:
            assert len(env.provider.sent_to(address)) == before, (
                f"delivered at step {step} after the opt-out at step {opted_out_at}: {ops}"
            )
    env.provider.raises.clear()
    # And nothing left in the queue ever goes out later.
    after = len(env.provider.sent_to(address))
    while sender.send_due():
        pass
    if opted_out_at is not None:
        assert len(env.provider.sent_to(address)) == after
    return after, opted_out_at


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_nothing_is_delivered_after_an_opt_out(
    world: tuple[Env, TenantHandle], ops: list[tuple[str, Any]]
) -> None:
    env, tenant = world
    run(env, tenant, ops)


@pytest.mark.parametrize("opt_out", OPT_OUTS)
def test_the_property_is_not_vacuous(world: tuple[Env, TenantHandle], opt_out: str) -> None:
    """The same machinery delivers before the opt-out, retries included, and not after."""
    env, tenant = world
    ops: list[tuple[str, Any]] = [
        ("send", "wait"),
        ("fail", 2),
        ("drain", None),
        ("send", "wait"),
        (opt_out, None),
        ("drain", None),
        ("send", "wait"),
        ("drain", None),
    ]
    delivered, opted_out_at = run(env, tenant, ops)
    assert delivered == 1 and opted_out_at == 4
