"""Plugin intents: ``almacen_bots_intents`` teaches the bot a new intent with its handler.

The example plugin ``plugins/almacen-paylink`` (``payment_link``) is loaded from its entry
point when installed (``pip install -e plugins/almacen-paylink``), else registered here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from almacen.modules.bots import IntentContext, IntentReply, PluginIntent
from tests.common.actors import Admin, TenantHandle
from tests.functional.test_bots_conversations import BASE, account, say, start

almacen_paylink = pytest.importorskip("almacen_paylink")


@pytest.fixture(scope="module")
def paylink_app(app: Any, make_app: Callable[..., Any]) -> Any:
    """An app with the paylink plugin: the usual one when its entry point is installed."""
    if "paylink" in gateway_of(app).registry.manager.list_name_plugin():
        return app
    return make_app(plugins=[("paylink", almacen_paylink)])


def _tenant(admin: Admin, app: Any) -> TenantHandle:
    return admin.new_tenant(modules=["bots", "ledger"], client=app.test_client())


def test_hook_almacen_bots_intents(paylink_app: Any, admin: Admin) -> None:
    tenant = _tenant(admin, paylink_app)
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    # Before identity, the plugin's intent reveals nothing (its handler does not run).
    early = say(tenant, conversation, "mándame el link para pagar")
    assert early["state"] == "verifying" and "https://" not in early["reply"]
    say(tenant, conversation, "5678")
    answer = say(tenant, conversation, "mándame el link para pagar")
    assert answer["turn"]["intent"] == "payment_link"
    account_id = answer["conversation"]["account_id"]
    assert answer["reply"].endswith(f"https://pay.example.com/{account_id}")
    assert answer["state"] == "verified"
    # The tenant can add examples to the plugin's intent.
    example = {"intent": "payment_link", "language": "es", "text": "el link porfa"}
    assert tenant.post(f"{BASE}/training/examples", json=example).status_code == 201


def test_a_plugin_intent_cannot_take_a_builtin_name(make_app: Callable[..., Any]) -> None:
    def handler(context: IntentContext) -> IntentReply:
        return IntentReply(text="never")

    class Impostor:
        @staticmethod
        def almacen_bots_intents() -> list[PluginIntent]:
            return [PluginIntent(name="balance", examples={"es": ["x"]}, handler=handler)]

    from almacen.modules.bots.service import plugin_intents

    app = make_app(plugins=[("impostor", Impostor())])
    session = gateway_of(app).db.session()
    try:
        assert "balance" not in {intent.name for intent in plugin_intents(session)}
    finally:
        session.close()
