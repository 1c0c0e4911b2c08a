"""The app with the test job kinds, a periodic test job and a failing registration.

Served by Hypercorn (`tests.support.job_app:app`) and run by
`quart --app tests.support.job_app:app worker` in the job-queue tests; never
imported by the app itself.
"""

from __future__ import annotations

import asyncio
import os

from pydantic import BaseModel
from quart import Blueprint
from quart_schema import validate_request

from backend import extensions
from backend.app import create_app
from backend.db.request_scope import get_session
from backend.errors import Conflict
from backend.jobs import JobContext, job_kind, periodic
from backend.services import users
from tests.support import job_kinds

# Where the periodic `test_tick` job writes its run's id, and how often it runs.
TICK_FILE = os.environ.get("TEST_TICK_FILE")
TICK_PERIOD = float(os.environ.get("TEST_TICK_PERIOD", "3600"))


class NoPayload(BaseModel):
    pass


@job_kind("test_tick", NoPayload, max_attempts=3)
async def tick(context: JobContext, _payload: NoPayload) -> None:
    if TICK_FILE:
        await asyncio.to_thread(job_kinds.append, TICK_FILE, str(context.run.id))


periodic.every("test_tick", "test_tick", lambda _settings: TICK_PERIOD)


class Registration(BaseModel):
    username: str
    email: str
    password: str


testing = Blueprint("testing", __name__, url_prefix="/testing")


@testing.post("/register-then-fail")
@validate_request(Registration)
async def register_then_fail(data: Registration) -> str:
    """Register (queueing the welcome email), then fail: the request rolls back."""
    await users.register_user(
        get_session(),
        hasher=extensions.hasher(),
        settings=extensions.settings(),
        username=data.username,
        email=data.email,
        password=data.password,
    )
    raise Conflict("Failed on purpose after registering.", code="test_failure")


app = create_app()
app.register_blueprint(testing)
__all__ = ["app", "job_kinds"]
