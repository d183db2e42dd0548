"""Evaluation tests reuse the logged-in API clients."""

from tests.api.conftest import login

__all__ = ["login"]
