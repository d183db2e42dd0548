"""The domain's errors carry no HTTP status; the web layer's one table gives each its status."""

from __future__ import annotations

import importlib
import pkgutil

import admin
import registry
import workflows
from registry.oversight.complaints import RateLimited
from registry.web.errors import STATUS_OF, status_of
from workflows.errors import Conflict, Forbidden, NotFound, Refused, TransitionError


def _import_everything() -> None:
    """Load every module of the app, so every subclass of TransitionError is defined."""
    for package in (registry, workflows, admin):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if "piccolo_migrations" in module.name or module.name.endswith("__main__"):
                continue
            importlib.import_module(module.name)


def _subclasses(kind: type[TransitionError]) -> set[type[TransitionError]]:
    direct = set(kind.__subclasses__())
    return direct.union(*(_subclasses(sub) for sub in direct))


def test_every_domain_error_has_a_status_and_carries_none() -> None:
    _import_everything()
    kinds = _subclasses(TransitionError)
    assert {NotFound, Forbidden, Conflict, Refused} <= kinds
    unmapped = [k.__qualname__ for k in kinds if not any(c in STATUS_OF for c in k.__mro__)]
    assert unmapped == []
    carrying = [k.__qualname__ for k in kinds | {TransitionError} if hasattr(k, "status_code")]
    assert carrying == []


def test_status_of_answers_the_http_status_of_each_refusal() -> None:
    assert [status_of(kind("x")) for kind in (NotFound, Forbidden, Conflict, Refused)] == [
        404,
        403,
        409,
        422,
    ]
    assert status_of(RateLimited("x", retry_after=60)) == 429
    assert status_of(TransitionError("x")) == 422
