"""The tenant's contact policy: which rule pack applies, and the tenant's stricter overrides.

Without a stored policy the pack is ``auto``: the pack of the recipient's country (the
tenant's ``default_country`` when the recipient names none). Overrides are validated against
every built-in pack they may apply to when stored, so a check never meets a refused override.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.db import utcnow
from almacen.gateway.errors import UnprocessableError

from ..contact_tables import ContactPolicy
from .rulepack import (
    AUTO,
    RulePack,
    apply_overrides,
    load_overrides,
    pack_for_country,
    rule_pack,
    rule_packs,
)

__all__ = ["PolicyView", "effective_pack", "get_policy", "put_policy"]


@dataclasses.dataclass(frozen=True)
class PolicyView:
    """The policy in force: the pack chosen (or ``auto``) and the stored overrides."""

    rule_pack: str
    overrides: Mapping[str, Any]
    updated_at: dt.datetime | None


def _stored(session: Session) -> ContactPolicy | None:
    return session.scalar(select(ContactPolicy))


def get_policy(session: Session) -> PolicyView:
    """The session's tenant's policy (``auto`` without overrides when none is stored)."""
    row = _stored(session)
    if row is None:
        return PolicyView(AUTO, {"caps": [], "hours": None}, None)
    return PolicyView(row.rule_pack, row.overrides, row.updated_at)


def put_policy(session: Session, body: Mapping[str, Any]) -> PolicyView:
    """Store the tenant's policy: ``{"rule_pack": id | "auto", "overrides": {...}}``.

    :raises UnprocessableError: for an unknown pack (``/rule_pack``) or an override that is
        malformed or would relax a pack's legal rule (``/overrides/...``); nothing is stored.
    """
    chosen = str(body.get("rule_pack", AUTO))
    overrides = load_overrides(body.get("overrides") or {})
    targets = (
        list(rule_packs().values()) if chosen == AUTO else [rule_pack(chosen, pointer="/rule_pack")]
    )
    faults: list[dict[str, str]] = []
    for pack in targets:
        try:
            apply_overrides(pack, overrides)
        except UnprocessableError as exc:
            faults += [{**fault, "detail": f"{pack.id}: {fault['detail']}"} for fault in exc.errors]
    if faults:
        raise UnprocessableError(
            "the contact policy's overrides would relax a rule pack", errors=faults
        )
    row = _stored(session)
    if row is None:
        row = ContactPolicy(rule_pack=chosen, overrides=overrides, updated_at=utcnow())
        session.add(row)
    else:
        row.rule_pack, row.overrides, row.updated_at = chosen, overrides, utcnow()
    session.flush()
    return PolicyView(row.rule_pack, row.overrides, row.updated_at)


def effective_pack(
    session: Session,
    *,
    country: str | None,
    default_country: str,
    policy: PolicyView | None = None,
) -> RulePack:
    """The pack that governs a contact with someone in ``country``, the tenant's overrides in.

    :param policy: the tenant's policy when the caller has read it (:func:`get_policy`).

    :raises ContactProblem: under ``auto`` when no built-in pack covers the country.
    """
    from .errors import ContactProblem

    if policy is None:
        policy = get_policy(session)
    if policy.rule_pack == AUTO:
        where = country or default_country
        pack = pack_for_country(where)
        if pack is None:
            detail = (
                f"no rule pack covers country {where!r}; choose one with PUT "
                "/v1/notifications/contact/policy"
            )
            raise ContactProblem(detail, errors=[{"pointer": "/country", "detail": detail}])
    else:
        pack = rule_pack(policy.rule_pack)
    return apply_overrides(pack, policy.overrides)
