"""Placeholder: filled by the engineer who owns it."""

from __future__ import annotations

__all__: list[str] = []
