"""A real SMTP server (aiosmtpd) on a free port, collecting what it receives."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port

TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_-]+)")


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def snapshot(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)


class SmtpServer:
    """`url` for SMTP_URL; `await wait_for(to, subject)` for the next match."""

    def __init__(self) -> None:
        self._handler = _Collect()
        self.port = free_port()
        self._controller = Controller(
            self._handler, hostname="127.0.0.1", port=self.port
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[EmailMessage]:
        return self._handler.snapshot()

    async def wait_for(
        self, to: str, subject: str, *, after: int = 0, patience: float = 30.0
    ) -> EmailMessage:
        """The first message past index `after` to `to` with `subject`."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            for message in self.messages()[after:]:
                if message["To"] == to and message["Subject"] == subject:
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {subject!r} email to {to} within {patience} s")

    @contextmanager
    def running(self) -> Iterator[SmtpServer]:
        self._controller.start()
        try:
            yield self
        finally:
            self._controller.stop()


def token_of(message: EmailMessage) -> str:
    body = message.get_content()
    match = TOKEN_IN_LINK.search(body)
    assert match is not None, body
    return match[1]


@contextmanager
def silent_smtp_port() -> Iterator[int]:
    """A port that accepts connections and never says a word: an SMTP client
    talking to it waits until its own timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]
