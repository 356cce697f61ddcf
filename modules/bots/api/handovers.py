"""``/handovers``: the queue of conversations waiting for a person, with transcripts."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import service
from ..schemas import HandoverSchema, TurnSchema

__all__ = ["search"]


def search(limit: int = 50, cursor: str | None = None, status: str | None = None) -> dict[str, Any]:
    """A page of the queue, oldest first, each with its conversation's transcript."""
    page, transcripts = service.handovers(
        request_session(), status=status, limit=limit, cursor=cursor
    )
    items = [
        {
            **HandoverSchema().dump(item),
            "transcript": TurnSchema().dump(transcripts[item.conversation_id], many=True),
        }
        for item in page.items
    ]
    return {"items": items, "next": page.next_cursor}
