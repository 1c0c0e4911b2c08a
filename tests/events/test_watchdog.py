"""The send watchdog closes only the sockets whose frame is overdue."""

from __future__ import annotations

import time

from backend.events import Subscriber
from backend.events.watchdog import SendWatchdog


def _subscriber() -> Subscriber:
    return Subscriber(user_id=1, is_admin=False, queue_size=10)


def test_only_a_send_past_its_deadline_closes_its_socket_with_1013() -> None:
    watchdog = SendWatchdog(timeout=10)
    stalled, also_stalled, finished = _subscriber(), _subscriber(), _subscriber()
    for subscriber in (stalled, also_stalled, finished):
        watchdog.started(subscriber)
    watchdog.finished(finished)
    watchdog.sweep(time.monotonic() + 5)
    assert stalled.close_code is None
    watchdog.sweep(time.monotonic() + 11)
    watchdog.finished(stalled)
    watchdog.finished(also_stalled)
    watchdog.sweep(time.monotonic() + 100)
    assert stalled.close_code == also_stalled.close_code == 1013
    assert finished.close_code is None
