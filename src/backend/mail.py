"""Outgoing email: queued as a durable job, sent by one `EmailSender`.

`queue_email(session, email)` writes a `send_email` job in the caller's
transaction, so a message goes out if and only if the change that caused it
commits, and is retried (with backoff) until the mail server accepts it.

The sender, chosen by config:
- `LoggingSender` (default): writes the message to the log; nothing leaves.
- `SmtpSender` (`SMTP_URL=smtp://[user:pass@]host:port`, or `smtps://` for
  TLS from the start): aiosmtplib, the maintained asyncio SMTP client. With
  credentials, `smtp://` requires STARTTLS: a server that does not offer it
  is an error, never a password sent in clear text.
- `OutboxSender` (`APP_ENV=testing`): keeps messages in a list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import aiosmtplib
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.jobs import JobContext, enqueue, exponential_backoff, job_kind
from backend.jobs.registry import Handler

logger = logging.getLogger(__name__)
P = TypeVar("P", bound=BaseModel)
SMTP_TIMEOUT_SECONDS = 30


class Email(BaseModel):
    """One message; also the `send_email` job's payload."""

    to: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=20_000)


class EmailSender(Protocol):
    async def send(self, email: Email) -> None: ...


class LoggingSender:
    async def send(self, email: Email) -> None:
        logger.info("email to %s: %s", email.to, email.subject)


class OutboxSender:
    def __init__(self) -> None:
        self.outbox: list[Email] = []

    async def send(self, email: Email) -> None:
        self.outbox.append(email)


class SmtpSender:
    def __init__(self, url: str, *, sender_address: str) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._from = sender_address

    async def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"], message["To"] = self._from, email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._user,
            password=self._password,
            use_tls=self._tls,
            # None: STARTTLS when offered. With credentials it is required.
            start_tls=True if self._user and not self._tls else None,
            timeout=SMTP_TIMEOUT_SECONDS,
        )


def sender_for(settings: Settings) -> EmailSender:
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url, sender_address=settings.mail_from)
    if settings.app_env == "testing":
        return OutboxSender()
    return LoggingSender()


async def queue_email(session: AsyncSession, email: Email) -> None:
    """Send `email` once the session's transaction commits (and only then)."""
    await enqueue(session, "send_email", email)


def email_job_kind(name: str, payload: type[P]) -> Callable[[Handler[P]], Handler[P]]:
    """Register a kind that sends mail, with the one retry policy for mail:
    about a day of attempts, 10 s, 20 s, ... capped at 30 min apart."""
    return job_kind(
        name,
        payload,
        max_attempts=60,
        backoff=exponential_backoff(base=10, cap=1800),
        timeout=2 * SMTP_TIMEOUT_SECONDS,
    )


@email_job_kind("send_email", Email)
async def send_email(context: JobContext, email: Email) -> None:
    """Hand the message to the mail server; a refusal or outage is retried.

    At least once: a crash after the server accepted the message and before
    the job was marked done sends it again. The mail server is the only
    place that could dedupe, and SMTP has no idempotency key.
    """
    await context.sender.send(email)


def welcome_email(*, to: str, username: str) -> Email:
    return Email(
        to=to,
        subject="Welcome to the shop",
        body=f"Hello {username},\n\nyour account is ready. Happy shopping!\n",
    )
