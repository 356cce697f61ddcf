"""Request validation against the OpenAPI contract, with compiled validators cached.

connexion 3.3 builds a new JSON-Schema validator for every body and every parameter of every
request; schemas do not change after start-up, so we compile each one once (keyed by the
schema object, which lives as long as the app). Errors name every fault and where it is: a
JSON pointer into the body, or the parameter and its location.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from .errors import BadRequestError, RequestValidationError

__all__ = ["validator_map"]

_FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER
_compiled: dict[int, tuple[Any, Validator]] = {}


#: Integers the databases can store (SQLite's INTEGER and PostgreSQL's BIGINT are 64-bit):
#: a larger one in a request is a contract fault, never a 500 from the driver.
INT64 = (-(2**63), 2**63 - 1)


def _is_int64(checker: Any, instance: Any) -> bool:
    return bool(
        Draft4Validator.TYPE_CHECKER.is_type(instance, "integer")
        and INT64[0] <= instance <= INT64[1]
    )


@functools.cache
def _int64(cls: Any) -> Any:
    checker = cls.TYPE_CHECKER.redefine("integer", _is_int64)
    return validators.extend(cls, type_checker=checker)  # type: ignore[no-untyped-call]


def _compiled_validator(schema: dict[str, Any], cls: Any) -> Validator:
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        # Keep a reference to the schema so its id cannot be reused by another object.
        entry = (schema, _int64(cls)(schema, format_checker=_FORMAT_CHECKER))
        _compiled[id(schema)] = entry
    return entry[1]


def _pointer(path: Any) -> str:
    """RFC 6901: "" is the whole document, "/a/0" a member of a member."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _faults(error: ValidationError) -> list[dict[str, str]]:
    """One fault per offending member: a missing or unexpected member gets its own pointer."""
    path = list(error.absolute_path)
    instance, schema, expected = error.instance, error.schema, error.validator_value
    members: list[str] = []
    if isinstance(instance, dict):
        if error.validator == "required" and isinstance(expected, list):
            members = [name for name in expected if name not in instance]
        elif error.validator == "additionalProperties" and isinstance(schema, dict):
            known = schema.get("properties", {})
            members = [name for name in instance if name not in known]
    if not members:
        return [{"pointer": _pointer(path), "detail": error.message}]
    return [{"pointer": _pointer([*path, name]), "detail": error.message} for name in members]


class BodyValidator(JSONRequestBodyValidator):
    """JSON bodies: compiled once; every error reported with its JSON pointer."""

    @property
    def _validator(self) -> Validator:
        return _compiled_validator(self._schema, Draft4RequestValidator)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        # connexion answers a missing required body with a problem of its own, without
        # ``errors``; report it like every other fault.
        empty = not int(Headers(scope=scope).get("content-length", 0))
        if empty and self._required and self._schema.get("default") is None:
            raise RequestValidationError(
                "The request body is required.", errors=[{"pointer": "", "detail": "missing"}]
            )
        wrapped: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)
        return wrapped

    async def _parse(self, stream: Any, scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            return json.loads(raw.decode(self._encoding))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestError(
                f"The body is not valid JSON: {exc}",
                errors=[{"pointer": "", "detail": str(exc)}],
            ) from None

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            if self._nullable or not self._required:
                return None
            raise RequestValidationError(
                "The request body is required.", errors=[{"pointer": "", "detail": "missing"}]
            )
        errors = sorted(self._validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            details = [fault for error in errors for fault in _faults(error)]
            summary = "; ".join(f"{d['pointer'] or '/'}: {d['detail']}" for d in details[:3])
            raise RequestValidationError(f"Invalid body: {summary}", errors=details)
        return None


class ParametersValidator(ParameterValidator):
    """Query, path, header and cookie parameters, with compiled schemas and named faults."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is not None:
            if param.get("nullable") and value in ("null", "None", None):
                return None
            schema = param.get("schema", param)
            error = next(
                iter(_compiled_validator(schema, Draft4Validator).iter_errors(value)), None
            )
            return None if error is None else error.message
        if param.get("required"):
            return "is required"
        return None

    def validate_request(self, request: Any) -> None:
        if self.strict_validation:
            extra = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            if extra:
                raise RequestValidationError(
                    f"Unknown query parameters: {', '.join(sorted(extra))}.",
                    errors=[
                        {"parameter": name, "in": "query", "detail": "unknown parameter"}
                        for name in sorted(extra)
                    ],
                )
        errors = []
        checks = (
            ("query", self.validate_query_parameter),
            ("path", self.validate_path_parameter),
            ("header", self.validate_header_parameter),
            ("cookie", self.validate_cookie_parameter),
        )
        for location, check in checks:
            for param in self.parameters.get(location, []):
                message = check(param, request)
                if message:
                    errors.append({"parameter": param["name"], "in": location, "detail": message})
        if errors:
            summary = "; ".join(f"{e['in']} {e['parameter']}: {e['detail']}" for e in errors[:3])
            raise RequestValidationError(f"Invalid parameters: {summary}", errors=errors)


def validator_map() -> dict[str, Any]:
    """connexion's validator map with our body and parameter validators."""
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = BodyValidator
    return {**VALIDATOR_MAP, "parameter": ParametersValidator, "body": body}
