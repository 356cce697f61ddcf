"""Tables of the notifications module (contact_tables)."""

from __future__ import annotations

__all__: list[str] = []
