"""The one policy for files shared by every process of this user on this host.

Host files steer every worker (a login throttle, a hash slot, a change stamp,
the metrics a scrape adds up), so another local user must not be able to
read them, plant them, or point them elsewhere:

- they all live in one private directory: `$XDG_RUNTIME_DIR/backend` when the
  session has a runtime directory, else `<temp dir>/backend-<uid>`; never the
  world-writable temp directory itself;
- a directory must be a real directory (not a symlink), owned by this user,
  mode 0700; a file a regular file (opened with `O_NOFOLLOW`), owned by this
  user, mode 0600. Both are created that way when missing;
- anything that fails a check raises `HostFileError` naming the path: callers
  check at startup, so the server refuses to start rather than fail requests.

Every host file goes through here: `private_directory()` for where,
`open_private` for a descriptor, `private_file` for libraries that open a
path themselves (SQLite, prometheus-client), `private_subdirectory` for a
directory inside it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

_FILE_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class HostFileError(RuntimeError):
    """A host file or directory that is not safely ours; the message names it."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"host file {path} refused: {problem}. It must be this user's "
            f"(uid {os.geteuid()}) alone; remove it, or fix its owner and mode."
        )
        self.path = path


def private_directory() -> Path:
    """This user's directory for host files: created 0700, checked every call."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        # The session's own directory (systemd makes it 0700 for this user);
        # checked all the same, since the variable may point anywhere.
        _check_directory(Path(runtime), exact_mode=False)
        return private_subdirectory(Path(runtime) / "backend")
    return private_subdirectory(Path(tempfile.gettempdir()) / f"backend-{os.geteuid()}")


def private_subdirectory(path: Path) -> Path:
    """`path` as a directory of this user, mode 0700: created, or refused."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass  # checked below, whoever made it
    except OSError as error:
        raise HostFileError(path, _reason(error)) from None
    _check_directory(path, exact_mode=True)
    return path


def open_private(path: Path, *, create: bool = True) -> int:
    """A read-write descriptor for the regular file `path`, mode 0600, ours.

    With `create=False` a missing file is fine and gives -1 (the caller only
    wants an existing one checked).
    """
    flags = _FILE_FLAGS | (os.O_CREAT if create else 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileNotFoundError:
        if create:
            raise HostFileError(path, "its directory is missing") from None
        return -1
    except OSError as error:
        raise HostFileError(path, _reason(error)) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise HostFileError(path, "it is not a regular file")
        _check_owner_and_mode(path, status, 0o600, exact_mode=True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def private_file(path: Path) -> Path:
    """Create or check `path` (see `open_private`) for a library that opens it."""
    os.close(open_private(path))
    return path


def check_if_present(path: Path) -> None:
    """Check `path` like `open_private` if it exists (files a library creates)."""
    descriptor = open_private(path, create=False)
    if descriptor >= 0:
        os.close(descriptor)


def _check_directory(path: Path, *, exact_mode: bool) -> None:
    try:
        seen = os.lstat(path)
    except OSError as error:
        raise HostFileError(path, _reason(error)) from None
    if stat.S_ISLNK(seen.st_mode):
        raise HostFileError(path, "it is a symbolic link")
    if not stat.S_ISDIR(seen.st_mode):
        raise HostFileError(path, "it is not a directory")
    # Opened without following links, and compared with what lstat saw, so a
    # directory swapped for a link in between is caught too.
    try:
        descriptor = os.open(path, _DIRECTORY_FLAGS)
    except OSError as error:
        raise HostFileError(path, _reason(error)) from None
    try:
        status = os.fstat(descriptor)
        if (status.st_dev, status.st_ino) != (seen.st_dev, seen.st_ino):
            raise HostFileError(path, "it changed while being checked")
        _check_owner_and_mode(path, status, 0o700, exact_mode=exact_mode)
    finally:
        os.close(descriptor)


def _check_owner_and_mode(
    path: Path, status: os.stat_result, mode: int, *, exact_mode: bool
) -> None:
    if status.st_uid != os.geteuid():
        raise HostFileError(path, f"it belongs to uid {status.st_uid}")
    actual = stat.S_IMODE(status.st_mode)
    if (actual != mode) if exact_mode else (actual & 0o077):
        raise HostFileError(path, f"its mode is {actual:04o}, not {mode:04o}")


def _reason(error: OSError) -> str:
    # O_NOFOLLOW fails with ELOOP on a symlink, O_DIRECTORY with ENOTDIR.
    if error.errno == errno.ELOOP:
        return "it is a symbolic link"
    if error.errno == errno.ENOTDIR:
        return "it is not a directory"
    return error.strerror or str(error)
