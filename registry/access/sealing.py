"""Sealing what is stored already: rows written before encryption, and after a key rotation.

Raw SQL over the columns, not the Table classes, so that a migration can run it against the
schema as it is at that point. Every function is idempotent: a value already sealed (under
the current key, for `reseal_all`) is left as it is.

The columns that hold one number each (`SEALED_COLUMNS`) and the application forms' JSON
(`FORM_COLUMNS`, sealed leaf by leaf: personal_data.seal_form) are done apart, since they were
sealed by different migrations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from registry.access import personal_data as pd
from registry.keys import keyring

# (table, column, kind): every column that holds a sealed value.
SEALED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("organisation", "resident_id", pd.RESIDENT_ID),
    ("organisation", "contact_phone", pd.PHONE),
    ("complaint", "contact", pd.CONTACT),
    ("objection", "contact", pd.CONTACT),
)
# (table, column): every JSON column holding an application form with sealed leaves.
FORM_COLUMNS: tuple[tuple[str, str], ...] = (("listing", "form"), ("form_snapshot", "form"))


async def _rows(engine: Engine[Any], table: str, column: str) -> list[dict[str, Any]]:
    query = f'SELECT "id", "{column}" AS value FROM "{table}" WHERE "{column}" IS NOT NULL'
    rows: list[dict[str, Any]] = await engine.run_querystring(QueryString(query))
    return rows


async def _update(engine: Engine[Any], table: str, values: dict[str, Any], row_id: int) -> None:
    assignments = ", ".join(f'"{name}" = {{}}' for name in values)
    await engine.run_querystring(
        QueryString(
            f'UPDATE "{table}" SET {assignments} WHERE "id" = {{}}', *values.values(), row_id
        )
    )


async def _rewrite(engine: Engine[Any], needs: Callable[[str], bool]) -> int:
    """Seal every stored value for which `needs(value)`; fill the resident ID's hash."""
    changed = 0
    for table, column, kind in SEALED_COLUMNS:
        for row in await _rows(engine, table, column):
            stored = str(row["value"])
            if not stored.strip() or not needs(stored):
                continue
            values: dict[str, Any] = {column: pd.reseal(stored, kind)}
            if kind == pd.RESIDENT_ID:
                values["resident_id_hash"] = pd.lookup_hash(pd.plain_text(stored, kind), kind)
            await _update(engine, table, values, int(row["id"]))
            changed += 1
    return changed


async def _secure_delete(engine: Engine[Any]) -> None:
    if engine.engine_type == "sqlite":
        # Overwrite the cells the plaintext leaves behind, or the file would still hold it.
        await engine.run_querystring(QueryString("PRAGMA secure_delete = ON"))


async def seal_plaintext(engine: Engine[Any]) -> int:
    """Seal every plaintext resident ID, phone and contact; return how many rows changed."""
    await _secure_delete(engine)
    return await _rewrite(engine, lambda stored: not pd.is_sealed(stored))


async def _rewrite_forms(engine: Engine[Any], current_only: bool) -> int:
    """Seal the personal leaves of every stored form that needs it; how many rows changed."""
    changed = 0
    for table, column in FORM_COLUMNS:
        for row in await _rows(engine, table, column):
            form = pd.stored_form(row["value"])
            if not pd.form_needs_sealing(form, current_only=current_only):
                continue
            sealed = pd.reseal_form(form) if current_only else pd.seal_form(form)
            text = json.dumps(sealed, ensure_ascii=False)
            await _update(engine, table, {column: text}, int(row["id"]))
            changed += 1
    return changed


async def seal_plaintext_forms(engine: Engine[Any]) -> int:
    """Seal the resident IDs and phones inside every stored application form; rows changed."""
    await _secure_delete(engine)
    return await _rewrite_forms(engine, current_only=False)


async def reseal_all(engine: Engine[Any]) -> int:
    """After `registry.keys.rotate("field")`: every value, hash and form under the current key."""
    current = f"{pd.PREFIX}:{keyring(pd.PURPOSE).current_id}:"
    changed = await _rewrite(engine, lambda stored: not stored.startswith(current))
    return changed + await _rewrite_forms(engine, current_only=True)
