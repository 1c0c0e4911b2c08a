"""Kinds that belong to no domain: `noop`, for probes and the benchmark."""

from __future__ import annotations

from pydantic import BaseModel

from backend.jobs.context import JobContext
from backend.jobs.registry import job_kind


class NoopPayload(BaseModel):
    pass


@job_kind("noop", NoopPayload, max_attempts=1)
async def noop(_context: JobContext, _payload: NoopPayload) -> None:
    """Nothing: measures the queue itself (claim, run, record)."""
