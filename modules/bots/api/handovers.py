"""``/handovers``: the queue of conversations waiting for a person, with transcripts."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import handover_work, service
from ..schemas import HandoverSchema, TurnSchema

__all__ = ["resolve", "search", "take"]


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


def _with_transcript(item: Any) -> dict[str, Any]:
    turns = service.transcript(request_session(), [item.conversation_id])[item.conversation_id]
    return {**HandoverSchema().dump(item), "transcript": TurnSchema().dump(turns, many=True)}


def take(handover_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An agent takes a waiting item (409 when another has it or it is resolved)."""
    item = handover_work.take(request_session(), handover_id, agent=body["agent"])
    return _with_transcript(item)


def resolve(handover_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Close an item with its resolution (announced as ``bots.handover_resolved``)."""
    item = handover_work.resolve(
        request_session(),
        handover_id,
        resolution=body["resolution"],
        agent=body.get("agent"),
        note=body.get("note"),
    )
    return _with_transcript(item)
