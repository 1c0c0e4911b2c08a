"""Files shared by every process of this user on this host."""

from __future__ import annotations

import os
from pathlib import Path


def open_private(path: Path) -> int:
    """A read-write descriptor for `path`, created with mode 0600.

    These files steer every worker (a change stamp, a lock), so one that
    belongs to another user, or that others may access, is refused.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    status = os.fstat(descriptor)
    if status.st_uid != os.geteuid() or status.st_mode & 0o077:
        os.close(descriptor)
        raise RuntimeError(f"{path} must belong to this user, mode 0600")
    return descriptor
