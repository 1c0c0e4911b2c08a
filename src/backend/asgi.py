"""Hypercorn's entry point: `hypercorn -c hypercorn.toml backend.asgi:app`."""

from backend.app import create_app
from backend.server import startup

# Building the app checks the host files; a worker that cannot stops the server.
with startup.stop_server_on_failure():
    app = create_app()
