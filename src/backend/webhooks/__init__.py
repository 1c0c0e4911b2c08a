"""Signed webhooks: order events POSTed to admins' endpoints (Standard Webhooks).

    secrets.py    `whsec_` secrets, encrypted at rest under a key from SECRET_KEY
    signing.py    the `webhook-*` headers and their HMAC-SHA256 signatures
    addresses.py  the SSRF guard: which URLs and resolved addresses may be called
    endpoints.py  the admin's verbs: create, change, rotate, delete, redeliver
    dispatch.py   the dispatcher job: order events after each endpoint's cursor
                  become one delivery job per (endpoint, event)
    delivery.py   the delivery job: one signed POST, logged, retried, disabling
    metrics.py    deliveries by result, age of the oldest undelivered event (read
                  before each /metrics scrape)
    lifecycle.py  the per-process HTTP client and the dispatcher's wake-ups

Events reach endpoints through the job queue only: placing an order does no
webhook work at all. Everything but `lifecycle.py` is plain Python on
SQLAlchemy and aiohttp; it never reaches Quart.
"""
