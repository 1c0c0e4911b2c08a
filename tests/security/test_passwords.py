"""PasswordHasher: Argon2id above OWASP's floor, off the loop, bounded."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher as Argon2Hasher

from backend.errors import ServiceUnavailable
from backend.security.passwords import PasswordHasher
from tests.conftest import make_settings


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(make_settings("sqlite+aiosqlite://"))
    yield hasher
    hasher.close()


async def test_hash_is_argon2id_at_or_above_the_owasp_floor(
    hasher: PasswordHasher,
) -> None:
    encoded = await hasher.hash("Sturdy-Pass-42")
    assert encoded.startswith("$argon2id$")
    params = dict(part.split("=") for part in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert int(params["p"]) >= 1


async def test_verify_accepts_only_the_exact_password(hasher: PasswordHasher) -> None:
    encoded = await hasher.hash(" Spaced-Pass-1 ")
    assert await hasher.verify(encoded, " Spaced-Pass-1 ")
    assert not await hasher.verify(encoded, "Spaced-Pass-1")
    assert not await hasher.verify("not-a-hash", "x")


async def test_unknown_user_still_costs_a_verification(hasher: PasswordHasher) -> None:
    assert not await hasher.verify(None, "whatever")


async def test_weaker_parameters_need_a_rehash(hasher: PasswordHasher) -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    assert hasher.needs_rehash(weak.hash("x"))
    assert not hasher.needs_rehash(await hasher.hash("x"))


async def test_a_saturated_pool_answers_503_with_retry_after() -> None:
    hasher = PasswordHasher(
        make_settings(
            "sqlite+aiosqlite://", password_hash_concurrency=1, password_hash_wait=0.01
        )
    )
    outcomes = await asyncio.gather(
        *(hasher.hash("Sturdy-Pass-42") for _ in range(4)), return_exceptions=True
    )
    refused = [item for item in outcomes if isinstance(item, ServiceUnavailable)]
    assert refused
    assert refused[0].headers["Retry-After"] == "1"
    hasher.close()


async def test_the_bound_is_shared_by_every_worker_of_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two hashers stand for two workers; only the host's lock files connect them.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    settings = make_settings(
        "sqlite+aiosqlite://", password_hash_concurrency=1, password_hash_wait=0.01
    )
    workers = [PasswordHasher(settings), PasswordHasher(settings)]
    outcomes = await asyncio.gather(
        *(worker.hash("Sturdy-Pass-42") for worker in workers), return_exceptions=True
    )
    for worker in workers:
        worker.close()
    refused = [item for item in outcomes if isinstance(item, ServiceUnavailable)]
    hashed = [item for item in outcomes if isinstance(item, str)]
    assert len(refused) == 1
    assert len(hashed) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread policies are Linux's")
async def test_hashing_runs_at_idle_priority_and_nothing_else_does(
    hasher: PasswordHasher,
) -> None:
    assert await hasher._run(os.sched_getscheduler, 0) == os.SCHED_IDLE
    # Between hashes the pool's threads, and the event loop's, are normal.
    between = hasher._pool.submit(os.sched_getscheduler, 0)
    assert between.result(timeout=5) == os.SCHED_OTHER
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
