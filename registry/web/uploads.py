"""A multipart upload as both adapters read it: the body ceiling and the form's plain values."""

from __future__ import annotations

from litestar.datastructures import FormMultiDict, UploadFile

from registry.applications.documents import UploadIn
from registry.settings import get_settings

# Litestar refuses a body over the handler's limit before our code runs; let it through up to
# the configured file limit plus room for the other form fields, and judge the file ourselves.
MULTIPART_SLACK = 256 * 1024
UPLOAD_BODY_CEILING = get_settings().max_upload_bytes + MULTIPART_SLACK


def upload_in(form: FormMultiDict) -> UploadIn:
    """The posted document form as the documents service takes it."""
    file = form.get("file")
    sent = file if isinstance(file, UploadFile) else None
    return UploadIn(
        kind=str(form.get("kind") or ""),
        valid_from=str(form.get("valid_from") or ""),
        valid_until=str(form.get("valid_until") or ""),
        staff_index=str(form.get("staff_index") or ""),
        supplement_item=str(form.get("supplement_item") or ""),
        filename=sent.filename if sent else None,
        file=sent.file if sent else None,
    )
