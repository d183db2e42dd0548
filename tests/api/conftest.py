"""HTTP clients against the real app (in this event loop), logged in as cast members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from litestar import Litestar

from registry.app import create_app
from tests.cast import PASSWORD

Client = httpx.AsyncClient
Login = Callable[[str], Awaitable[Client]]


@pytest.fixture(scope="session")
def app() -> Litestar:
    """Built once: the app holds no database handle (tables are bound per test)."""
    return create_app()


def _client(app: Litestar) -> Client:
    # httpx's ASGI transport runs the app in the test's own event loop, next to the database.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def anonymous(db: object, app: Litestar) -> AsyncIterator[Client]:
    async with _client(app) as client:
        yield client


@pytest.fixture
async def login(db: object, app: Litestar) -> AsyncIterator[Login]:
    """Log a cast member in; the client sends the CSRF header on every write."""
    clients: list[Client] = []

    async def _login(username: str) -> Client:
        client = _client(app)
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        await client.get("/api/v1/health")  # sets the csrftoken cookie
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        return client

    yield _login
    for client in clients:
        await client.aclose()
