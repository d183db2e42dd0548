"""Clients logged in as cast members (the API tests' fixture)."""

from __future__ import annotations

from tests.api.conftest import Client, Login, login

__all__ = ["Client", "Login", "login"]
