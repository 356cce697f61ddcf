"""Small helper objects so tests read as user actions: an operator and a tenant."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclasses.dataclass
class TenantHandle:
    """A tenant as a test sees it: its ids, its key, and a client that sends the key."""

    id: str
    slug: str
    key: str
    key_id: str
    client: Any

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate as this tenant."""
        return {"X-API-Key": self.key}

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET as this tenant."""
        return self.client.get(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST as this tenant."""
        return self.client.post(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def put(self, path: str, **kwargs: Any) -> Any:
        """PUT as this tenant."""
        return self.client.put(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def patch(self, path: str, **kwargs: Any) -> Any:
        """PATCH as this tenant."""
        return self.client.patch(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE as this tenant."""
        return self.client.delete(
            path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )


class Admin:
    """An operator calling the admin API with the test admin token."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.headers = {"X-API-Key": token}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any admin request; the response is returned unchecked."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def create_tenant(self, slug: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create a tenant, asserting success."""
        slug = slug or f"t-{uuid.uuid4().hex[:12]}"
        response = self.request("POST", "/v1/tenants", json={"slug": slug, "name": slug, **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def create_key(self, tenant_id: str) -> dict[str, Any]:
        """Issue a key, asserting success."""
        response = self.request("POST", f"/v1/tenants/{tenant_id}/keys", json={"name": "test"})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def subscribe(self, tenant_id: str, module: str, config: dict[str, Any] | None = None) -> Any:
        """Subscribe a tenant to a module; the response is returned unchecked."""
        return self.request(
            "PUT", f"/v1/tenants/{tenant_id}/subscriptions/{module}", json={"config": config or {}}
        )

    def new_tenant(
        self,
        *,
        modules: list[str] = (),
        client: Any = None,
        **fields: Any,  # type: ignore[assignment]
    ) -> TenantHandle:
        """A tenant with a key, subscribed to ``modules``."""
        tenant = self.create_tenant(**fields)
        for module in modules:
            response = self.subscribe(tenant["id"], module)
            assert response.status_code == 200, response.text
        key = self.create_key(tenant["id"])
        return TenantHandle(
            id=tenant["id"],
            slug=tenant["slug"],
            key=key["secret"],
            key_id=key["id"],
            client=client or self.client,
        )


def assert_problem(response: Any, status: int, *, slug: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem of ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = dict(response.json())
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    if slug is not None:
        assert body["type"].endswith("/" + slug), body["type"]
    assert "Traceback" not in response.text
    return body
