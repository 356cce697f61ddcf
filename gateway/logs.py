"""Structured logging: one JSON object a line, with the request id of the current request."""

from __future__ import annotations

import json
import logging
import sys
import time

from .requestcontext import current_request_id

__all__ = ["JSONFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", *, as_json: bool = True) -> None:
    """Send ``almacen.*`` logs to stderr, as JSON unless told otherwise. Idempotent."""
    logger = logging.getLogger("almacen")
    logger.setLevel(level.upper())
    for handler in logger.handlers:
        if getattr(handler, "_almacen", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._almacen = True  # type: ignore[attr-defined]
    if as_json:
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
