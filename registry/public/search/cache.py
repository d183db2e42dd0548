"""Recent search answers kept by each worker, valid for one whitelist generation.

Parents search the same few words all morning (篮球, 舞蹈, a district): an answer computed once
serves the next identical request until the whitelist changes. The generation
(registry/public/search/generation.py) moves in the transaction that changes any entry, so a
suspension leaves every worker's answers at once: each request reads the generation first (one
indexed row) and an answer is only reused under the generation it was computed for.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

# An answer is a page of 20–100 items: a few hundred kept cost a few megabytes per worker.
MAX_ANSWERS = 256

Answer = TypeVar("Answer")


class AnswerCache(Generic[Answer]):
    """Least recently used answers of one generation; a new generation empties it."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self.generation: Hashable | None = None
        self.answers: OrderedDict[Hashable, Answer] = OrderedDict()

    def _at(self, generation: Hashable) -> None:
        if generation != self.generation:
            self.answers.clear()
            self.generation = generation

    def get(self, generation: Hashable, key: Hashable) -> Answer | None:
        """The answer kept for `key` under `generation`, if any."""
        self._at(generation)
        answer = self.answers.get(key)
        if answer is not None:
            self.answers.move_to_end(key)
        return answer

    def put(self, generation: Hashable, key: Hashable, answer: Answer) -> None:
        """Keep an answer computed at `generation` (or later: see run_search)."""
        self._at(generation)
        self.answers[key] = answer
        self.answers.move_to_end(key)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)
