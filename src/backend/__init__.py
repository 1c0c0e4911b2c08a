"""Async online-shop backend on Quart.

Import nothing here: every module of the package runs this file first, so an
import here would make services reach Quart through it. `create_app` lives in
`backend.app`; Hypercorn's entry point is `backend.asgi:app`.
"""
