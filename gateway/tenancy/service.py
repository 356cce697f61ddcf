"""Tenancy's domain logic: tenants, API keys, subscriptions and authentication.

Plain functions over a SQLAlchemy session; the caller owns the transaction. Functions that
touch one tenant's rows expect a session opened for that tenant (see :mod:`almacen.gateway.db`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
    marshmallow_errors,
)
from ..module import Module
from ..pagination import Page, paginate
from .configcache import ConfigCache
from .credentials import issue_key, split_key, verify_secret
from .models import AdminKey, ApiKey, Subscription, Tenant
from .principal import Principal

__all__ = [
    "authenticate",
    "create_admin_key",
    "create_api_key",
    "create_tenant",
    "get_tenant",
    "list_api_keys",
    "list_subscriptions",
    "list_tenants",
    "module_config",
    "revoke_api_key",
    "set_tenant_status",
    "subscribe",
    "unsubscribe",
]

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: last_used_at is written at most this often per key, to keep a write off every request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
#: ``session.info`` key of the app's :class:`~.configcache.ConfigCache` (set by the app).
CONFIG_CACHE = "config_cache"
#: ``session.info`` key set once a session changed its tenant's subscriptions: it reads
#: them around the cache from then on.
_SUBSCRIPTIONS_CHANGED = "subscriptions_changed"


# -- tenants -------------------------------------------------------------------------------


def create_tenant(
    session: Session, *, slug: str, name: str, rate_limit: str | None = None
) -> Tenant:
    """Create a tenant. :raises ConflictError: when the slug is taken."""
    if not SLUG.match(slug):
        raise UnprocessableError(
            f"slug {slug!r} must be lower-case letters, digits and inner hyphens",
            errors=[{"pointer": "/slug", "detail": "invalid slug"}],
        )
    if rate_limit is not None:
        _check_rate_limit(rate_limit)
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ConflictError(f"a tenant with slug {slug!r} exists", errors=[{"pointer": "/slug"}])
    tenant = Tenant(slug=slug, name=name, rate_limit=rate_limit, status="active")
    try:
        # Added inside the savepoint, so that a lost race leaves nothing pending behind.
        with session.begin_nested():
            session.add(tenant)
            session.flush()
    except IntegrityError:
        # Lost a race with a concurrent create of the same slug.
        raise ConflictError(
            f"a tenant with slug {slug!r} exists", errors=[{"pointer": "/slug"}]
        ) from None
    return tenant


def _check_rate_limit(limit: str) -> None:
    from limits import parse

    try:
        parse(limit)
    except ValueError:
        raise UnprocessableError(
            f"rate_limit {limit!r} is not a limit such as '100/minute'",
            errors=[{"pointer": "/rate_limit", "detail": "not a rate limit"}],
        ) from None


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    """A tenant by id. :raises NotFoundError: when there is none."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFoundError(f"no tenant {tenant_id!r}")
    return tenant


def list_tenants(session: Session, *, limit: int, cursor: str | None = None) -> Page[Tenant]:
    """Tenants in creation order, a page at a time."""
    return paginate(
        session, select(Tenant), keys=(Tenant.created_at, Tenant.id), limit=limit, cursor=cursor
    )


def set_tenant_status(session: Session, tenant_id: str, status: str) -> Tenant:
    """Suspend (``suspended``) or reactivate (``active``) a tenant."""
    tenant = get_tenant(session, tenant_id)
    tenant.status = status
    return tenant


def update_tenant(session: Session, tenant_id: str, changes: Mapping[str, Any]) -> Tenant:
    """Change a tenant's name, status or rate limit."""
    tenant = get_tenant(session, tenant_id)
    if "rate_limit" in changes and changes["rate_limit"] is not None:
        _check_rate_limit(changes["rate_limit"])
    for field in ("name", "status", "rate_limit"):
        if field in changes:
            setattr(tenant, field, changes[field])
    return tenant


# -- API keys ------------------------------------------------------------------------------


def create_api_key(session: Session, *, tenant: Tenant, name: str = "") -> tuple[ApiKey, str]:
    """Issue a key for ``tenant``; return the row and the secret, which is never stored."""
    issued = issue_key("alm")
    key = ApiKey(tenant_id=tenant.id, prefix=issued.prefix, secret_hash=issued.hashed, name=name)
    session.add(key)
    session.flush()
    return key, issued.secret


def list_api_keys(session: Session, *, limit: int, cursor: str | None = None) -> Page[ApiKey]:
    """The keys of the session's tenant."""
    return paginate(
        session, select(ApiKey), keys=(ApiKey.created_at, ApiKey.id), limit=limit, cursor=cursor
    )


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    """Revoke a key of the session's tenant; revoking twice is harmless."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise NotFoundError(f"no API key {key_id!r} for this tenant")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def create_admin_key(session: Session, *, name: str = "") -> tuple[AdminKey, str]:
    """Issue an operator key for the admin API; the secret is returned once."""
    issued = issue_key("almadm")
    key = AdminKey(prefix=issued.prefix, secret_hash=issued.hashed, name=name)
    session.add(key)
    session.flush()
    return key, issued.secret


# -- subscriptions -------------------------------------------------------------------------


def subscribe(
    session: Session, *, module: Module, config: Mapping[str, Any] | None = None
) -> Subscription:
    """Subscribe the session's tenant to ``module`` (or replace its configuration).

    :raises ConfigurationError: when the module's schema rejects ``config``.
    """
    try:
        clean = module.validate_config(dict(config or {}))
    except ValidationError as exc:
        raise ConfigurationError(
            f"module {module.name!r} rejected the configuration",
            errors=marshmallow_errors(exc.messages, "/config"),
            module=module.name,
        ) from None
    subscription = session.scalar(select(Subscription).where(Subscription.module == module.name))
    try:
        with session.begin_nested():
            if subscription is None:
                subscription = Subscription(module=module.name, config=clean)
                session.add(subscription)
            else:
                subscription.config = clean
                subscription.updated_at = utcnow()
            session.flush()
    except IntegrityError:
        raise ConflictError(
            f"a concurrent request subscribed the tenant to {module.name!r}; retry"
        ) from None
    _subscriptions_changed(session)
    return subscription


def module_config(session: Session, module: str, schema: type[Schema]) -> dict[str, Any]:
    """The session's tenant's configuration of ``module``, loaded through the module's own
    ``schema`` so that defaults are filled in (all defaults when it has none stored).

    Kept a few seconds per worker when the session comes from the app (see
    :mod:`.configcache` for how soon a change is seen).
    """

    def load() -> dict[str, Any]:
        subscription = session.scalar(select(Subscription).where(Subscription.module == module))
        stored: Mapping[str, Any] = subscription.config if subscription is not None else {}
        return dict(schema().load(dict(stored)))

    cache: ConfigCache | None = session.info.get(CONFIG_CACHE)
    tenant_id = session.info.get("tenant_id")
    if cache is None or tenant_id is None or session.info.get(_SUBSCRIPTIONS_CHANGED):
        return load()
    return cache.get(str(tenant_id), module, schema, load)


def _subscriptions_changed(session: Session) -> None:
    """Forget the tenant's cached configurations now and when this transaction commits (a
    read in between, by another request, may have cached what is being replaced); this
    session reads around the cache from now on."""
    cache: ConfigCache | None = session.info.get(CONFIG_CACHE)
    tenant_id = session.info.get("tenant_id")
    session.info[_SUBSCRIPTIONS_CHANGED] = True
    if cache is None or tenant_id is None:
        return
    cache.forget(str(tenant_id))
    if not session.info.get("config_cache_listening"):
        session.info["config_cache_listening"] = True
        event.listen(session, "after_commit", lambda _: cache.forget(str(tenant_id)))


def unsubscribe(session: Session, module_name: str) -> None:
    """End the session's tenant's subscription. :raises NotFoundError: when there is none."""
    subscription = session.scalar(select(Subscription).where(Subscription.module == module_name))
    if subscription is None:
        raise NotFoundError(f"the tenant does not subscribe to {module_name!r}")
    session.delete(subscription)
    _subscriptions_changed(session)


def list_subscriptions(session: Session) -> list[Subscription]:
    """The session's tenant's subscriptions, by module name."""
    return list(session.scalars(select(Subscription).order_by(Subscription.module)))


# -- authentication ------------------------------------------------------------------------


def authenticate(
    session: Session, presented: str, *, installed: frozenset[str]
) -> Principal | None:
    """The principal a presented key stands for, or None when it is unknown or dead.

    Touches ``last_used_at`` (at most once a minute). Only modules still installed count.
    """
    prefix = split_key(presented)
    if prefix is None:
        return None
    now = utcnow()
    if prefix.startswith("almadm_"):
        admin = session.scalar(select(AdminKey).where(AdminKey.prefix == prefix))
        if admin is None or admin.revoked_at is not None:
            return None
        if not verify_secret(presented, admin.secret_hash):
            return None
        if admin.last_used_at is None or now - admin.last_used_at > LAST_USED_RESOLUTION:
            admin.last_used_at = now
        return Principal(kind="admin", key_id=admin.id)
    key = session.scalar(
        select(ApiKey).where(ApiKey.prefix == prefix).execution_options(all_tenants=True)
    )
    if key is None or key.revoked_at is not None or not verify_secret(presented, key.secret_hash):
        return None
    tenant = session.get(Tenant, key.tenant_id)
    if tenant is None or not tenant.active:
        return None
    modules = session.scalars(
        select(Subscription.module)
        .where(Subscription.tenant_id == tenant.id)
        .execution_options(all_tenants=True)
    )
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Principal(
        kind="tenant",
        key_id=key.id,
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        modules=frozenset(modules) & installed,
        rate_limit=tenant.rate_limit,
    )
