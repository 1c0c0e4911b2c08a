"""Business logic: plain async functions taking the session first.

Services may import `models`, `schemas`, `security`, `host`, `errors`, `mail`'s
message parts and the Quart-free parts of `db`. They never reach Quart, `web`,
`server` or `events`, even through another module (tests/test_architecture.py).
"""
