"""Every error path answers RFC 9457 problem+json through the one handler."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, ConfigDict
from quart import Blueprint, Quart
from quart.typing import TestClientProtocol as Client
from quart_schema import validate_querystring, validate_request
from sqlalchemy.exc import DBAPIError, OperationalError

from backend.app import create_app
from backend.config import Settings
from backend.db.failures import is_database_unavailable
from backend.errors import Conflict
from tests.conftest import make_settings

probe = Blueprint("probe", __name__)


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str
    count: int


class Paging(BaseModel):
    page: int = 1


@probe.post("/probe/things")
@validate_request(Thing)
async def create_thing(data: Thing) -> dict[str, object]:
    return data.model_dump()


@probe.get("/probe/things")
@validate_querystring(Paging)
async def list_things(query_args: Paging) -> dict[str, int]:
    return {"page": query_args.page}


@probe.get("/probe/boom")
async def boom() -> dict[str, str]:
    raise RuntimeError("secret connection string postgres://admin:hunter2@db")


@probe.get("/probe/db-down")
async def db_down() -> dict[str, str]:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("driver text"))


class _Deadlock(Exception):
    sqlstate = "40P01"


@probe.get("/probe/deadlock")
async def deadlock() -> dict[str, str]:
    raise DBAPIError("UPDATE product ...", {}, _Deadlock("driver text"))


@probe.get("/probe/conflict")
async def conflict() -> dict[str, str]:
    raise Conflict("Out of stock.", code="insufficient_stock", product_id=7)


@pytest.fixture
async def probe_client(tmp_path: object) -> AsyncIterator[Client]:
    settings: Settings = make_settings(
        "sqlite+aiosqlite:///:memory:", max_content_length=1024
    )
    app: Quart = create_app(settings)
    app.register_blueprint(probe)
    async with app.test_app():
        yield app.test_client()


async def problem(response: object, status: int, code: str) -> dict[str, object]:
    body = await response.get_json()  # type: ignore[attr-defined]
    assert response.status_code == status, body  # type: ignore[attr-defined]
    assert response.content_type == "application/problem+json"  # type: ignore[attr-defined]
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_404_problem(probe_client: Client) -> None:
    await problem(await probe_client.get("/no/such/route"), 404, "not_found")


async def test_wrong_method_is_405_problem_with_allow(probe_client: Client) -> None:
    response = await probe_client.delete("/probe/things")
    await problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


async def test_malformed_json_is_400(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    await problem(response, 400, "bad_request")


async def test_body_that_is_not_utf8_is_400(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things",
        data=b'{"name": "\xff"}',
        headers={"Content-Type": "application/json"},
    )
    await problem(response, 400, "bad_request")


async def test_body_that_is_not_json_is_415(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things", data=b"name=x", headers={"Content-Type": "text/plain"}
    )
    await problem(response, 415, "unsupported_media_type")


async def test_oversized_body_is_413(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things", json={"name": "x" * 2048, "count": 1}
    )
    await problem(response, 413, "payload_too_large")


async def test_invalid_body_is_422_with_locations(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things", json={"name": "ok", "count": "many", "extra": 1}
    )
    body = await problem(response, 422, "validation_error")
    locations = {tuple(error["loc"]) for error in body["errors"]}  # type: ignore[attr-defined]
    assert locations == {("body", "count"), ("body", "extra")}


async def test_invalid_query_is_422_naming_the_parameter(
    probe_client: Client,
) -> None:
    body = await problem(
        await probe_client.get("/probe/things?page=abc"), 422, "validation_error"
    )
    assert body["errors"][0]["loc"] == ["query", "page"]  # type: ignore[index]


async def test_validation_errors_never_echo_input(probe_client: Client) -> None:
    response = await probe_client.post(
        "/probe/things", json={"name": "hunter2", "count": "x"}
    )
    assert "hunter2" not in (await response.get_data(as_text=True))


async def test_unexpected_error_is_500_without_exception_text(
    probe_client: Client,
) -> None:
    response = await probe_client.get("/probe/boom")
    await problem(response, 500, "internal_error")
    text = await response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "RuntimeError" not in text


async def test_database_outage_is_503(probe_client: Client) -> None:
    response = await probe_client.get("/probe/db-down")
    body = await problem(response, 503, "service_unavailable")
    assert "driver text" not in str(body)
    assert response.headers["Retry-After"]


async def test_deadlock_is_503_to_retry(probe_client: Client) -> None:
    response = await probe_client.get("/probe/deadlock")
    body = await problem(response, 503, "service_unavailable")
    assert "driver text" not in str(body)
    assert response.headers["Retry-After"] == "1"


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver text")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("08006", True),  # connection_failure
        ("53300", True),  # too_many_connections
        ("57P01", True),  # admin_shutdown
        ("57P03", True),  # cannot_connect_now: starting up
        ("55000", True),  # the database is not accepting connections
        ("23505", False),  # unique_violation: a bug if it gets this far
        ("42P01", False),  # undefined_table
    ],
)
def test_postgres_refusing_service_is_an_outage(
    sqlstate: str, unavailable: bool
) -> None:
    error = DBAPIError("SELECT 1", {}, _DriverError(sqlstate))
    assert is_database_unavailable(error) is unavailable


async def test_app_error_carries_extra_members(probe_client: Client) -> None:
    body = await problem(
        await probe_client.get("/probe/conflict"), 409, "insufficient_stock"
    )
    assert body["product_id"] == 7


async def test_every_response_has_a_request_id(probe_client: Client) -> None:
    generated = await probe_client.get("/no/such/route")
    assert len(generated.headers["X-Request-ID"]) >= 16
    echoed = await probe_client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


async def test_security_headers_on_api_responses(probe_client: Client) -> None:
    response = await probe_client.get("/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
