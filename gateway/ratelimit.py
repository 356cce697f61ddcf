"""Per-tenant rate limits with the ``limits`` library, in memory or in Redis.

Memory counts per process; Redis (``rate_limit_storage = redis://…``) makes a limit hold
across gunicorn workers and replicas. When the storage cannot be reached the limiter fails
open: the request is served, and the failure is logged and counted.
"""

from __future__ import annotations

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

    async def hit(self, tenant_id: str, limit: str) -> None:
        """Count one request; raise :class:`RateLimitedError` when over the limit."""
        item = _parse(limit)
        try:
            allowed = await self.limiter.hit(item, "tenant", tenant_id)
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

    async def reset(self) -> None:
        """Forget every counter (tests and operators)."""
        await self.storage.reset()
