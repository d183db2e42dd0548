"""Reads wait their turn; writes go straight in.

On one event loop, every awaiting request resumes in turn: with dozens of reads in flight, a
write that holds SQLite's write lock waits behind all of them at each of its statements, and
other workers' writers wait for the lock meanwhile (the mixed-load benchmark: writes took 4–6 s
behind 40 reading connections). At most READS_AT_ONCE reads run at a time per worker; the rest
wait on a semaphore, which costs the loop nothing, so a write's statements resume quickly.
Writes (and anything that is not a read) are never held back, and a read gives its place up
as soon as its answer starts.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Message, Receive, Scope, Send

# Measured at 100,000 providers (benchmarks/http_load.py): with 3, one worker served health at
# 1,868 req/s and a repeated search at 1,525 (1,342 and 890 unbounded), and in the mixed load
# writes went through 2.4 times as often as with 8, at the cost of a third of the searches.
READS_AT_ONCE = 3
_READS = frozenset({"GET", "HEAD"})


def admission(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: bound the reads in flight, let the rest through."""
    slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    async def admit(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _READS:
            await app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        slot = slots.get(loop)
        if slot is None:
            slot = slots[loop] = asyncio.Semaphore(READS_AT_ONCE)
        await slot.acquire()
        holding = True

        async def send_releasing(message: Message) -> None:
            # The answer is computed once it starts: a slow phone reading it must not keep
            # the slot while its bytes trickle out.
            nonlocal holding
            if holding and message["type"] == "http.response.start":
                holding = False
                slot.release()
            await send(message)

        try:
            await app(scope, receive, send_releasing)
        finally:
            if holding:
                slot.release()

    return admit
