"""What a job handler gets besides its payload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.db.database import Database
    from backend.mail import EmailSender


@dataclass(frozen=True, slots=True)
class JobRun:
    """The job being run: which one, and which attempt this is (1 for the first)."""

    id: int
    kind: str
    attempt: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class JobContext:
    """The process's resources, shared by every job it runs, and the run itself.

    Handlers open their own short sessions from `database`; `resources` holds
    what a kind sets up once per process (an HTTP client, say), by name.
    """

    settings: Settings
    database: Database
    sender: EmailSender
    run: JobRun
    resources: dict[str, Any] = field(default_factory=dict)
    success_writes: list[SuccessWrite] = field(default_factory=list)

    def on_success(self, statement: Executable, params: Mapping[str, Any]) -> None:
        """Execute `statement` with `params` in the transaction that records
        this run's success.

        The runner records successes in batches, so a handler whose last step
        is a write (a log row, say) saves a transaction of its own, and the
        runs of a batch that give the same statement share one execution (an
        executemany). The write commits if and only if the success does, never
        for a run whose lease was lost. Like the success, it commits without
        waiting for the disk (`queue.relax_durability`): lost only with the
        success, when the job runs again. It must not fail on rows that are
        gone meanwhile (a failing write is dropped with a warning; the success
        still counts). A Core statement: an ORM one given several parameter
        sets would be taken for a bulk operation on objects.
        """
        self.success_writes.append(SuccessWrite(statement, params))


@dataclass(frozen=True, slots=True)
class SuccessWrite:
    """A statement and its parameters, run with the recorded success."""

    statement: Executable
    params: Mapping[str, Any]
