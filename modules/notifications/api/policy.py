"""``/contact/policy`` and ``/contact/rule-packs``: which rules govern the tenant's contacts.

Overrides may only be stricter than the law the pack cites (see
:mod:`..contact.rulepack`); a rule the pack marks as Almacén's own default may be relaxed.
"""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from ..contact.policy import get_policy, put_policy
from ..contact.rulepack import RulePack, rule_pack, rule_packs
from ..contact.schemas import PolicySchema

__all__ = ["get", "get_pack", "list_packs", "put"]

_policy = PolicySchema()


def get() -> dict[str, Any]:
    """The policy in force (``auto`` without overrides until one is stored)."""
    return dict(_policy.dump(get_policy(request_session())))


def put(body: dict[str, Any]) -> dict[str, Any]:
    """Choose a rule pack (or ``auto``) and the tenant's stricter overrides; all or nothing."""
    return dict(_policy.dump(put_policy(request_session(), body)))


def _pack(pack: RulePack) -> dict[str, Any]:
    return {"id": pack.id, "title": pack.title, "country": pack.country, "rules": pack.document}


def list_packs() -> dict[str, Any]:
    """The built-in rule packs, each rule with its legal source."""
    return {"items": [_pack(pack) for pack in rule_packs().values()]}


def get_pack(pack_id: str) -> dict[str, Any]:
    """One rule pack; 404 for an unknown id."""
    return _pack(rule_pack(pack_id))
