"""Authentication, entitlement and rate limiting: the ASGI middleware after routing.

Each operation's ``security`` in the OpenAPI document says who may call it: nobody in
particular (``[]``), an operator (``adminKey``), or a tenant's key (``apiKey``); module
operations also need the tenant to subscribe to the module. Keys are cached briefly per
worker (``auth_cache_seconds``) so that the common path does no database read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import AuthenticationError, ForbiddenError, NotSubscribedError
from ..ratelimit import TenantRateLimiter
from .credentials import hash_secret, split_key
from .principal import Principal

__all__ = ["AccessMiddleware", "AccessRule", "Authenticator", "rules_from_spec"]

ROUTING = "connexion_routing"


@dataclasses.dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may call one operation.

    :param module: the module the operation belongs to (None for the gateway's own).
    :param tenant: a tenant's key is accepted.
    :param admin: an operator key is accepted.
    :param optional: True when anonymous callers are served too.
    """

    module: str | None
    tenant: bool
    admin: bool
    optional: bool

    @property
    def public(self) -> bool:
        """No credential needed or looked at."""
        return not (self.tenant or self.admin)


_UNKNOWN = AccessRule(module=None, tenant=False, admin=True, optional=False)
TENANT_SCHEMES = frozenset({"apiKey", "bearerAuth"})
ADMIN_SCHEMES = frozenset({"adminKey"})


def rules_from_spec(
    spec: Mapping[str, Any], *, base_path: str, module: str | None, handlers: str
) -> dict[tuple[str, str], AccessRule]:
    """Read each operation's security requirements into :class:`AccessRule` s.

    Keyed by base path and the resolved operation id (``<handlers>.<operationId>``), as
    connexion's routing middleware reports them.
    """
    rules = {}
    default = spec.get("security", [])
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, Mapping) or "operationId" not in operation:
                continue
            requirements = operation.get("security", default)
            names = {name for requirement in requirements for name in requirement}
            # A module's operation is a tenant's unless it says ``security: []`` itself: a
            # provider's callback or an unsubscribe link, which authenticates by signature and
            # opens its tenant's session with ``public_tenant_session``.
            explicitly_public = operation.get("security") == []
            rules[(base_path, f"{handlers}.{operation['operationId']}")] = AccessRule(
                module=module,
                tenant=bool(names & TENANT_SCHEMES)
                or (module is not None and not explicitly_public),
                admin=bool(names & ADMIN_SCHEMES),
                optional={} in requirements,
            )
    return rules


class Authenticator:
    """Resolves a presented key to a :class:`Principal`, with a short per-process cache.

    :param lookup: ``lookup(key) -> Principal | None``, a blocking database read.
    :param ttl: seconds a result stays cached; 0 disables the cache.
    :param admin_token: an operator token from the environment, compared in constant time.
    """

    def __init__(
        self,
        lookup: Callable[[str], Principal | None],
        *,
        ttl: float,
        admin_token: str | None = None,
    ) -> None:
        self.lookup = lookup
        self.ttl = ttl
        self._admin_hash = hash_secret(admin_token) if admin_token else None
        self._cache: dict[str, tuple[float, str, Principal | None]] = {}
        # One lookup at a time per key: concurrent requests share it (no stampede on expiry).
        self._lookups: dict[str, asyncio.Task[Principal | None]] = {}
        # Bumped by clear(): a lookup that started before it must not refill the cache.
        self._generation = 0

    def clear(self) -> None:
        """Forget cached keys (after a revocation, suspension or subscription change)."""
        self._cache.clear()
        self._generation += 1

    async def authenticate(self, presented: str) -> Principal | None:
        """The principal for a presented key, or None."""
        hashed = hash_secret(presented)
        if self._admin_hash is not None and hmac.compare_digest(hashed, self._admin_hash):
            return Principal(kind="admin", key_id="environment")
        prefix = split_key(presented)
        if prefix is None:
            return None
        now = time.monotonic()
        cached = self._cache.get(prefix)
        # A cached entry counts only for the very same secret, never for its prefix alone.
        if cached is not None and cached[0] > now and hmac.compare_digest(cached[1], hashed):
            # In the last quarter of its life, refresh it in the background, so that a busy
            # key never waits for the database; the entry served is still within its TTL.
            if cached[0] - now < self.ttl / 4 and hashed not in self._lookups:
                self._start_lookup(presented, prefix, hashed)
            return cached[2]
        task = self._lookups.get(hashed) or self._start_lookup(presented, prefix, hashed)
        # shield: a caller that goes away must not cancel the lookup the others wait for.
        return await asyncio.shield(task)

    def _start_lookup(
        self, presented: str, prefix: str, hashed: str
    ) -> asyncio.Task[Principal | None]:
        task = asyncio.ensure_future(self._lookup(presented, prefix, hashed))
        # A background refresh has no one awaiting it: its failure is seen by the next caller.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._lookups[hashed] = task
        return task

    async def _lookup(self, presented: str, prefix: str, hashed: str) -> Principal | None:
        try:
            started, generation = time.monotonic(), self._generation
            principal = await anyio.to_thread.run_sync(self.lookup, presented)
            if self.ttl > 0 and generation == self._generation:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[prefix] = (started + self.ttl, hashed, principal)
            return principal
        finally:
            del self._lookups[hashed]


def _credential(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-api-key":
            return value.decode("latin-1").strip()
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


class AccessMiddleware:
    """Authenticates, checks the module subscription and counts the rate limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rules: Mapping[tuple[str, str], AccessRule],
        authenticator: Authenticator,
        limiter: TenantRateLimiter,
        default_limit: str,
    ) -> None:
        self.app = app
        self.rules = rules
        self.authenticator = authenticator
        self.limiter = limiter
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extensions = scope.setdefault("extensions", {})
        routing = extensions.get(ROUTING) or {}
        operation_id = routing.get("operation_id")
        rule = None
        if operation_id is not None:
            # Fail closed: a routed operation without a rule needs an operator key.
            rule = self.rules.get((routing.get("api_base_path", ""), operation_id), _UNKNOWN)
        if rule is not None and not rule.public:
            principal = await self._principal(scope, rule)
            if principal is not None:
                extensions.setdefault("almacen", {})["principal"] = principal
                # connexion hands this mapping to handlers as ``connexion.context.context``.
                extensions.setdefault("connexion_context", {})["principal"] = principal
                if principal.tenant_id is not None:
                    await self.limiter.hit(
                        principal.tenant_id, principal.rate_limit or self.default_limit
                    )
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope, rule: AccessRule) -> Principal | None:
        presented = _credential(scope["headers"])
        if not presented:
            if rule.optional:
                return None
            raise AuthenticationError(
                "Send an API key in the X-API-Key header or as a Bearer token."
            )
        principal = await self.authenticator.authenticate(presented)
        if principal is None:
            raise AuthenticationError(
                "The API key is unknown or revoked, or its tenant is suspended."
            )
        if principal.is_admin:
            if not rule.admin:
                raise ForbiddenError(
                    "An operator key cannot call tenant operations; use a tenant's API key."
                )
            return principal
        if not rule.tenant:
            raise ForbiddenError("This operation needs an operator (admin) key.")
        if rule.module is not None and rule.module not in principal.modules:
            raise NotSubscribedError(
                f"The tenant does not subscribe to the {rule.module!r} module.",
                module=rule.module,
            )
        return principal
