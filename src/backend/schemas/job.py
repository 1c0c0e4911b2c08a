"""Job output and the admin listing's query string."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from backend.schemas.common import NOT_BLANK, OutputSchema, Page, PageQuery, Stripped

JobState = Annotated[Literal["queued", "running", "succeeded", "dead"], Stripped]


class JobOut(OutputSchema):
    id: int
    kind: str
    state: str
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobPage(Page[JobOut]):
    pass


class JobQuery(PageQuery):
    state: JobState | None = None
    kind: str | None = Field(
        default=None, min_length=1, max_length=64, json_schema_extra=NOT_BLANK
    )
