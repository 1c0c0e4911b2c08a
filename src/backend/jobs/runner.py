"""The loop that claims due jobs and runs them, a few at a time, in one process.

Each server process runs one (`JOB_CONCURRENCY` slots; 0 runs none), and so
does `quart worker`. The runner sleeps until a local commit or a NOTIFY wakes
it, or for at most `POLL_SECONDS` (scheduled jobs, SQLite's other workers,
and a NOTIFY lost while the listening connection was down). While jobs run,
their leases are extended; a process that dies stops extending them, and
after `JOB_LEASE` another process claims the job again.

Jobs of a kind with a `concurrency_limit` count against their
`concurrency_key`: a key with that many jobs running here is excluded from
the claim's SQL, and the rare extra job one claim still takes of a key (it
took several of it at once) is released in the same transaction, unrun and
its attempt not spent, so it never waits in a slot or comes back later.

Successes are recorded in batches, in the same transaction as the next
claim: a short job then costs a fraction of a transaction instead of one of
its own, and a handler's last write can ride along (`JobContext.on_success`).
A process that dies before recording a success runs that job again (at least
once, as after any crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from backend.config import Settings
from backend.db.database import Database
from backend.jobs import periodic, queue, wakeup
from backend.jobs.context import JobContext, JobRun, SuccessWrite
from backend.jobs.errors import describe
from backend.jobs.registry import UnknownJobKind, get_kind, registered_kinds
from backend.mail import EmailSender

POLL_SECONDS = 1.0
# After a database error the loop waits this long before trying again.
ERROR_PAUSE_SECONDS = 2.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Succeeded:
    """A run that succeeded, not yet recorded, with its handler's last writes."""

    job_id: int
    attempt: int
    writes: tuple[SuccessWrite, ...] = ()


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
        # Running jobs per concurrency key, and each key's limit (its kind's).
        self._keys: Counter[str] = Counter()
        self._key_limits: dict[str, int] = {}
        # Runs that succeeded, not yet recorded.
        self._succeeded: list[Succeeded] = []
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
        await self._wait_running(grace)
        unfinished = list(self._running)
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        if self._succeeded:
            try:
                async with self._bookkeeping() as session:
                    await self._record_successes(session, self._succeeded)
            except (SQLAlchemyError, OSError):
                # They run again after the lease: at least once.
                logger.warning("could not record finished jobs", exc_info=True)
            self._succeeded = []
        if unfinished:
            logger.warning("releasing %d unfinished jobs", len(unfinished))
            async with self._bookkeeping() as session:
                await queue.release(session, worker=self.worker_id, job_ids=unfinished)

    async def _wait_running(self, grace: float) -> None:
        """Wait up to `grace` s for running jobs, keeping their leases alive.

        The loop that renews leases has stopped; without renewing here, a
        drain longer than the lease would let another process claim a job
        that is still running here.
        """
        deadline = time.monotonic() + grace
        while self._running and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(
                list(self._running.values()), timeout=min(left, self.lease / 3)
            )
            if self._running:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    async with self._bookkeeping() as session:
                        await queue.extend_leases(
                            session, worker=self.worker_id, lease=self.lease
                        )

    @contextlib.asynccontextmanager
    async def _bookkeeping(self) -> AsyncIterator[AsyncSession]:
        """A session for the runner's own writes: claims, outcomes, leases."""
        async with self.database.session() as session:
            await queue.relax_durability(session)
            yield session

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
                    async with self._bookkeeping() as session:
                        await queue.extend_leases(
                            session, worker=self.worker_id, lease=self.lease
                        )
                    last_renewal = time.monotonic()
                claimed = await self._claim()
            except (SQLAlchemyError, OSError):
                logger.warning("job runner cannot reach the database", exc_info=True)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            except Exception:  # the loop must outlive any bug
                # A dead loop would stop this process's jobs without a sign
                # (its task's exception is only read at drain).
                logger.exception("job runner loop failed; retrying")
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            if claimed and self.busy < self.concurrency:
                continue  # more may be due: claim again before sleeping
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()

    def _full_keys(self) -> list[str]:
        return [key for key, n in self._keys.items() if n >= self._key_limits[key]]

    async def _claim(self) -> int:
        """Record the successes so far and claim what fits, in one transaction."""
        free = 0 if self._draining else self.concurrency - self.busy
        succeeded, self._succeeded = self._succeeded, []
        kinds = registered_kinds()
        full = self._full_keys()
        starting: list[queue.ClaimedJob] = []
        try:
            if not succeeded:
                if free <= 0:
                    return 0
                async with self.database.session(readonly=True) as session:
                    if not await queue.any_claimable(
                        session, kinds=kinds, full_keys=full
                    ):
                        return 0
            async with self._bookkeeping() as session:
                await self._record_successes(session, succeeded)
                if free > 0:
                    jobs = await queue.claim(
                        session,
                        worker=self.worker_id,
                        limit=free,
                        lease=self.lease,
                        kinds=kinds,
                        full_keys=full,
                    )
                    starting, excess = self._within_limits(jobs)
                    await queue.release(
                        session,
                        worker=self.worker_id,
                        job_ids=[job.id for job in excess],
                    )
        except BaseException:
            self._succeeded[:0] = succeeded  # recorded on the next turn
            raise
        for job in starting:
            self._running[job.id] = asyncio.create_task(
                self._run(job), name=f"job-{job.id}"
            )
        return len(starting)

    async def _record_successes(
        self, session: AsyncSession, succeeded: Sequence[Succeeded]
    ) -> None:
        """Mark the runs succeeded and apply the writes of those recorded."""
        recorded = await queue.mark_many_succeeded(
            session,
            worker=self.worker_id,
            runs=[(run.job_id, run.attempt) for run in succeeded],
        )
        writes = [
            (run.job_id, write)
            for run in succeeded
            if run.job_id in recorded
            for write in run.writes
        ]
        if not writes:
            return
        # One execution per statement, with every run's parameters (in the
        # order the statements first appear): a round trip per statement, not
        # per run. Keyed by identity: a statement's `==` may build SQL.
        batches: dict[int, tuple[Executable, list[Mapping[str, Any]]]] = {}
        for _, write in writes:
            batch = batches.setdefault(id(write.statement), (write.statement, []))
            batch[1].append(write.params)
        # One bad write (a bug, a row gone) must not hold back the batch's
        # successes, nor fail them again on every turn: on any error apply each
        # write on its own, dropping those that fail.
        try:
            async with session.begin_nested():
                for statement, params in batches.values():
                    await session.execute(statement, params)
        except Exception:  # noqa: BLE001 - see above
            for job_id, write in writes:
                try:
                    async with session.begin_nested():
                        await session.execute(write.statement, write.params)
                except Exception:
                    logger.warning(
                        "job %d's write on success failed; dropped",
                        job_id,
                        exc_info=True,
                    )

    def _within_limits(
        self, jobs: Sequence[queue.ClaimedJob]
    ) -> tuple[list[queue.ClaimedJob], list[queue.ClaimedJob]]:
        """The jobs to start (counted against their keys), and those over a limit."""
        starting: list[queue.ClaimedJob] = []
        excess: list[queue.ClaimedJob] = []
        for job in jobs:
            key = job.concurrency_key
            limit = self._limit_of(job.kind) if key is not None else None
            if key is None or limit is None:
                starting.append(job)
            elif self._keys[key] >= limit:
                excess.append(job)
            else:
                self._keys[key] += 1
                self._key_limits[key] = limit
                starting.append(job)
        return starting, excess

    def _limit_of(self, kind: str) -> int | None:
        try:
            return get_kind(kind).limit_per_key(self.concurrency)
        except UnknownJobKind:
            return None  # runs, and fails as unknown

    async def _run(self, job: queue.ClaimedJob) -> None:
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
            self._count_finished(job)
            self._wake.set()  # a slot is free
        if self._on_finished is not None:
            self._on_finished(job.kind, state, time.monotonic() - started)

    def _count_finished(self, job: queue.ClaimedJob) -> None:
        key = job.concurrency_key
        if key is None or key not in self._keys:
            return
        self._keys[key] -= 1
        if self._keys[key] <= 0:
            del self._keys[key]
            del self._key_limits[key]

    async def _execute(self, job: queue.ClaimedJob, run: JobRun) -> str:
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
        # The loop records it next, with the handler's writes.
        self._succeeded.append(
            Succeeded(job.id, run.attempt, tuple(context.success_writes))
        )
        return "succeeded"

    async def _record_failure(
        self, job: queue.ClaimedJob, run: JobRun, error: Exception
    ) -> str:
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
            retry_in = get_kind(job.kind).retry_delay(run.attempt, self.settings)
        async with self._bookkeeping() as session:
            await queue.mark_failed(
                session,
                job_id=job.id,
                worker=self.worker_id,
                attempt=run.attempt,
                error=describe(error),
                retry_in=retry_in,
            )
        return "dead" if retry_in is None else "queued"
