"""Tables of the notifications module (message_tables)."""

from __future__ import annotations

__all__: list[str] = []
