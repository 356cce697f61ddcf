"""Idempotency-Key support: safe retries of POST requests."""

from __future__ import annotations

from .models import IdempotencyRecord as IdempotencyRecord

__all__ = ["IdempotencyRecord"]
