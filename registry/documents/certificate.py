"""The listing certificate (入库证书): A4 landscape, with a QR code to the verify page."""

from __future__ import annotations

import io

import segno

from registry.documents.render import html_of, pdf_in_thread, pdf_of
from registry.notices.certificates import Certificate, verify_url


def qr_svg(url: str) -> str:
    """The QR code of a URL as inline SVG (sized by the stylesheet through its viewBox)."""
    buffer = io.BytesIO()
    # Error correction M survives a crease or a stain on a printed certificate.
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=2
    )
    return buffer.getvalue().decode()


def certificate_html(certificate: Certificate, base_url: str) -> str:
    """The certificate's HTML, its QR code holding the absolute verify URL."""
    url = verify_url(base_url, certificate.listing_id)
    return html_of("certificate.html", cert=certificate, verify_url=url, qr=qr_svg(url))


def render_certificate(certificate: Certificate, base_url: str) -> bytes:
    """The certificate as PDF bytes."""
    return pdf_of(certificate_html(certificate, base_url))


async def render_certificate_async(certificate: Certificate, base_url: str) -> bytes:
    """The certificate as PDF bytes, rendered off the event loop."""
    return await pdf_in_thread(certificate_html(certificate, base_url))


def certificate_filename(certificate: Certificate) -> tuple[str, str]:
    """The download's Chinese file name and its ASCII fallback."""
    return (
        f"入库证书-{certificate.organisation_name}.pdf",
        f"certificate-{certificate.listing_id}.pdf",
    )
