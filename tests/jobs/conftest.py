"""Job-queue test plumbing: a real SMTP server, worker processes, the job table."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import IO, Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from bench.server import hypercorn_command, terminate
from sqlalchemy import select

from backend.db.database import Database
from backend.jobs import enqueue
from backend.models import Job
from tests.support.live_data import live_settings
from tests.support.server import PROJECT_ROOT, TEST_SECRET, LiveServer, free_port

JOB_APP = "tests.support.job_app:app"
MakeUrl = Callable[[str], Awaitable[str]]
StartServer = Callable[..., LiveServer]


def job_app_command() -> list[str]:
    """A `LiveServer` command serving the app with the test job kinds."""
    return hypercorn_command(JOB_APP)


class Inbox:
    """What a real SMTP server (aiosmtpd) accepted: (recipient, subject) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        subject = str(message_from_bytes(content)["Subject"])
        self.messages.extend((to, subject) for to in envelope.rcpt_tos)
        return "250 Message accepted"

    def to(self, address: str) -> list[str]:
        return [subject for to, subject in self.messages if to == address]

    async def wait_for(self, address: str, *, count: int, within: float = 30) -> None:
        """Until `address` got `count` messages (the server runs in a thread)."""
        deadline = time.monotonic() + within
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{address} got {self.to(address)}, not {count} messages")
            await asyncio.sleep(0.05)


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    inbox: Inbox = field(default_factory=Inbox)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, not started: call `.start()`."""
    server = SmtpServer()
    yield server
    server.stop()


@dataclass
class Worker:
    """A `quart --app tests.support.job_app:app worker` process."""

    database_url: str
    env: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": TEST_SECRET,
            "JWT_SECRET_KEY": TEST_SECRET + "-jwt",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quart", "--app", JOB_APP, "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 30)
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """A factory: `worker(url, env={...})` starts a jobs-only process."""
    started: list[Worker] = []

    def start(database_url: str, env: Mapping[str, str] | None = None) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        process = Worker(database_url, env or {}, log).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class JobTable:
    """The test's own view of a live database's jobs: enqueue, read, wait."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def enqueue(self, kind: str, payloads: list[dict[str, Any]]) -> None:
        """Enqueue `payloads` of `kind` in one committed transaction."""
        async with self.database.session() as session:
            for payload in payloads:
                await enqueue(session, kind, payload)

    async def all(self, kind: str | None = None) -> list[Job]:
        async with self.database.session(readonly=True) as session:
            statement = select(Job).order_by(Job.id)
            if kind is not None:
                statement = statement.where(Job.kind == kind)
            return list((await session.scalars(statement)).all())

    async def wait_for(
        self,
        check: Callable[[list[Job]], bool],
        *,
        kind: str | None = None,
        within: float = 60.0,
        why: str = "",
    ) -> list[Job]:
        """Poll until `check(jobs)` holds; fails (with the jobs) after `within` s."""
        deadline = time.monotonic() + within
        while True:
            jobs = await self.all(kind)
            if check(jobs):
                return jobs
            if time.monotonic() > deadline:
                states = [(job.id, job.kind, job.state, job.attempts) for job in jobs]
                pytest.fail(f"gave up waiting {why}: {states}")
            await asyncio.sleep(0.2)


@pytest.fixture
async def jobs_on() -> AsyncIterator[Callable[[str], Awaitable[JobTable]]]:
    """A factory: `await jobs_on(url)` connects a `JobTable` to that database."""
    databases: list[Database] = []

    async def connect(database_url: str) -> JobTable:
        database = Database(live_settings(database_url))
        await database.connect()
        databases.append(database)
        return JobTable(database)

    yield connect
    for database in databases:
        await database.dispose()
