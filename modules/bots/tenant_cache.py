"""A few seconds of per-tenant memory for what every turn reads and tenants rarely change.

A turn reads the tenant's bots configuration, its template overrides and its newest model
version; each is a database round trip, and together they were a third of a turn's time.
Each worker keeps them for :data:`TTL` seconds: a change made through this worker is seen at
once (the writer forgets the entry), one made through another worker within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["TTL", "cached", "forget"]

T = TypeVar("T")
#: Seconds an entry is kept.
TTL = 5.0
_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, Any]] = {}


def cached(tenant_id: str, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` for this tenant, at most :data:`TTL` seconds old."""
    key = (tenant_id, name)
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < TTL:
        value: T = entry[1]
        return value
    value = compute()
    with _lock:
        if len(_entries) > 50_000:  # many tenants: start again rather than grow forever
            _entries.clear()
        _entries[key] = (now, value)
    return value


def forget(tenant_id: str, prefix: str = "") -> None:
    """Drop the tenant's entries (those whose name starts with ``prefix``)."""
    with _lock:
        for key in [k for k in _entries if k[0] == tenant_id and k[1].startswith(prefix)]:
            del _entries[key]
