"""The host-file policy, tried as a hostile second local user would.

The other user can write to the shared temp directory (world-writable, like
/tmp), so they can plant a directory, a file or a symlink where this user's
host files will go, or try to read them once they exist. Each attempt must be
refused with an error naming the path; none may make this user create a file
through a symlink, or let the other user read or change what it keeps there.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from backend.host.counters import HostCounter
from backend.host.files import (
    HostFileError,
    open_private,
    private_directory,
    private_file,
)
from backend.host.slots import HostSlots
from tests.support.local_users import as_other_user, other_uid


def ours(shared_tmp: Path) -> Path:
    return shared_tmp / f"backend-{os.geteuid()}"


def refused(path: Path, problem: str = "") -> str:
    """The start of the error for `path` (a pattern for `pytest.raises`)."""
    return re.escape(f"host file {path} refused: {problem}")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_directory_is_made_for_this_user_alone(shared_tmp: Path) -> None:
    directory = private_directory()
    assert directory == ours(shared_tmp)
    assert directory.lstat().st_uid == os.geteuid()
    assert mode(directory) == 0o700
    assert private_directory() == directory  # and accepted again


def test_files_are_made_for_this_user_alone(shared_tmp: Path) -> None:
    path = private_file(private_directory() / "a.lock")
    assert path.lstat().st_uid == os.geteuid()
    assert mode(path) == 0o600


def test_the_runtime_directory_is_used_when_the_session_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert private_directory() == runtime / "backend"
    assert mode(runtime / "backend") == 0o700


def test_a_runtime_directory_others_can_enter_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    runtime.chmod(0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with pytest.raises(HostFileError, match=refused(runtime, "its mode is 0755")):
        private_directory()
    assert not (runtime / "backend").exists()


@pytest.mark.parametrize(
    ("plant", "problem"),
    [
        (lambda path: path.mkdir(mode=0o755), "its mode is 0755, not 0700"),
        (lambda path: path.write_text("x"), "it is not a directory"),
        (lambda path: path.symlink_to(path.parent), "it is a symbolic link"),
    ],
    ids=["open-mode", "a-file", "a-symlink"],
)
def test_a_directory_that_is_not_private_is_refused(
    shared_tmp: Path, plant: object, problem: str
) -> None:
    path = ours(shared_tmp)
    plant(path)  # type: ignore[operator]
    with pytest.raises(HostFileError, match=refused(path, problem)):
        private_directory()


def test_a_symlink_where_a_file_goes_is_not_followed(shared_tmp: Path) -> None:
    directory = private_directory()
    target = shared_tmp / "target"
    (directory / "a.lock").symlink_to(target)  # dangling: opening would create it
    with pytest.raises(
        HostFileError, match=refused(directory / "a.lock", "it is a symbolic link")
    ):
        open_private(directory / "a.lock")
    assert not target.exists()


@pytest.mark.parametrize("file_mode", [0o644, 0o660, 0o400])
def test_a_file_with_another_mode_is_refused(shared_tmp: Path, file_mode: int) -> None:
    path = private_directory() / "a.lock"
    path.touch()
    path.chmod(file_mode)
    with pytest.raises(HostFileError, match=f"its mode is {file_mode:04o}, not 0600"):
        open_private(path)


def test_a_directory_where_a_file_goes_is_refused(shared_tmp: Path) -> None:
    path = private_directory() / "a.lock"
    path.mkdir()
    with pytest.raises(HostFileError, match=refused(path)):
        open_private(path)


def test_a_missing_file_is_fine_only_when_not_asked_to_create(
    shared_tmp: Path,
) -> None:
    path = private_directory() / "a.lock"
    assert open_private(path, create=False) == -1
    assert not path.exists()


# As the other user, for real.


def test_a_directory_the_other_user_made_first_is_refused(shared_tmp: Path) -> None:
    path = ours(shared_tmp)
    made = as_other_user("mkdir", "-m", "0777", str(path))
    assert made.returncode == 0, made.stderr

    with pytest.raises(
        HostFileError, match=refused(path, f"it belongs to uid {other_uid()}")
    ):
        private_directory()
    # What would have gone in it is created nowhere.
    with pytest.raises(HostFileError):
        HostSlots.named("argon2", 1)
    assert list(path.iterdir()) == []


def test_a_directory_the_other_user_made_private_is_refused(shared_tmp: Path) -> None:
    path = ours(shared_tmp)
    assert as_other_user("mkdir", "-m", "0700", str(path)).returncode == 0
    with pytest.raises(
        HostFileError, match=refused(path, f"it belongs to uid {other_uid()}")
    ):
        private_directory()


def test_a_symlink_the_other_user_planted_for_the_directory_is_refused(
    shared_tmp: Path,
) -> None:
    theirs = shared_tmp / "theirs"
    assert as_other_user("mkdir", "-m", "0777", str(theirs)).returncode == 0
    path = ours(shared_tmp)
    assert as_other_user("ln", "-s", str(theirs), str(path)).returncode == 0

    with pytest.raises(HostFileError, match=refused(path, "it is a symbolic link")):
        HostSlots.named("argon2", 1)
    assert list(theirs.iterdir()) == []


async def test_the_other_user_can_neither_read_nor_plant_host_files(
    shared_tmp: Path,
) -> None:
    counter = HostCounter.for_database("postgresql+asyncpg://db/shop")
    await counter.open()
    try:
        await counter.hit("rl:login-account:admin", 60)
        HostSlots.named("argon2", 1).close()
        directory = private_directory()
        files = sorted(path for path in directory.iterdir() if path.is_file())
        assert files  # the counters, their lock and WAL files, the slot
        assert all(mode(path) == 0o600 for path in files)

        for path in files:
            read = as_other_user("cat", str(path))
            assert read.returncode != 0
            assert "admin" not in read.stdout
        assert as_other_user("ls", str(directory)).returncode != 0
        assert as_other_user("touch", str(directory / "planted")).returncode != 0
        link = as_other_user("ln", "-s", "/etc/passwd", str(directory / "x.lock"))
        assert link.returncode != 0
        assert not (directory / "planted").exists()
        assert not (directory / "x.lock").is_symlink()
    finally:
        await counter.close()


async def test_a_counter_file_the_other_user_owns_is_refused(
    shared_tmp: Path,
) -> None:
    counter = HostCounter.for_database("postgresql+asyncpg://db/shop")
    # Planted by another user (as after a `chown`): it could read and reset it.
    private_file(counter.path)
    os.chown(counter.path, other_uid(), -1)
    with pytest.raises(HostFileError, match=refused(counter.path, "it belongs")):
        await counter.open()
    await counter.close()
