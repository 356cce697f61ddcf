"""Plain Flask: the tiny API written by hand, the handler logic of ``tinymodule.api``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from tinymodule.api import get_item

app = Flask(__name__)


@app.get("/v1/tiny/items/<item_id>")
def item(item_id: str) -> Any:
    """``GET /v1/tiny/items/<item_id>``."""
    return get_item(item_id)
