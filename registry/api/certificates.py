"""The certificate PDF of a listed provider (for its own users and its district's staff)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from registry.documents.certificate import certificate_filename, render_certificate_async
from registry.documents.render import attachment
from registry.notices.certificates import certificate_of, may_download
from registry.web.security import optional_actor


@get(
    "/api/v1/listings/{listing_id:int}/certificate",
    operation_id="getCertificate",
    tags=["certificates"],
)
async def get_certificate(
    request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Response[bytes]:
    """The 入库证书 PDF; 404 unless listed (now or before) and the caller may have it."""
    certificate = await certificate_of(listing_id)
    # One answer for "no such certificate" and "not yours": a 404 reveals nothing.
    if certificate is None or not may_download(await optional_actor(request), certificate):
        raise NotFoundException()
    # The QR code must work from a phone: the absolute URL of the host the user reached.
    pdf = await render_certificate_async(certificate, str(request.base_url))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment(*certificate_filename(certificate)),
            "Cache-Control": "private, no-store",
        },
    )


ROUTES: list[Any] = [get_certificate]
