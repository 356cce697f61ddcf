"""The one error of templates: a 422 problem that names the part and the data at fault.

::

    UnprocessableError (gateway)
    └── TemplateProblem   unknown template or locale, bad syntax, missing variable,
                          sandbox violation, a value a filter cannot format
"""

from __future__ import annotations

from almacen.gateway.errors import UnprocessableError

__all__ = ["TemplateProblem"]


class TemplateProblem(UnprocessableError):
    """Raised when a template cannot be stored or rendered; ``errors`` carry JSON pointers.

    Preview returns it as a 422 problem; the sending owner returns the same at send.
    """

    @classmethod
    def at(cls, pointer: str, detail: str) -> TemplateProblem:
        """One fault at ``pointer`` (a JSON pointer into the request)."""
        return cls(detail, errors=[{"pointer": pointer, "detail": detail}])
