"""Liveness and readiness probes."""

from __future__ import annotations

from pydantic import BaseModel
from quart import Blueprint
from quart_schema import tag, validate_response
from sqlalchemy import text

from backend import extensions
from backend.db.failures import is_database_unavailable
from backend.errors import ServiceUnavailable

blueprint = Blueprint("health", __name__)


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: str


@blueprint.get("/health")
@tag(["health"])
@validate_response(HealthOut, 200)
async def health() -> HealthOut:
    """Liveness: the process is up. Touches no database."""
    return HealthOut(status="ok")


@blueprint.get("/ready")
@tag(["health"])
@validate_response(ReadyOut, 200)
async def ready() -> ReadyOut:
    """Readiness: the database answers."""
    try:
        async with extensions.database().session(readonly=True) as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        raise ServiceUnavailable("The database is unreachable.") from error
    return ReadyOut(status="ok", database="ok")
