"""Per-tenant rate limits with the ``limits`` library, in memory or in Redis.

Memory counts per process; Redis (``rate_limit_storage = redis://…``) makes a limit hold
across gunicorn workers and replicas. When the storage cannot be reached the limiter fails
open: the request is served, and the failure is logged and counted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from typing import cast

from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from limits.storage import storage_from_string

from .errors import RateLimitedError
from .requestcontext import Metrics

__all__ = ["TenantRateLimiter"]

logger = logging.getLogger("almacen.ratelimit")


@functools.lru_cache(maxsize=256)
def _parse(limit: str) -> RateLimitItem:
    return parse(limit)


class TenantRateLimiter:
    """Counts a tenant's requests against its limit and raises when it is exhausted.

    :param storage_uri: ``memory://`` or ``redis://host:port/db``.
    :param strategy: ``fixed-window`` or ``moving-window``.
    """

    def __init__(self, storage_uri: str, *, strategy: str, metrics: Metrics) -> None:
        options: dict[str, str] = {}
        if storage_uri.startswith(("redis://", "rediss://")):
            options["implementation"] = "redispy"
        # The async+ scheme always yields an asyncio storage.
        self.storage = cast(AsyncStorage, storage_from_string(f"async+{storage_uri}", **options))
        cls: type[RateLimiter] = (
            MovingWindowRateLimiter if strategy == "moving-window" else FixedWindowRateLimiter
        )
        self.limiter = cls(self.storage)
        self.metrics = metrics
        # A fixed window is a counter: concurrent hits on one key can share one INCRBY.
        self._coalesce = cls is FixedWindowRateLimiter
        self._pending: dict[str, list[asyncio.Future[bool]]] = {}
        # The task flushing each key; held here so that it is not garbage-collected.
        self._flushing: dict[str, asyncio.Task[None]] = {}

    async def hit(self, tenant_id: str, limit: str) -> None:
        """Count one request; raise :class:`RateLimitedError` when over the limit."""
        item = _parse(limit)
        try:
            allowed = await self._hit(item, tenant_id)
        except Exception:
            self.metrics.rate_limit_errors.inc()
            logger.exception("rate-limit storage unreachable; request allowed (fail open)")
            return
        if allowed:
            return
        try:
            stats = await self.limiter.get_window_stats(item, "tenant", tenant_id)
            reset = stats.reset_time
        except Exception:
            reset = time.time() + item.get_expiry()
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimitedError(
            f"The tenant's limit of {limit} is exhausted; retry in {retry_after} s.",
            retry_after=retry_after,
            headers={
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(retry_after),
                "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}",
            },
            limit=limit,
        )

    async def _hit(self, item: RateLimitItem, tenant_id: str) -> bool:
        """Count one request; True when it is within the limit.

        Fixed windows: at most one round trip per key is in flight in a worker; hits that
        arrive meanwhile wait for it and are counted together by the next (INCRBY n). The
        i-th hit of a batch is allowed when ``count - n + i <= limit``: the answers n
        separate INCRs would give, for a fraction of the round trips under load.
        """
        if not self._coalesce:
            return await self.limiter.hit(item, "tenant", tenant_id)
        key = item.key_for("tenant", tenant_id)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.setdefault(key, []).append(future)
        if key not in self._flushing:
            self._flushing[key] = loop.create_task(self._flush(key, item))
        return await future

    async def _flush(self, key: str, item: RateLimitItem) -> None:
        try:
            while batch := self._pending.pop(key, None):
                try:
                    count = await self.storage.incr(key, item.get_expiry(), amount=len(batch))
                except Exception as exc:
                    for future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                first = count - len(batch)
                for position, future in enumerate(batch, 1):
                    if not future.done():
                        future.set_result(first + position <= item.amount)
        finally:
            del self._flushing[key]

    async def reset(self) -> None:
        """Forget every counter (tests and operators)."""
        await self.storage.reset()
