"""Async online-shop backend on Quart."""

from backend.app import create_app

__all__ = ["create_app"]
