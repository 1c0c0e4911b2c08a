"""The admin jobs API: list, filter, read, retry the dead; admins only."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from sqlalchemy import select, update

from backend import extensions
from backend.jobs import enqueue
from backend.models import Job
from backend.models.base import utcnow
from tests.api.helpers import problem
from tests.support.factories import bearer_for, make_user

URL = "/api/v1/admin/jobs"
JOB_FIELDS = {
    "id",
    "kind",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "last_error",
    "created_at",
    "updated_at",
    "finished_at",
}


async def _call(
    client: Client, method: str, url: str, headers: dict[str, str] | None = None
) -> Any:
    send = client.post if method == "POST" else client.get
    return await send(url, headers=headers or {})


async def _headers(app: Quart, *, is_admin: bool) -> dict[str, str]:
    async with extensions.database(app).session() as session:
        user = await make_user(session, app, is_admin=is_admin)
    return await bearer_for(app, user)


@pytest.fixture
async def admin(app: Quart) -> dict[str, str]:
    return await _headers(app, is_admin=True)


@pytest.fixture
async def jobs(app: Quart) -> dict[str, int]:
    """A queued email, a dead email and a succeeded noop, by state."""
    ids = {}
    async with extensions.database(app).session() as session:
        for name, kind, payload in (
            ("queued", "send_email", {"to": "a@x.io", "subject": "s", "body": "b"}),
            ("dead", "send_email", {"to": "b@x.io", "subject": "s", "body": "b"}),
            ("succeeded", "noop", {}),
        ):
            await enqueue(session, kind, payload, dedupe_key=f"admin-api-{name}")
            ids[name] = (
                await session.scalar(
                    select(Job.id).where(Job.dedupe_key == f"admin-api-{name}")
                )
            ) or 0
        await session.execute(
            update(Job)
            .where(Job.id == ids["dead"])
            .values(
                state="dead",
                attempts=60,
                last_error="SMTPException",
                finished_at=utcnow(),
            )
        )
        await session.execute(
            update(Job)
            .where(Job.id == ids["succeeded"])
            .values(state="succeeded", attempts=1, finished_at=utcnow())
        )
    return ids


async def test_admins_list_jobs_newest_first_and_filter_them(
    client: Client, admin: dict[str, str], jobs: dict[str, int]
) -> None:
    page: dict[str, Any] = await (await client.get(URL, headers=admin)).get_json()
    assert [item["id"] for item in page["items"]] == sorted(jobs.values(), reverse=True)
    assert set(page["items"][0]) == JOB_FIELDS
    dead = await (await client.get(f"{URL}?state=dead", headers=admin)).get_json()
    assert [item["id"] for item in dead["items"]] == [jobs["dead"]]
    emails = await (
        await client.get(f"{URL}?kind=send_email", headers=admin)
    ).get_json()
    assert {item["id"] for item in emails["items"]} == {jobs["queued"], jobs["dead"]}
    both = await (
        await client.get(f"{URL}?kind=send_email&state=queued", headers=admin)
    ).get_json()
    assert [item["id"] for item in both["items"]] == [jobs["queued"]]


async def test_an_admin_reads_one_job(
    client: Client, admin: dict[str, str], jobs: dict[str, int]
) -> None:
    response = await client.get(f"{URL}/{jobs['dead']}", headers=admin)
    body = await response.get_json()
    assert response.status_code == 200
    assert (body["state"], body["attempts"], body["last_error"]) == (
        "dead",
        60,
        "SMTPException",
    )
    assert "payload" not in body  # an email's text is not the admin's business


async def test_retrying_a_dead_job_queues_it_again_with_attempts_reset(
    client: Client, admin: dict[str, str], jobs: dict[str, int]
) -> None:
    response = await client.post(f"{URL}/{jobs['dead']}/retry", headers=admin)
    body = await response.get_json()
    assert response.status_code == 200
    assert (body["state"], body["attempts"], body["finished_at"]) == (
        "queued",
        0,
        None,
    )
    again = await client.get(f"{URL}/{jobs['dead']}", headers=admin)
    assert (await again.get_json())["state"] == "queued"


@pytest.mark.parametrize("state", ["queued", "succeeded"])
async def test_only_a_dead_job_can_be_retried(
    client: Client, admin: dict[str, str], jobs: dict[str, int], state: str
) -> None:
    response = await client.post(f"{URL}/{jobs[state]}/retry", headers=admin)
    await problem(response, 409, "job_not_dead")
    after = await (await client.get(f"{URL}/{jobs[state]}", headers=admin)).get_json()
    assert after["state"] == state


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/999999999"), ("POST", "/999999999/retry")]
)
async def test_an_unknown_job_is_404(
    client: Client, admin: dict[str, str], method: str, path: str
) -> None:
    response = await _call(client, method, URL + path, admin)
    await problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", ""), ("GET", "/{dead}"), ("POST", "/{dead}/retry")]
)
async def test_non_admins_get_403_and_anonymous_callers_401(
    app: Quart, client: Client, jobs: dict[str, int], method: str, path: str
) -> None:
    url = URL + path.format(dead=jobs["dead"])
    customer = await _headers(app, is_admin=False)
    await problem(await _call(client, method, url, customer), 403, "forbidden")
    await problem(await _call(client, method, url), 401, "unauthorized")


@pytest.mark.parametrize("query", ["state=sleeping", "page=0", "per_page=101"])
async def test_a_bad_filter_is_422(
    client: Client, admin: dict[str, str], query: str
) -> None:
    await problem(
        await client.get(f"{URL}?{query}", headers=admin), 422, "validation_error"
    )
