"""OpenAPI documents: load a module's, add the shared components, merge a tenant's.

A module's document refers to shared components (Money, Problem, pagination parameters,
security schemes) as if they were its own; :func:`with_shared_components` adds them before
connexion sees it. :func:`merge_documents` builds the one document an integrator generates a
client from: the gateway's operations and those of the modules given, with each module's
paths under ``/<module>`` and its own components prefixed so that names never collide.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from .module import ModuleDefinitionError

__all__ = ["load_document", "merge_documents", "with_shared_components"]

COMPONENT_KINDS = (
    "schemas",
    "parameters",
    "responses",
    "headers",
    "requestBodies",
    "securitySchemes",
    "examples",
    "links",
    "callbacks",
)
TENANT_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearerAuth": []}]


def load_document(source: Path | Traversable) -> dict[str, Any]:
    """Parse an OpenAPI YAML or JSON file into a dict."""
    with source.open("rb") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or "openapi" not in document:
        raise ModuleDefinitionError(f"{source} is not an OpenAPI 3 document")
    return document


@functools.cache
def shared_components() -> dict[str, Any]:
    """The shared components file, parsed once."""
    from almacen.openapi import COMPONENTS

    return dict(load_document(COMPONENTS)["components"])


def with_shared_components(document: Mapping[str, Any], *, module: str | None) -> dict[str, Any]:
    """A copy of ``document`` with the shared components and default security added.

    :raises ModuleDefinitionError: when a module redefines a shared component.
    """
    result = copy.deepcopy(dict(document))
    components = result.setdefault("components", {})
    for kind, shared in shared_components().items():
        own = components.setdefault(kind, {})
        if module is not None:
            clash = sorted(set(own) & set(shared))
            if clash:
                raise ModuleDefinitionError(
                    f"module {module!r} redefines shared {kind}: {', '.join(clash)}"
                )
        for name, value in shared.items():
            own.setdefault(name, copy.deepcopy(value))
    if module is not None:
        result.setdefault("security", TENANT_SECURITY)
    _document_gateway_responses(result)
    return result


def _document_gateway_responses(document: dict[str, Any]) -> None:
    """Add the responses the gateway itself may give before a handler runs.

    Any operation that takes a credential may answer 401 and 403, and a tenant's 429; a module
    author should not have to repeat that in every operation.
    """
    default = document.get("security", [])
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            requirements = operation.get("security", default)
            names = {name for requirement in requirements for name in requirement}
            if not names:
                continue
            responses = operation.get("responses")
            if not isinstance(responses, dict):
                continue  # an invalid operation: leave it for validation to report
            responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
            responses.setdefault("403", {"$ref": "#/components/responses/Forbidden"})
            if names & {"apiKey", "bearerAuth"}:
                responses.setdefault("429", {"$ref": "#/components/responses/TooManyRequests"})


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: renames.get(value, value)
            if key == "$ref" and isinstance(value, str)
            else _rewrite_refs(value, renames)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _is_admin_only(operation: Mapping[str, Any], default: list[Any]) -> bool:
    requirements = operation.get("security", default)
    names = {name for requirement in requirements for name in requirement}
    return bool(names) and names <= {"adminKey"}


def merge_documents(
    gateway: Mapping[str, Any],
    modules: Iterable[tuple[str, str, Mapping[str, Any]]],
    *,
    include_admin: bool,
    title: str = "Almacén API",
    version: str = "1",
) -> dict[str, Any]:
    """One OpenAPI 3.0 document of the gateway and the given ``(name, title, document)`` s.

    :param include_admin: keep the operator-only operations of the gateway.
    """
    shared = shared_components()
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": version,
            "description": "Generated for the caller: the gateway and the modules it may use.",
        },
        "servers": [{"url": "/v1"}],
        "security": TENANT_SECURITY,
        "tags": [],
        "paths": {},
        "components": {kind: dict(values) for kind, values in shared.items()},
    }
    gateway_default = gateway.get("security", [])
    for tag in gateway.get("tags", []):
        if include_admin or tag.get("name") != "admin":
            merged["tags"].append(copy.deepcopy(tag))
    for path, item in gateway.get("paths", {}).items():
        kept = {
            method: copy.deepcopy(operation)
            for method, operation in item.items()
            if method == "parameters"
            or include_admin
            or not _is_admin_only(operation, gateway_default)
        }
        if any(method != "parameters" for method in kept):
            for operation in kept.values():
                if isinstance(operation, dict) and "security" not in operation:
                    operation["security"] = copy.deepcopy(gateway_default)
            merged["paths"][path] = kept
    for kind, values in gateway.get("components", {}).items():
        merged["components"].setdefault(kind, {}).update(copy.deepcopy(values))

    for name, module_title, document in sorted(modules, key=lambda entry: entry[0]):
        prefix = _camel(name)
        renames = {}
        own_components = document.get("components", {})
        for kind, values in own_components.items():
            for component in values:
                if component not in shared.get(kind, {}):
                    renames[f"#/components/{kind}/{component}"] = (
                        f"#/components/{kind}/{prefix}{component}"
                    )
        rewritten = _rewrite_refs(copy.deepcopy(dict(document)), renames)
        for kind, values in rewritten.get("components", {}).items():
            for component, value in values.items():
                if component in shared.get(kind, {}):
                    continue
                merged["components"].setdefault(kind, {})[f"{prefix}{component}"] = value
        default_security = rewritten.get("security", TENANT_SECURITY)
        for path, item in rewritten.get("paths", {}).items():
            for method, operation in item.items():
                if method == "parameters" or not isinstance(operation, dict):
                    continue
                operation.setdefault("tags", [name])
                operation.setdefault("security", default_security)
                if "operationId" in operation:
                    operation["operationId"] = f"{name}.{operation['operationId']}"
            merged["paths"][f"/{name}{path}"] = item
        merged["tags"].append(
            {"name": name, "description": document.get("info", {}).get("description", module_title)}
        )
    return merged
