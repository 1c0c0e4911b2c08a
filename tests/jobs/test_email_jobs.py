"""Every email is a job: sent once its cause commits, never otherwise, retried.

Real parts only: a Hypercorn process serving the app, a real SMTP server
(aiosmtpd) on a free port, and the job rows in the real database.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend.models import Job
from tests.jobs.conftest import MakeUrl, SmtpServer, StartServer, job_app_command
from tests.support.live_data import LiveData

pytestmark = pytest.mark.e2e
PASSWORD = "Correct-Horse-9"
WELCOME = "Welcome to the shop"
# Registration also sends a verification email (a job of its own kind).
VERIFY = "Confirm your email address"


def account() -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:10]}"
    return {
        "username": name,
        "email": f"{name}@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }


def emails_to(jobs: list[Job], address: str) -> list[Job]:
    return [job for job in jobs if job.payload.get("to") == address]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_registration_sends_its_email_once_and_a_rolled_back_one_none(
    fresh_database_url: MakeUrl,
    live_server: StartServer,
    jobs_on: Any,
    smtp: SmtpServer,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    smtp.start()
    server = live_server(
        url,
        command=job_app_command(),
        env={"SMTP_URL": smtp.url, "RATE_LIMIT_REGISTER": "0"},
    )
    table = await jobs_on(url)
    failed, committed = account(), account()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        refused = await http.post(
            "/testing/register-then-fail",
            json={k: failed[k] for k in ("username", "email", "password")},
        )
        assert refused.status_code == 409, refused.text
        created = await http.post("/api/v1/auth/register", json=committed)
        assert created.status_code == 201, created.text
    # The committed registration's email job runs to the end...
    jobs = await table.wait_for(
        lambda jobs: (
            [j.state for j in emails_to(jobs, committed["email"])] == ["succeeded"]
        ),
        kind="send_email",
        why="for the welcome email",
    )
    # ...and is the only email job: the rolled-back one left none behind.
    assert emails_to(jobs, failed["email"]) == []
    await smtp.inbox.wait_for(committed["email"], count=2)
    assert sorted(smtp.inbox.to(committed["email"])) == [VERIFY, WELCOME]
    assert smtp.inbox.to(failed["email"]) == []
    assert len(smtp.inbox.messages) == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_an_email_is_retried_while_smtp_is_down_and_sent_once_it_is_back(
    fresh_database_url: MakeUrl,
    live_server: StartServer,
    jobs_on: Any,
    smtp: SmtpServer,
    backend: str,
) -> None:
    url = await fresh_database_url(backend)
    # Nothing listens on the SMTP port yet: every attempt is refused.
    server = live_server(
        url,
        command=job_app_command(),
        env={"SMTP_URL": smtp.url, "RATE_LIMIT_REGISTER": "0"},
    )
    table = await jobs_on(url)
    async with LiveData(url) as data:
        admin = await data.user(is_admin=True)
    person = account()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        assert (
            await http.post("/api/v1/auth/register", json=person)
        ).status_code == 201
        [job] = await table.wait_for(
            lambda jobs: (
                len(jobs) == 1
                and jobs[0].attempts >= 2
                and jobs[0].last_error is not None
            ),
            kind="send_email",
            within=60,
            why="for a second attempt after a failed one",
        )
        failing = (
            await http.get(f"/api/v1/admin/jobs/{job.id}", headers=admin.headers)
        ).json()
        # Waiting for its retry, or already in it (`attempts` counts claims).
        assert failing["state"] in ("queued", "running")
        assert failing["attempts"] >= 2
        # A refused connection: the error's kind, not a secret-bearing text.
        assert failing["last_error"].startswith(("ConnectionRefusedError", "SMTP"))
        smtp.start()
        await table.wait_for(
            lambda jobs: jobs[0].state == "succeeded",
            kind="send_email",
            within=90,
            why="for the retry after SMTP came back",
        )
        done = (
            await http.get(f"/api/v1/admin/jobs/{job.id}", headers=admin.headers)
        ).json()
    assert done["state"] == "succeeded"
    assert done["attempts"] > 1
    assert done["finished_at"] is not None
    await smtp.inbox.wait_for(person["email"], count=2)
    assert sorted(smtp.inbox.to(person["email"])) == [VERIFY, WELCOME]
