"""Hypercorn's entry point: `hypercorn -c hypercorn.toml backend.asgi:app`."""

from backend.app import create_app

app = create_app()
