"""Outgoing email: one `EmailSender` interface, three backends, chosen by config.

- `LoggingSender` (default): writes the message to the log; nothing leaves.
- `SmtpSender` (`SMTP_URL=smtp://user:pass@host:port`, `smtps://` for TLS):
  sends through aiosmtplib, the maintained asyncio SMTP client.
- `OutboxSender` (tests, `APP_ENV=testing`): keeps messages in a list.

Services receive a `Mailer`, never build one: `mailer.send_later(message)`
hands the send to a background task (the app's `add_background_task`, which it
awaits at shutdown; `create_app` wires it), so a request never waits on a mail server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from backend.config import Settings

logger = logging.getLogger(__name__)
SENDER_ADDRESS = "shop@localhost"


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str


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
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None

    async def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"], message["To"] = SENDER_ADDRESS, email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._user,
            password=self._password,
            use_tls=self._tls,
            timeout=30,
        )


def sender_for(settings: Settings) -> EmailSender:
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url)
    if settings.app_env == "testing":
        return OutboxSender()
    return LoggingSender()


# Quart's `add_background_task(func, *args)`.
Spawn = Callable[..., None]


class Mailer:
    """Sends mail in the background through one `EmailSender`."""

    def __init__(self, sender: EmailSender) -> None:
        self.sender = sender
        self._spawn: Spawn | None = None

    def spawn_with(self, spawn: Spawn) -> None:
        """Send through `spawn` (the app's `add_background_task`) from now on."""
        self._spawn = spawn

    def send_later(self, email: Email) -> None:
        if self._spawn is None:
            raise RuntimeError("Mailer.spawn_with has not been called")
        self._spawn(self._deliver, email)

    async def _deliver(self, email: Email) -> None:
        try:
            await self.sender.send(email)
        except (aiosmtplib.SMTPException, OSError):
            # A lost welcome email must not surface anywhere but the log.
            logger.warning("could not send email to %s", email.to, exc_info=True)


def welcome_email(*, to: str, username: str) -> Email:
    return Email(
        to=to,
        subject="Welcome to the shop",
        body=f"Hello {username},\n\nyour account is ready. Happy shopping!\n",
    )
