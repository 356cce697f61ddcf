"""The Jinja2 environments templates render in: immutable sandboxes with strict variables.

Tenants write templates, so a template is untrusted code. :class:`ImmutableSandboxedEnvironment`
refuses attributes that start with ``_`` (``''.__class__``, ``self._TemplateReference__context``)
and methods that mutate; the globals (``cycler``, ``joiner``, ``range``, ``lipsum``…) are
removed so that nothing but the message's data is in reach; :class:`StrictUndefined` turns a
missing variable into an error instead of an empty string. What the sandbox does not bound —
memory — is bounded here: ``*``, ``**`` and ``%`` are checked before they run, the padding
filters are capped, and rendering stops once the output passes :data:`MAX_OUTPUT` characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, Undefined
from jinja2.exceptions import SecurityError
from jinja2.filters import do_indent
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .formatting import FILTERS

__all__ = ["MAX_OUTPUT", "RenderLimitError", "compiled", "render_source"]

#: Most characters one part of a message may render to (an e-mail's HTML included).
MAX_OUTPUT = 200_000
#: Largest exponent ``**`` accepts.
MAX_EXPONENT = 64
#: Widest ``%`` field or padding filter.
MAX_WIDTH = 1_000

_WIDTH = re.compile(r"%[-#0 +]*(?:\*|(\d+))?(?:\.(\*|\d+))?")


class RenderLimitError(SecurityError):
    """Raised when a template would build more than the limits allow."""


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_width(template: Any) -> None:
    if not isinstance(template, str):
        return
    for match in _WIDTH.finditer(template):
        for group in match.groups():
            if group == "*" or (group and int(group) > MAX_WIDTH):
                raise RenderLimitError(f"a format field wider than {MAX_WIDTH}")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with arithmetic that cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _size(sequence)
                if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT:
                    raise RenderLimitError(f"a repetition longer than {MAX_OUTPUT}")
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise RenderLimitError(f"an exponent above {MAX_EXPONENT}")
        elif operator == "%":
            _check_width(left)
        return super().call_binop(context, operator, left, right)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_width(value)
    return str(value) % (kwargs or args)


def _center(value: Any, width: int = 80) -> str:
    if width > MAX_WIDTH:
        raise RenderLimitError(f"a width above {MAX_WIDTH}")
    return str(value).center(width)


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    too_wide = width > MAX_WIDTH if isinstance(width, int) else len(str(width)) > MAX_WIDTH
    if too_wide:
        raise RenderLimitError(f"an indent above {MAX_WIDTH}")
    return do_indent(str(value), width, first, blank)


def _data_only(value: Any) -> Any:
    # What ``{{ … }}`` prints: a method or a class would print its repr (an address in memory).
    if callable(value) and not isinstance(value, Undefined):
        raise SecurityError("a template prints data, not functions or classes")
    return value


@functools.cache
def _environment(html: bool) -> _Sandbox:
    """One sandbox per kind of part: HTML bodies autoescape, text and subjects do not."""
    environment = _Sandbox(
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        finalize=_data_only,
    )
    environment.globals.clear()
    environment.filters.update(FILTERS)
    environment.filters.update({"format": _format, "center": _center, "indent": _indent})
    return environment


@functools.lru_cache(maxsize=1024)
def compiled(source: str, html: bool = False) -> Template:
    """``source`` compiled in its sandbox (cached: templates are rendered far more often than
    they change, and a compiled template is safe to share between threads).

    :raises jinja2.TemplateSyntaxError: when ``source`` is not a template.
    """
    return _environment(html).from_string(source)


def render_source(source: str, data: Mapping[str, Any], *, html: bool = False) -> str:
    """Render ``source`` with ``data``, stopping once the output passes :data:`MAX_OUTPUT`.

    :raises jinja2.TemplateError: on a syntax error, a missing variable or a sandbox violation.
    """
    parts: list[str] = []
    size = 0
    for chunk in compiled(source, html).generate(dict(data)):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise RenderLimitError(f"the output passes {MAX_OUTPUT} characters")
        parts.append(chunk)
    return "".join(parts)
