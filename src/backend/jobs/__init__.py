"""The durable job queue: rows in the application's own database.

A job is written by `enqueue` in the transaction of the change that causes
it, so it exists if and only if that change committed; it runs at least once,
on any worker of any host, retried with backoff until its kind's attempt
limit, then kept as `dead` until an admin retries it.

    registry.py   job kinds: payload model, handler, attempts, backoff
    queue.py      enqueue, claim, finish, release (the table's verbs)
    runner.py     the per-process loop that claims and runs jobs
    periodic.py   jobs that run once per period across every host
    cleanup.py    the retention clean-up, a periodic job
    admin.py      listing and retrying jobs (API and CLI)
    lifecycle.py  running a runner while the app serves, and draining it

Everything but `lifecycle.py` is plain Python on SQLAlchemy: services may
import this package; it never reaches Quart.
"""

from backend.jobs.context import JobContext, JobRun
from backend.jobs.errors import JobFailed
from backend.jobs.queue import enqueue, enqueue_many
from backend.jobs.registry import UnknownJobKind, exponential_backoff, job_kind

__all__ = [
    "JobContext",
    "JobFailed",
    "JobRun",
    "UnknownJobKind",
    "enqueue",
    "enqueue_many",
    "exponential_backoff",
    "job_kind",
]
