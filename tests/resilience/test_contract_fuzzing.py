"""Contract fuzzing: schemathesis against the live OpenAPI document, as user and admin.

The checks are the issue's list: not_a_server_error, status code, content
type, header and response schema conformance, negative data rejection, ignored
auth, use after free and resource availability, with at least 50 examples per
operation and a fixed seed. positive_data_acceptance is left out on purpose:
rules that span fields (`password_confirm` equal to `password`, each product
once per order) or depend on state (a taken username, stock) cannot be stated
in JSON Schema, so schema-valid requests are rightly refused with 409 or 422.

The fuzzer may log its identity out, deactivate or demote it; before each
case the identity is healed in the database so every case runs with a working
token.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from quart import Quart
from schemathesis import Case, checks
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend import extensions
from backend.app import create_app
from tests.conftest import make_settings
from tests.support import databases
from tests.support.factories import issue_access_token, make_product, make_user
from tests.support.server import LiveServer

pytestmark = [pytest.mark.resilience, pytest.mark.e2e]

ROLES = ("user", "admin")
_HEAL = [
    "UPDATE user_account SET is_active = true, token_version = 0, "
    "is_admin = (username LIKE 'fuzz_admin%') WHERE username LIKE 'fuzz_%'",
    "UPDATE auth_session SET revoked_at = NULL",
]


class Healer:
    """Restores the fuzzing identities between cases, on a loop of its own."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._engine = create_async_engine(url, poolclass=NullPool)

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def heal(self) -> None:
        self._run(self._heal())

    async def _heal(self) -> None:
        async with self._engine.begin() as db:
            for statement in _HEAL:
                await db.execute(text(statement))

    def close(self) -> None:
        self._run(self._engine.dispose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


async def _seed(app: Quart) -> dict[str, dict[str, str]]:
    headers = {}
    async with extensions.database(app).session() as session:
        for role in ROLES:
            user = await make_user(
                session, app, username=f"fuzz_{role}", is_admin=role == "admin"
            )
            token = await issue_access_token(session, app, user)
            headers[role] = {"Authorization": f"Bearer {token}"}
        for _ in range(3):
            await make_product(session, stock=1000)
    return headers


@pytest.fixture(scope="module")
async def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory, postgres_available: bool
) -> AsyncIterator[tuple[LiveServer, dict[str, dict[str, str]], Healer]]:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = await databases.create_postgres_database()
    await databases.migrate(url)
    app = create_app(make_settings(url))
    async with app.test_app():
        headers = await _seed(app)
    # Rate limits off: the fuzzer should reach validation, not a 429 wall.
    env = {
        "RATE_LIMIT_LOGIN": "0",
        "RATE_LIMIT_REGISTER": "0",
        "RATE_LIMIT_PASSWORD_RESET": "0",
    }
    server = LiveServer(url, workers=2, env=env)
    server.start(Path(tmp_path_factory.mktemp("fuzz")))
    healer = Healer(url)
    yield server, headers, healer
    healer.close()
    server.stop()
    await databases.drop_postgres_database(url)


def _openapi_document() -> dict[str, Any]:
    """The document the live server serves, built in-process at collection time.

    (schemathesis' lazy `from_fixture` loader does not work with pytest 9; the
    test below checks that the live server serves exactly this document.)
    """
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))

    async def fetch() -> dict[str, Any]:
        response = await app.test_client().get("/openapi.json")
        document: dict[str, Any] = await response.get_json()
        return document

    return asyncio.run(fetch())


DOCUMENT = _openapi_document()
# The event stream never ends on its own, and the fuzzer reads whole bodies:
# its refusals are tested in tests/api and tests/e2e instead.
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(
    path="/api/v1/orders/events/stream"
)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.use_after_free,
    checks.ensure_resource_availability,
]

FUZZ_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
Target = tuple[LiveServer, dict[str, dict[str, str]], Healer]


def test_live_server_serves_the_fuzzed_document(fuzz_target: Target) -> None:
    server = fuzz_target[0]
    assert httpx.get(f"{server.base_url}/openapi.json").json() == DOCUMENT


def _call_and_validate(case: Case[Any], target: Target, role: str) -> None:
    server, headers, healer = target
    healer.heal()
    case.call_and_validate(
        base_url=server.base_url, headers=headers[role], checks=CHECKS
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_honours_its_contract_for_a_user(
    case: Case[Any], fuzz_target: Target
) -> None:
    _call_and_validate(case, fuzz_target, "user")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_honours_its_contract_for_an_admin(
    case: Case[Any], fuzz_target: Target
) -> None:
    _call_and_validate(case, fuzz_target, "admin")
