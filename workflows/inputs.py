"""A transition's input as the API and the pages both hand it to `engine.fire`.

The adapters collect different shapes (a JSON body, a page form with a supplement list); this
turns either into the engine's (reason, message, params), so the same request writes the same
audit row whichever way it came in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TransitionInput:
    """What `engine.fire` takes besides the listing, the action, the actor and the version."""

    reason: str = ""
    message: str = ""
    # Strings, and for request_supplement "items": the list of what to add or correct.
    params: dict[str, Any] = field(default_factory=dict)


# "1. ", "2、", "（3）", "- " (not the "1." of "1.5小时"): a reviewer's own numbering; the
# registry numbers the items itself.
_NUMBERING = re.compile(r"^\s*(?:[（(]?\d{1,3}\s*(?:[)）、:：]|[.．](?!\d))|[-*•·])\s*")


def supplement_item_texts(items: Sequence[str]) -> list[str]:
    """The request's items as the provider will see them: trimmed, unnumbered, none blank."""
    texts = [_NUMBERING.sub("", item.strip(), count=1).strip() for item in items]
    return [text for text in texts if text]


def transition_input(
    action: str,
    *,
    reason: str = "",
    message: str = "",
    supplement_items: Sequence[str] = (),
    due: str | None = None,
    exit_reason: str | None = None,
) -> TransitionInput:
    """Trim what was typed; fold a supplement request's list into its reason and message."""
    reason, message = reason.strip(), message.strip()
    items = [item.strip() for item in supplement_items if item.strip()]
    if action == "request_supplement" and items:
        listed = "\n".join(items)
        # The list is the supplement's reason when no internal note is given (the table
        # requires one), and it leads the message: the provider reads only the message.
        reason = reason or listed
        message = "\n\n".join(x for x in (listed, message) if x)
    params: dict[str, Any] = {
        key: value.strip()
        for key, value in (("due", due), ("exit_reason", exit_reason))
        if value and value.strip()
    }
    if action == "request_supplement" and items:
        # Each item is stored and answered on its own (registry/applications/supplements.py).
        params["items"] = supplement_item_texts(items)
    return TransitionInput(reason, message, params)
