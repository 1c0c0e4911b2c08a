"""Password hashing and token issue/verification.

No Quart: services use these; `host` provides the hash slots.
"""
