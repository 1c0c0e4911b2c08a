"""hypercorn.toml's listening sockets: one address, one SO_REUSEPORT group.

Why several sockets is in the comment above `bind`; what they buy is measured
by `many-clients` in bench/ (docs/performance.md), not here.
"""

from __future__ import annotations

import socket

import pytest
from hypercorn.config import Config

from tests.support.server import PROJECT_ROOT, free_port


@pytest.fixture
def config() -> Config:
    return Config.from_toml(PROJECT_ROOT / "hypercorn.toml")


def test_every_bind_is_the_same_address(config: Config) -> None:
    assert len(config.bind) > 1
    assert set(config.bind) == {"0.0.0.0:8000"}
    # Hypercorn sets SO_REUSEPORT only for several workers; without it the
    # second socket fails to listen.
    assert config.workers > 1


def test_hypercorn_binds_them_all_to_one_port(config: Config) -> None:
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"] * len(config.bind)
    sockets = config.create_sockets().insecure_sockets
    try:
        assert len(sockets) == len(config.bind)
        for sock in sockets:
            assert sock.getsockname() == ("127.0.0.1", port)
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        for sock in sockets:
            sock.close()
