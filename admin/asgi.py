"""Small ASGI helpers for the admin wrapper: buffered answers, rewritten bodies, JSON refusals."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope

Send = Callable[[Message], Awaitable[None]]


def status_of(messages: list[Message]) -> int:
    """The status of a buffered answer (500 if it never started)."""
    for message in messages:
        if message["type"] == "http.response.start":
            return int(message["status"])
    return 500


def body_of(messages: list[Message]) -> bytes:
    """The whole body of a buffered answer."""
    return b"".join(
        message.get("body", b"") for message in messages if message["type"] == "http.response.body"
    )


def is_json(messages: list[Message]) -> bool:
    """Whether a buffered answer says it is JSON."""
    for message in messages:
        if message["type"] == "http.response.start":
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    return b"json" in value.lower()
    return False


def with_body(messages: list[Message], body: bytes) -> list[Message]:
    """The buffered answer with another body (and a Content-Length that matches)."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    return [{**start, "headers": headers}, {"type": "http.response.body", "body": body}]


def json_answer(status: int, detail: str) -> list[Message]:
    """A JSON answer {"detail": …} as piccolo-admin's UI shows refusals."""
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json")],
    }
    return with_body([start], body)


def dump_json(data: Any) -> bytes:
    """JSON as piccolo answers it (UTF-8)."""
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


async def buffered(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    """Run the app and keep its answer instead of sending it."""
    messages: list[Message] = []

    async def capture(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, capture)
    return messages


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app `body` once, then waits on the real one."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def with_content_length(scope: Scope, length: int) -> Scope:
    """The scope with its Content-Length header set to a rewritten body's length."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


async def send_all(send: Send, messages: list[Message]) -> None:
    """Send a buffered answer."""
    for message in messages:
        await send(message)
