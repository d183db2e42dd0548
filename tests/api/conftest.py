"""HTTP clients against the real app (in this event loop), logged in as cast members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from litestar import Litestar

from tests.cast import PASSWORD
from tests.conftest import http_client

Client = httpx.AsyncClient
Login = Callable[[str], Awaitable[Client]]


@pytest.fixture
async def login(db: object, app: Litestar) -> AsyncIterator[Login]:
    """Log a cast member in; the client sends the CSRF header on every write."""
    clients: list[Client] = []

    async def _login(username: str) -> Client:
        client = http_client(app)
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        await client.get("/api/v1/health")  # sets the registry_csrf cookie
        client.headers["X-CSRFToken"] = client.cookies["registry_csrf"]
        return client

    yield _login
    for client in clients:
        await client.aclose()
