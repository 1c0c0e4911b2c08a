"""Background jobs (admin): list, read, retry the dead."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import (
    document_response,
    tag,
    validate_querystring,
    validate_response,
)

from backend.db.request_scope import get_session
from backend.jobs import admin
from backend.schemas.common import Problem
from backend.schemas.job import JobOut, JobPage, JobQuery
from backend.web.guards import admin_required

blueprint = Blueprint("admin_jobs", __name__, url_prefix="/admin/jobs")


@blueprint.get("")
@admin_required
@validate_querystring(JobQuery)
@validate_response(JobPage, 200)
@document_response(Problem, 403)
@tag(["jobs"])
async def list_jobs(query_args: JobQuery) -> JobPage:
    """List jobs, newest first (admin)."""
    result = await admin.list_jobs(get_session(), **query_args.model_dump())
    items = [JobOut.model_validate(job) for job in result.items]
    return JobPage(**(result.as_dict() | {"items": items}))


@blueprint.get("/<int:job_id>")
@admin_required
@validate_response(JobOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@tag(["jobs"])
async def get_job(job_id: int) -> JobOut:
    """Get one job (admin)."""
    return JobOut.model_validate(await admin.get_job(get_session(), job_id))


@blueprint.post("/<int:job_id>/retry")
@admin_required
@validate_response(JobOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@tag(["jobs"])
async def retry_job(job_id: int) -> JobOut:
    """Queue a dead job again with its attempts reset (admin)."""
    return JobOut.model_validate(await admin.retry_job(get_session(), job_id))
