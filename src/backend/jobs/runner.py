"""The loop that claims due jobs and runs them, a few at a time, in one process.

Each server process runs one (`JOB_CONCURRENCY` slots; 0 runs none), and so
does `quart worker`. The runner sleeps until a local commit or a NOTIFY wakes
it, or for at most `POLL_SECONDS` (scheduled jobs, SQLite's other workers,
and a NOTIFY lost while the listening connection was down). While jobs run,
their leases are extended; a process that dies stops extending them, and
after `JOB_LEASE` another process claims the job again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from backend.config import Settings
from backend.db.database import Database
from backend.jobs import periodic, queue, wakeup
from backend.jobs.context import JobContext, JobRun
from backend.jobs.errors import describe
from backend.jobs.registry import UnknownJobKind, get_kind
from backend.mail import EmailSender
from backend.models import Job

POLL_SECONDS = 1.0
# After a database error the loop waits this long before trying again.
ERROR_PAUSE_SECONDS = 2.0
logger = logging.getLogger(__name__)


class JobRunner:
    """Claims and runs jobs until `drain()`; one per process."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        sender: EmailSender,
        *,
        on_finished: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.sender = sender
        self.concurrency = settings.job_concurrency
        self.lease = float(settings.job_lease)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.resources: dict[str, object] = {}
        self._on_finished = on_finished
        self._wake = asyncio.Event()
        self._draining = False
        self._running: dict[int, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._schedule = periodic.Scheduler(settings)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        wakeup.register(self._wake)
        self._loop_task = asyncio.create_task(self._loop(), name="job-runner")

    def stop_claiming(self) -> None:
        """Claim nothing new; jobs already running go on (draining begins)."""
        self._draining = True
        self._wake.set()

    async def drain(self, grace: float) -> None:
        """Stop claiming, let running jobs finish within `grace` s, release the rest."""
        self.stop_claiming()
        wakeup.unregister(self._wake)
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=grace)
        unfinished = list(self._running)
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        if unfinished:
            logger.warning("releasing %d unfinished jobs", len(unfinished))
            async with self.database.session() as session:
                await queue.release(session, worker=self.worker_id, job_ids=unfinished)

    @property
    def busy(self) -> int:
        return len(self._running)

    async def _loop(self) -> None:
        last_renewal = time.monotonic()
        while not self._draining:
            self._wake.clear()
            try:
                await self._schedule.enqueue_due(self.database)
                if time.monotonic() - last_renewal > self.lease / 3 and self._running:
                    async with self.database.session() as session:
                        await queue.extend_leases(
                            session, worker=self.worker_id, lease=self.lease
                        )
                    last_renewal = time.monotonic()
                claimed = await self._claim()
            except (SQLAlchemyError, OSError):
                logger.warning("job runner cannot reach the database", exc_info=True)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            if claimed and self.busy < self.concurrency:
                continue  # more may be due: claim again before sleeping
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()

    async def _claim(self) -> int:
        free = self.concurrency - self.busy
        if free <= 0 or self._draining:
            return 0
        async with self.database.session(readonly=True) as session:
            if not await queue.any_claimable(session):
                return 0
        async with self.database.session() as session:
            jobs = await queue.claim(
                session, worker=self.worker_id, limit=free, lease=self.lease
            )
        for job in jobs:
            self._running[job.id] = asyncio.create_task(
                self._run(job), name=f"job-{job.id}"
            )
        return len(jobs)

    async def _run(self, job: Job) -> None:
        started = time.monotonic()
        run = JobRun(job.id, job.kind, job.attempts, job.max_attempts)
        state = "running"
        try:
            state = await self._execute(job, run)
        except (SQLAlchemyError, OSError):
            # The outcome could not be written: the lease runs out and another
            # attempt follows, which idempotent handlers tolerate.
            logger.warning("could not record job %d's outcome", job.id, exc_info=True)
        finally:
            self._running.pop(job.id, None)
            self._wake.set()  # a slot is free
        if self._on_finished is not None:
            self._on_finished(job.kind, state, time.monotonic() - started)

    async def _execute(self, job: Job, run: JobRun) -> str:
        """Run the handler and record the outcome; returns the job's new state."""
        try:
            kind = get_kind(job.kind)
            if run.attempt > run.max_attempts:  # its last run died mid-way
                raise RuntimeError("the last attempt's process stopped mid-way")
            payload = kind.payload.model_validate(job.payload)
            context = JobContext(
                self.settings, self.database, self.sender, run, self.resources
            )
            async with asyncio.timeout(kind.timeout):
                await kind.handler(context, payload)
        except asyncio.CancelledError:
            raise  # draining: `drain` releases the job
        except Exception as error:  # noqa: BLE001 - any handler failure is a retry
            return await self._record_failure(job, run, error)
        async with self.database.session() as session:
            await queue.mark_succeeded(
                session, job_id=job.id, worker=self.worker_id, attempt=run.attempt
            )
        return "succeeded"

    async def _record_failure(self, job: Job, run: JobRun, error: Exception) -> str:
        logger.warning(
            "job %d (%s) attempt %d/%d failed",
            job.id,
            job.kind,
            run.attempt,
            run.max_attempts,
            exc_info=not isinstance(error, UnknownJobKind),
        )
        retry_in = None
        if run.attempt < run.max_attempts and not isinstance(error, UnknownJobKind):
            retry_in = get_kind(job.kind).backoff(run.attempt)
        async with self.database.session() as session:
            await queue.mark_failed(
                session,
                job_id=job.id,
                worker=self.worker_id,
                attempt=run.attempt,
                error=describe(error),
                retry_in=retry_in,
            )
        return "dead" if retry_in is None else "queued"
