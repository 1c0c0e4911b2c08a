"""The database: `Database` and its sessions, engines per database kind, the
fair pool, the per-request scope, commit hooks and failure classification.

Only `request_scope` knows Quart; services may import the rest (it must never
reach Quart, `web`, `server` or `events`).
"""
