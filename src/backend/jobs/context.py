"""What a job handler gets besides its payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
