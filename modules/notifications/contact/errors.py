"""The contact policy's exceptions.

::

    UnprocessableError (gateway)
    └── ContactProblem        422 a contact check or consent cannot be evaluated as asked
    BadRequestError (gateway)
    └── BadUnsubscribeToken   400 an unsubscribe link is malformed or tampered with (tokens.py)
"""

from __future__ import annotations

import re

from almacen.gateway.errors import UnprocessableError

__all__ = ["ContactProblem", "check_text", "fault"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ContactProblem(UnprocessableError):
    """Raised when the recipient, channel, time zone or country of a check is unusable.

    Its ``errors`` name each fault with a JSON pointer into the request (``/time_zone``).
    """

    # The ``unprocessable`` problem type (docs/problems.md): clients branch on the pointers.


def fault(pointer: str, detail: str) -> ContactProblem:
    """A :class:`ContactProblem` with one fault at ``pointer``."""
    return ContactProblem(f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}])


def check_text(value: str | None, pointer: str) -> None:
    """Refuse an identifier or address with control characters (NUL breaks PostgreSQL).

    :raises ContactProblem: at ``pointer``.
    """
    if value is not None and _CONTROL.search(value):
        raise fault(pointer, "must not contain control characters")
