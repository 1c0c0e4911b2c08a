"""Running the process's job runner while the app serves, and draining it."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from quart import Quart

from backend import (
    account_mail,  # noqa: F401 - registers its kind
    events,
    extensions,
    metrics,
)
from backend.config import Settings
from backend.jobs import admin, builtin, cleanup  # noqa: F401 - registers their kinds
from backend.jobs.queue import NOTIFY_CHANNEL
from backend.jobs.runner import JobRunner
from backend.metrics import web as metrics_web
from backend.server import lifecycle as serving
from backend.services import order_expiry  # noqa: F401 - registers its job kind


class _NotifyWakesRunner:
    """Wakes the runner on the bus's LISTEN connection (no second connection)."""

    channel = NOTIFY_CHANNEL

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner

    def on_order_events(self, rows: object) -> None:
        pass

    def on_payload(self, payload: str) -> None:
        self.runner.wake()

    def on_listening(self) -> None:
        self.runner.wake()  # whatever was enqueued while deaf is due now

    def on_deaf(self) -> None:
        pass


_CONCURRENCY = "job_concurrency"


def run_jobs_here(app: Quart, concurrency: int) -> None:
    """Run `concurrency` job slots in this process, whatever `JOB_CONCURRENCY` says.

    `quart worker` calls it before the app starts serving, so a jobs-only
    process works with the web tier's settings (often `JOB_CONCURRENCY=0`).
    """
    app.extensions[_CONCURRENCY] = concurrency


def runs_jobs(app: Quart) -> bool:
    """Whether this process runs jobs once it serves (read it while serving)."""
    concurrency: int = app.extensions.get(_CONCURRENCY, 0)
    return concurrency > 0 and extensions.database(app).engine is not None


def init_app(app: Quart) -> None:
    """Run jobs in this process while it serves (unless `JOB_CONCURRENCY=0`)."""
    settings: Settings = app.extensions["settings"]
    app.extensions[_CONCURRENCY] = settings.job_concurrency
    database = extensions.database(app)
    runner = app.extensions["job_runner"] = JobRunner(
        database,
        settings,
        extensions.mail_sender(app),
        on_finished=metrics.job_finished,
    )
    events.listen(app, _NotifyWakesRunner(runner))

    async def refresh_job_counts() -> None:
        async with database.session(readonly=True) as session:
            counts = await admin.count_jobs(session)
        metrics.set_job_counts({(kind, state): n for kind, state, n in counts})

    metrics_web.on_scrape(app, refresh_job_counts)
    serving.on_drain(app, runner.stop_claiming)

    async def run_jobs() -> AsyncGenerator[None, None]:
        runner.concurrency = app.extensions[_CONCURRENCY]
        # Tests that bind one never-committing connection have no jobs to run.
        running = runner.concurrency > 0 and extensions.database(app).engine is not None
        if running:
            await runner.start()
        yield
        if running:
            await runner.drain(settings.job_drain_timeout)

    app.while_serving(run_jobs)
