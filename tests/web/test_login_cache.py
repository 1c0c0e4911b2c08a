"""The login cache on its own: stamps, tickets, eviction, expiry, the listener's say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from backend.host.change_stamps import ChangeStamps
from backend.models.base import utcnow
from backend.security.tokens import AccessClaims
from backend.services.logins import LiveLogin, TokenLogin
from backend.web.login_cache import LoginCache

CLAIMS = AccessClaims(user_id=7, session_id="s-7", token_version=0, jti="j")
LOGIN = LiveLogin("s-7", 7, 0, False)


@pytest.fixture
def stamps(tmp_path: Path) -> ChangeStamps:
    return ChangeStamps(tmp_path / "logins.stamps")


def _cache(stamps: ChangeStamps, *, enabled: bool = True) -> LoginCache:
    return LoginCache(stamps, max_entries=100, ttl=60.0, enabled=enabled)


def _checked(login: LiveLogin = LOGIN, seconds: float = 3600) -> TokenLogin:
    return TokenLogin(login, utcnow() + timedelta(seconds=seconds))


def _cached(cache: LoginCache) -> LoginCache:
    cache.store(cache.ticket(7), _checked())
    return cache


def test_a_live_login_is_served_until_its_user_is_stamped(
    stamps: ChangeStamps,
) -> None:
    cache = _cached(_cache(stamps))
    assert cache.lookup(CLAIMS) == LOGIN
    stamps.mark([8])
    assert cache.lookup(CLAIMS) == LOGIN
    stamps.mark([7])  # a revocation committed on some worker of this host
    assert cache.lookup(CLAIMS) is None
    assert len(cache) == 0


def test_only_the_same_user_and_token_version_hit(stamps: ChangeStamps) -> None:
    cache = _cached(_cache(stamps))
    other_version = AccessClaims(7, "s-7", 1, "j")
    other_user = AccessClaims(8, "s-7", 0, "j")
    assert cache.lookup(other_version) is None
    assert cache.lookup(other_user) is None
    assert cache.lookup(CLAIMS) == LOGIN


def test_a_check_that_raced_a_revocation_is_not_stored(stamps: ChangeStamps) -> None:
    cache = _cache(stamps)
    ticket = cache.ticket(7)
    stamps.mark([7])  # another worker revokes while this one asks the database
    cache.store(ticket, _checked())
    assert cache.lookup(CLAIMS) is None

    ticket = cache.ticket(7)
    cache.on_payload("7")  # another host's revocation is heard meanwhile
    cache.store(ticket, _checked())
    assert cache.lookup(CLAIMS) is None


def test_a_notification_evicts_every_session_of_its_users(
    stamps: ChangeStamps,
) -> None:
    cache = _cached(_cache(stamps))
    second = LiveLogin("s-7b", 7, 0, False)
    cache.store(cache.ticket(7), _checked(second))
    cache.on_payload("3,7")
    assert cache.lookup(CLAIMS) is None
    assert cache.lookup(AccessClaims(7, "s-7b", 0, "j")) is None
    assert len(cache) == 0


def test_an_ended_session_is_not_served(stamps: ChangeStamps) -> None:
    cache = _cache(stamps)
    cache.store(cache.ticket(7), _checked(seconds=-1))
    assert cache.lookup(CLAIMS) is None


def test_nothing_is_cached_while_the_listener_is_deaf(stamps: ChangeStamps) -> None:
    cache = _cached(_cache(stamps))
    cache.on_deaf()
    assert cache.lookup(CLAIMS) is None
    cache.store(cache.ticket(7), _checked())
    assert cache.lookup(CLAIMS) is None
    ticket = cache.ticket(7)
    cache.on_listening()  # what was read while deaf may be stale
    cache.store(ticket, _checked())
    assert cache.lookup(CLAIMS) is None
    _cached(cache)
    assert cache.lookup(CLAIMS) == LOGIN


def test_a_payload_it_cannot_read_empties_the_cache(stamps: ChangeStamps) -> None:
    cache = _cached(_cache(stamps))
    cache.on_payload("not ids")
    assert len(cache) == 0
