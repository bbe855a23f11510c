"""The safe walk to a directory root writes in (shmtop.safepath), over real directories,
symlinks and another user's directories (uid nobody)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shmtop.safepath import UnsafePath, open_private_directory
from tests.privileges import NOBODY, require_root, run_as_nobody


def opened(path: Path | str, create: bool = False) -> os.stat_result:
    """What the walk opened (fstat of its descriptor)."""
    fd = open_private_directory(str(path), create=create)
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def refused(path: Path | str, create: bool = False) -> str:
    with pytest.raises(UnsafePath) as caught:
        opened(path, create)
    return str(caught.value)


def directory(path: Path, mode: int = 0o700, uid: int = 0) -> Path:
    path.mkdir()
    path.chmod(mode)  # not the umask's
    os.chown(path, uid, uid)
    return path


def test_missing_directories_are_created_private(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    st = opened(target, create=True)
    assert (st.st_dev, st.st_ino) == (target.stat().st_dev, target.stat().st_ino)
    for made in (tmp_path / "a", target):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700 and made.stat().st_uid == 0
    with pytest.raises(FileNotFoundError):
        opened(tmp_path / "absent")


def test_a_symlink_anywhere_in_the_path_is_refused(tmp_path: Path) -> None:
    real = directory(tmp_path / "real")
    (real / "inner").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    assert refused(tmp_path / "link") == f"{tmp_path}/link is a symlink, not a directory"
    assert "link is a symlink" in refused(tmp_path / "link" / "inner")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert "dangling is a symlink" in refused(tmp_path / "dangling", create=True)
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "file").write_bytes(b"")
    assert "file is a regular file, not a directory" in refused(tmp_path / "file")


def test_another_users_directory_is_refused_at_the_end_or_on_the_way(tmp_path: Path) -> None:
    require_root("chown to nobody")
    theirs = directory(tmp_path / "theirs", 0o755, NOBODY)
    ours_inside = directory(theirs / "ours")  # root's, but nobody may rename or replace it
    assert refused(theirs) == f"{theirs} belongs to nobody (uid {NOBODY}), not to you or root"
    assert refused(ours_inside).startswith(f"{theirs} belongs to nobody")


def test_a_directory_others_may_write_is_refused_unless_sticky_on_the_way(
    tmp_path: Path,
) -> None:
    shared = directory(tmp_path / "shared", 0o777)
    group = directory(tmp_path / "group", 0o770)
    sticky = directory(tmp_path / "sticky", 0o1777)
    assert refused(shared) == f"{shared} is writable by others (mode 0777)"
    assert refused(group) == f"{group} is writable by others (mode 0770)"
    assert refused(sticky) == f"{sticky} is writable by others (mode 1777)"
    assert "writable by others and not sticky" in refused(directory(shared / "mine"))
    mine = directory(sticky / "mine")
    assert opened(mine).st_ino == mine.stat().st_ino  # /tmp/mine: fine
    planted = directory(sticky / "planted", 0o700, NOBODY)
    assert "belongs to nobody" in refused(planted)


def test_a_relative_path_is_checked_from_the_root_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert opened("made/here", create=True).st_ino == (tmp_path / "made" / "here").stat().st_ino
    assert opened("made/here/../here").st_ino == (tmp_path / "made" / "here").stat().st_ino
    theirs = directory(tmp_path / "theirs", 0o755, NOBODY)
    monkeypatch.chdir(theirs)
    assert "belongs to nobody" in refused(".", create=True)


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A directory under /tmp that nobody can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="shmtop-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_an_ordinary_user_may_write_in_their_own_directory(reachable: Path) -> None:
    theirs = directory(reachable / "theirs", 0o700, NOBODY)
    directory(reachable / "roots", 0o755)

    def walk(path: str) -> str:
        try:
            fd = open_private_directory(path, create=True)
        except UnsafePath as exc:
            return str(exc)
        os.close(fd)
        return "ok"

    assert run_as_nobody(walk, str(theirs / "backups")) == "ok"
    assert (theirs / "backups").stat().st_uid == NOBODY
    assert run_as_nobody(walk, str(reachable / "roots")) == "ok"  # root's: trusted by all
    someone_else = directory(reachable / "other", 0o755, 4242)
    assert (
        run_as_nobody(walk, str(someone_else))
        == f"{someone_else} belongs to uid 4242, not to you or root"
    )
