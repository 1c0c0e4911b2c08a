"""A serving worker freezes its startup heap and collects young garbage rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.app import create_app
from backend.server.gc_tuning import THRESHOLDS
from tests.conftest import make_settings


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.mark.usefixtures("restored_gc")
async def test_a_serving_worker_tunes_the_collector(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"
    app = create_app(make_settings(url, app_env="development"))
    async with app.test_app():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_gc")
async def test_the_test_process_keeps_the_default_collector(tmp_path: Path) -> None:
    before = gc.get_threshold()
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"))
    async with app.test_app():
        assert gc.get_threshold() == before
