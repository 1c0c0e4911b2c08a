"""Files shared by every process of this user on this host."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
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


def private_directory() -> Path:
    """This user's directory for host files: created 0700, refused if not ours.

    What lives in it steers or reports every worker of this user on this host,
    so it must be nobody else's to read or plant files in.
    """
    path = Path(tempfile.gettempdir()) / f"backend-{os.geteuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    status = path.lstat()
    if (
        not stat.S_ISDIR(status.st_mode)
        or status.st_uid != os.geteuid()
        or status.st_mode & 0o077
    ):
        raise RuntimeError(f"{path} must be a directory of this user, mode 0700")
    return path
