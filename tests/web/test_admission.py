"""Reads in flight are bounded per worker; writes and answers already under way are not."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.types import Message, Receive, Scope, Send

from registry.web.admission import READS_AT_ONCE, admission


class Backend:
    """An app whose reads block until `go` is set; `started` lists what it began."""

    def __init__(self, answer_first: bool = False) -> None:
        self.go = asyncio.Event()
        self.started: list[str] = []
        self.answer_first = answer_first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started.append(scope["method"])
        if scope["method"] == "GET":
            if self.answer_first:  # the answer starts, then its body takes its time
                await send({"type": "http.response.start", "status": 200, "headers": []})
            await self.go.wait()
        if not (self.answer_first and scope["method"] == "GET"):
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(method: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def ignore(message: Message) -> None:
    return None


async def test_a_write_goes_in_while_reads_wait_their_turn() -> None:
    backend = Backend()
    app = admission(backend)
    reads = [asyncio.create_task(app(request("GET"), receive, ignore)) for _ in range(12)]
    await asyncio.sleep(0.01)
    assert backend.started.count("GET") == READS_AT_ONCE  # the other four wait
    await asyncio.wait_for(app(request("POST"), receive, ignore), timeout=1)
    assert backend.started[-1] == "POST"
    backend.go.set()
    await asyncio.wait_for(asyncio.gather(*reads), timeout=1)
    assert backend.started.count("GET") == 12


async def test_a_read_whose_answer_has_started_gives_its_place_up() -> None:
    backend = Backend(answer_first=True)
    app = admission(backend)
    slow = [asyncio.create_task(app(request("GET"), receive, ignore)) for _ in range(12)]
    await asyncio.sleep(0.01)
    # Every one began: each answer started, freeing its place for the next.
    assert backend.started.count("GET") == 12
    backend.go.set()
    await asyncio.wait_for(asyncio.gather(*slow), timeout=1)
