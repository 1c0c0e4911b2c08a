"""Argon2id hashing on a thread pool, bounded host-wide, never on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backend.config import Settings
from backend.errors import ServiceUnavailable
from backend.host.slots import HostSlots

T = TypeVar("T")


def _at_idle_priority(func: Callable[..., T], *args: object) -> T:
    """Run `func` (an Argon2 call) in this thread at the lowest CPU priority.

    A login storm then takes only the CPU that nothing else wants, and the
    event loops stay responsive; under full CPU load logins slow down first
    (past PASSWORD_HASH_WAIT, 503). Only the hashing itself, which runs without
    the GIL, is at idle priority: a thread preempted at idle priority while
    holding the GIL would stall the event loop behind it.
    """
    _set_idle_priority(True)
    try:
        return func(*args)
    finally:
        _set_idle_priority(False)


def _set_idle_priority(idle: bool) -> None:
    # Linux: SCHED_IDLE yields to every normal thread at once. Given a thread
    # id, it applies to just that thread. Elsewhere priorities stay as they are.
    policy = getattr(os, "SCHED_IDLE" if idle else "SCHED_OTHER", None)
    if policy is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(threading.get_native_id(), policy, os.sched_param(0))


class PasswordHasher:
    """Hashes and verifies, at most `password_hash_concurrency` at once per host.

    The bound is host-wide (see `HostSlots`), not per worker: hashes beyond
    one per core only take turns on the same cores, and each one running
    contends with the event loops for CPU and caches. A request that cannot
    start its hash within `password_hash_wait` seconds gets 503 rather than
    queueing without bound behind a login storm.
    """

    def __init__(self, settings: Settings) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._concurrency = settings.password_hash_concurrency
        self._wait = settings.password_hash_wait
        self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="argon2")
        self._host_slots = HostSlots.named("argon2", self._concurrency)
        # This worker's share of the waiting: no more threads than slots.
        self._waiting: asyncio.Semaphore | None = None
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, burn the same time and fail."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            await self._run(self._check, self._dummy_hash, password)
            return False
        return await self._run(self._check, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._host_slots.close()

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        deadline = time.monotonic() + self._wait
        if self._waiting is None:
            self._waiting = asyncio.Semaphore(self._concurrency)
        try:
            async with asyncio.timeout(self._wait):
                await self._waiting.acquire()
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._in_host_slot, deadline, func, *args
                )
            finally:
                self._waiting.release()
        except TimeoutError:
            raise ServiceUnavailable(
                "Too many password checks in progress; retry shortly.", retry_after=1
            ) from None

    def _in_host_slot(
        self, deadline: float, func: Callable[..., T], *args: object
    ) -> T:
        with self._host_slots.hold(deadline):
            return _at_idle_priority(func, *args)
