"""HostSlots: a counting lock across threads and processes of one host."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.host.slots import HostSlots


def test_no_more_holders_than_slots_across_threads(tmp_path: Path) -> None:
    slots = HostSlots([tmp_path / "a.lock", tmp_path / "b.lock"])
    holding = 0
    most = 0
    counter = threading.Lock()
    # Holders leave in pairs, so two overlap however the threads are scheduled.
    pair = threading.Barrier(2, timeout=10)

    def hold_a_while() -> None:
        nonlocal holding, most
        with slots.hold(time.monotonic() + 10):
            with counter:
                holding += 1
                most = max(most, holding)
            pair.wait()
            time.sleep(0.05)  # a third holder, were there a third slot, gets in
            with counter:
                holding -= 1

    threads = [threading.Thread(target=hold_a_while) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.close()
    assert most == 2


def test_a_slot_is_free_again_once_its_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "only.lock"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from backend.host.slots import HostSlots\n"
        "with HostSlots([Path(sys.argv[1])]).hold(time.monotonic() + 10):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n"
    )
    slots = HostSlots([path])
    command = [sys.executable, "-c", script, str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(TimeoutError), slots.hold(time.monotonic() + 0.1):
                pass
        finally:
            holder.kill()  # no unlock, no cleanup: the kernel lets go
    with slots.hold(time.monotonic() + 5):
        pass
    slots.close()
