"""Request body bounds for the public forms, shared by the JSON API and the pages.

Litestar refuses a longer body before parsing it, so a stranger cannot make the server read
megabytes to be told the text is too long.
"""

from __future__ import annotations

# The longest valid objection (registry.notices.objections' limits) is about 7 KiB of UTF-8.
OBJECTION_MAX_BODY = 16 * 1024
# The longest valid complaint (registry.oversight.complaints' limits) is about 6 KiB of UTF-8.
COMPLAINT_MAX_BODY = 16 * 1024
