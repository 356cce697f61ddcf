"""``/contact-check``, ``/contact/attempts`` and ``/contact/opt-out-intent``."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import current_principal, request_session

from ..contact.intent import is_opt_out_intent, normalise_text
from ..contact.schemas import ContactCheckInputSchema, ContactCheckSchema, load_input
from ..contact.service import attempt_request, check_request

__all__ = ["check", "classify", "record_attempt"]

_input = ContactCheckInputSchema()
_output = ContactCheckSchema()


def _tenant() -> str:
    principal = current_principal()
    assert principal is not None
    assert principal.tenant_id is not None
    return principal.tenant_id


def check(body: dict[str, Any]) -> dict[str, Any]:
    """May this debtor be contacted on this channel now (or at ``at``): why not, and when."""
    outcome = check_request(request_session(), _tenant(), load_input(_input, body))
    return dict(_output.dump(outcome))


def record_attempt(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Record a contact made outside Almacén (an agent's call): it counts against the caps."""
    data = load_input(_input, {k: v for k, v in body.items() if k != "conversation"})
    data["conversation"] = bool(body.get("conversation", False))
    recipient = attempt_request(request_session(), _tenant(), data)
    return {
        "debtor_id": recipient.debtor_id,
        "channel": data["channel"],
        "account_ids": data["account_ids"],
        "conversation": data["conversation"],
    }, 201


def classify(body: dict[str, Any]) -> dict[str, Any]:
    """Whether a text reads as an opt-out (what inbound replies are checked with)."""
    text = str(body["text"])
    return {"opt_out": is_opt_out_intent(text), "normalised": normalise_text(text)}
