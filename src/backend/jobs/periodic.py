"""Periodic jobs: each runs once per period across every process and host.

Every runner, on each turn of its loop, enqueues the jobs whose period has
begun with the dedupe key `<name>@<period number>`; the first insert wins and
the others do nothing, so a period gets one job however many processes and
hosts race for it. Periods are counted from the Unix epoch, so every host
agrees where one begins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from backend.config import Settings
from backend.db.database import Database
from backend.jobs import queue


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    kind: str
    every: Callable[[Settings], float]


_SCHEDULES: list[Periodic] = []


def every(name: str, kind: str, period: Callable[[Settings], float]) -> None:
    """Run a job of `kind` (its payload empty) once every `period(settings)` seconds."""
    if any(schedule.name == name for schedule in _SCHEDULES):
        raise ValueError(f"periodic job {name!r} is registered already")
    _SCHEDULES.append(Periodic(name, kind, period))


class Scheduler:
    """One process's view of the schedules: which periods it has enqueued."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._enqueued: dict[str, int] = {}

    def due(self, now: float) -> list[tuple[Periodic, int]]:
        found = []
        for schedule in _SCHEDULES:
            number = int(now // schedule.every(self.settings))
            if self._enqueued.get(schedule.name) != number:
                found.append((schedule, number))
        return found

    async def enqueue_due(self, database: Database) -> None:
        due = self.due(time.time())
        if not due:
            return
        async with database.session() as session:
            for schedule, number in due:
                await queue.enqueue(
                    session, schedule.kind, {}, dedupe_key=f"{schedule.name}@{number}"
                )
        for schedule, number in due:
            self._enqueued[schedule.name] = number
