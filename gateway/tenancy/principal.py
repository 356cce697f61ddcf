"""Who is calling: the identity the access middleware attaches to each request."""

from __future__ import annotations

import dataclasses

__all__ = ["Principal"]


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: an operator (``admin``) or a tenant's API key.

    :param kind: ``admin`` or ``tenant``.
    :param key_id: the id of the key presented.
    :param tenant_id: the tenant's id (None for operators).
    :param tenant_slug: the tenant's slug, for logs.
    :param modules: the modules the tenant subscribes to.
    :param rate_limit: the tenant's rate limit, or None for the gateway's default.
    """

    kind: str
    key_id: str
    tenant_id: str | None = None
    tenant_slug: str | None = None
    modules: frozenset[str] = frozenset()
    rate_limit: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for operators."""
        return self.kind == "admin"
