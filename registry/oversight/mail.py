"""E-mail through the SMTP server REGISTRY_SMTP_URL names (smtplib, in a thread)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import parse_qs, unquote, urlsplit

import anyio.to_thread

SENDER_NAME = "课后服务白名单系统"
TIMEOUT_S = 20


class MailConfigError(ValueError):
    """REGISTRY_SMTP_URL cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class Smtp:
    """Where and how to send."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    tls: bool = False  # TLS from the first byte (smtps)
    starttls: bool = False


def parse_smtp_url(url: str) -> Smtp:
    """smtp://[user:password@]host[:port]?from=address (smtps:// for TLS; ?starttls=1)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError("REGISTRY_SMTP_URL must look like smtp://host:port?from=address")
    query = parse_qs(parts.query)
    sender = (query.get("from") or [""])[0]
    if "@" not in sender:
        raise MailConfigError("REGISTRY_SMTP_URL needs ?from=the sender's address")
    tls = parts.scheme == "smtps"
    return Smtp(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        sender=sender,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        tls=tls,
        starttls=(query.get("starttls") or ["0"])[0] == "1",
    )


def message(smtp: Smtp, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message in UTF-8."""
    mail = EmailMessage()
    mail["From"] = formataddr((SENDER_NAME, smtp.sender))
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def _send(smtp: Smtp, mail: EmailMessage) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP = (
        smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_S, context=context)
        if smtp.tls
        else smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S)
    )
    with client:
        if smtp.starttls:
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(mail)


async def send(smtp: Smtp, to: str, subject: str, body: str) -> None:
    """Send one message, off the event loop; raises smtplib/OSError errors as they come."""
    await anyio.to_thread.run_sync(_send, smtp, message(smtp, to, subject, body))
