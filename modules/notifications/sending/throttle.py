"""Per-tenant and per-channel sending rates, counted with the ``limits`` library.

The storage is the gateway's rate-limit storage (``rate_limit_storage``): in memory each
worker counts alone; on Redis the limit holds across every worker and replica. When the
storage cannot be reached the throttle fails open (a rate is a courtesy to providers, the
contact policy is the law and is checked elsewhere).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

__all__ = ["Throttle"]

logger = logging.getLogger("almacen.notifications")
#: A rate and the suffix of its counter's key (``*`` for the tenant's, else the channel).
Rate = tuple[RateLimitItem, str]


@functools.lru_cache(maxsize=256)
def _parse(limit: str) -> RateLimitItem | None:
    try:
        return parse(limit)
    except ValueError:
        logger.warning("ignoring the unreadable sending rate %r", limit)
        return None


class Throttle:
    """Says whether one more message of a tenant on a channel may go now.

    :param storage_uri: ``memory://`` or ``redis://host:port/db``.
    :param strategy: ``fixed-window`` or ``moving-window``.
    """

    def __init__(self, storage_uri: str, *, strategy: str = "fixed-window") -> None:
        storage = storage_from_string(storage_uri)
        cls: type[RateLimiter] = (
            MovingWindowRateLimiter if strategy == "moving-window" else FixedWindowRateLimiter
        )
        self.limiter = cls(storage)

    def limits_for(
        self, config: Mapping[str, Any], channel: str
    ) -> list[tuple[RateLimitItem, str]]:
        """The tenant's rate and its channel's (when set), each with its key suffix."""
        found: list[tuple[RateLimitItem, str]] = []
        tenant_rate = _parse(str(config.get("send_rate_limit") or ""))
        if tenant_rate is not None:
            found.append((tenant_rate, "*"))
        channel_rate = (config.get("channel_rate_limits") or {}).get(channel)
        item = _parse(str(channel_rate)) if channel_rate else None
        if item is not None:
            found.append((item, channel))
        return found

    def acquire(
        self, tenant_id: str, channel: str, config: Mapping[str, Any]
    ) -> dt.timedelta | None:
        """Count one message; None when it may go, else how long until it may."""
        try:
            rates = self.limits_for(config, channel)
            if len(rates) == 1:
                # One rate (the common case): one round trip. A refused hit counts nothing
                # the window would not refuse anyway (it is full until it resets).
                item, suffix = rates[0]
                if self.limiter.hit(item, "notifications-send", tenant_id, suffix):
                    return None
                return self._wait(item, tenant_id, suffix)
            for item, suffix in rates:
                if not self.limiter.test(item, "notifications-send", tenant_id, suffix):
                    return self._wait(item, tenant_id, suffix)
            for item, suffix in rates:
                self.limiter.hit(item, "notifications-send", tenant_id, suffix)
        except Exception:
            logger.exception("sending-rate storage unreachable; message allowed (fail open)")
        return None

    def _wait(self, item: RateLimitItem, tenant_id: str, suffix: str) -> dt.timedelta:
        """How long until the window of ``item`` lets one more message go."""
        stats = self.limiter.get_window_stats(item, "notifications-send", tenant_id, suffix)
        return dt.timedelta(seconds=max(stats.reset_time - time.time(), 0.05))
