"""What the workers of one deployment share: event counts and leases.

`registry serve --workers N` runs N processes (and a restart starts new ones), so nothing that
must hold across requests may live in one process's memory. `shared_store()` answers the
store every worker reaches: the database by default, Redis when REGISTRY_REDIS_URL is set.
"""

from __future__ import annotations

from registry.shared.store import SharedStore, shared_store, worker_holder

__all__ = ["SharedStore", "shared_store", "worker_holder"]
