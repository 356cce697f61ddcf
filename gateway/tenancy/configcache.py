"""A few seconds of per-worker memory of each tenant's module configurations.

Every module request read its tenant's subscription row and loaded it through the module's
marshmallow schema (a round trip and a schema load, about a sixth of a payment's CPU), for a
value that changes a few times a year. :func:`~.service.module_config` keeps the loaded value
here, keyed by tenant, module and schema, for ``ttl`` seconds (the app uses
``auth_cache_seconds``, the bound the authenticator already puts on a subscription change).

A change made through this worker is seen at once: :func:`~.service.subscribe` and
:func:`~.service.unsubscribe` forget the tenant's entries when they write and again when their
transaction commits, and their own session reads around the cache. One made through another
worker or process is seen within ``ttl`` seconds. Entries are keyed by tenant id and filled
only from a session opened for that tenant, so one tenant's settings are never served to
another.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ConfigCache"]

#: Past this many entries the cache starts again rather than grow without bound.
MAX_ENTRIES = 50_000


class ConfigCache:
    """Loaded module configurations per ``(tenant, module, schema)``, kept ``ttl`` seconds.

    :param ttl: seconds an entry is served; 0 disables the cache.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        # Values are kept pickled: unpickling makes each caller's copy in a tenth of the time
        # copy.deepcopy took (which was a twentieth of a payment's CPU).
        self._entries: dict[tuple[str, str, type[Any]], tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        # Bumped by forget(): a load that started before it must not refill the cache.
        self._generation = 0

    def get(
        self,
        tenant_id: str,
        module: str,
        schema: type[Any],
        load: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """The tenant's configuration of ``module``: cached, or ``load()`` ed and kept.

        Each caller gets its own deep copy, so that changing it changes nothing else.
        """
        if self.ttl <= 0:
            return load()
        key = (tenant_id, module, schema)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            found: dict[str, Any] = pickle.loads(entry[1])  # noqa: S301 (our own bytes)
            return found
        generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        return value

    def forget(self, tenant_id: str) -> None:
        """Drop the tenant's entries (its subscriptions changed)."""
        with self._lock:
            self._generation += 1
            for key in [key for key in self._entries if key[0] == tenant_id]:
                del self._entries[key]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
