"""`--dev-shm DIR` / `--dev-mqueue DIR` with removal: only a tmpfs (an mqueue filesystem for
queues) is ever unlinked from. Real files in ordinary directories; `clean --yes` and the real
removals run in a child's own IPC and mount namespaces, over a fresh tmpfs and mqueue."""

from __future__ import annotations

import json
import os
from pathlib import Path

import posix_ipc
import pytest

from shmtop.clean.remove import Remover
from shmtop.collect.mqueue import NotMounted, scan_mqueue
from shmtop.libc import TMPFS_MAGIC, filesystem_name, filesystem_type
from shmtop.model import FileType, PosixMq
from shmtop.model.roots import Roots
from tests.namespaces import run_with_mounts
from tests.test_inspect import shmtop


@pytest.fixture(autouse=True)
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own audit log (never the real user's)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def ordinary(tmp_path: Path) -> Path:
    """A directory on the disk holding files named like a shared memory object and a
    semaphore."""
    directory = tmp_path / "ordinary"
    directory.mkdir()
    if on(directory) == filesystem_name(TMPFS_MAGIC):
        pytest.skip("tmp_path is on a tmpfs, where POSIX objects may live")
    for name in ("victim", "sem.victim"):
        (directory / name).write_bytes(b"keep")
    return directory


def on(directory: Path) -> str:
    """The name of the filesystem directory is on."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return filesystem_name(filesystem_type(fd))
    finally:
        os.close(fd)


def results(*argv: str) -> list[dict[str, str]]:
    status, out, err = shmtop(*argv, "--json")
    assert status == 1, err
    return list(json.loads(out)["results"])


def test_rm_unlinks_nothing_from_a_directory_that_is_not_a_tmpfs(ordinary: Path) -> None:
    refs = ["posix-shm:/victim", "posix-sem:/victim"]
    found = results("rm", "--yes", "--dev-shm", str(ordinary), *refs)
    assert [r["result"] for r in found] == ["refused", "refused"]
    assert [r["detail"] for r in found] == [
        f"{ref} not removed: {ordinary} is on {on(ordinary)}, not on a tmpfs, so this is no "
        "IPC object"
        for ref in refs
    ]
    assert sorted(p.name for p in ordinary.iterdir()) == ["sem.victim", "victim"]


def test_queues_are_unlinked_only_from_an_mqueue_filesystem(tmp_path: Path) -> None:
    """A queue seen in an mqueue filesystem whose directory is an ordinary one by the time of
    the removal (swapped after the listing) is checked again on the descriptor the unlink
    uses. (The listing itself reads only an mqueue filesystem: the queue is made by hand.)"""
    directory = tmp_path / "queues"
    directory.mkdir()
    (directory / "victim").write_bytes(b"QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0\n")
    st = (directory / "victim").lstat()
    queue = PosixMq(
        name=b"/victim", type=FileType.FILE, size=st.st_size, allocated=0, uid=st.st_uid,
        gid=st.st_gid, mode=0o644, mtime_ns=st.st_mtime_ns, ctime_ns=None, dev=st.st_dev,
        inode=st.st_ino, nlink=1,
    )  # fmt: skip
    with pytest.raises(NotMounted):
        scan_mqueue(str(directory))
    outcome = Remover(Roots(dev_mqueue=str(directory))).remove(queue)
    assert outcome.result == "refused"
    assert outcome.detail == (
        f"posix-mq:/victim not removed: {directory} is on {on(directory)}, not on an mqueue "
        "filesystem, so this is no IPC object"
    )
    assert (directory / "victim").exists()


def test_clean_removes_from_a_tmpfs_and_an_mqueue_filesystem_only(
    ordinary: Path, tmp_path: Path
) -> None:
    """In the child's own IPC and mount namespaces: a fresh /dev/shm tmpfs and an mqueue
    filesystem of that namespace, so `clean --yes` sees only what the test made."""
    queues = tmp_path / "mqueue"
    queues.mkdir()
    posix = ("--kind", "posix-shm,posix-sem,posix-mq", "--min-age", "0")
    isolated = ("--ignore-unreadable", "1", "--dev-mqueue", str(queues))

    def clean() -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
        posix_ipc.SharedMemory("/leaked", posix_ipc.O_CREX, size=4096).close_fd()
        posix_ipc.Semaphore("/leaked", posix_ipc.O_CREX).close()
        posix_ipc.MessageQueue("/leaked", posix_ipc.O_CREX).close()
        refused = results("clean", "--yes", *posix, *isolated, "--dev-shm", str(ordinary))
        status, out, err = shmtop("clean", "--yes", "--json", *posix, *isolated)
        assert status == 0, err
        left = os.listdir("/dev/shm") + os.listdir(queues)
        return refused, json.loads(out)["results"], left

    mounts = {"/dev/shm": ("tmpfs", "size=1m"), str(queues): ("mqueue", "")}
    refused, removed, left = run_with_mounts(mounts, clean, new_ipc=True)
    assert {r["ref"]: r["result"] for r in refused} == {
        "posix-shm:/victim": "refused",
        "posix-sem:/victim": "refused",
        "posix-mq:/leaked": "removed",  # the queue is on its mqueue filesystem
    }
    assert sorted(p.name for p in ordinary.iterdir()) == ["sem.victim", "victim"]
    assert {r["ref"]: r["result"] for r in removed} == {
        "posix-shm:/leaked": "removed",
        "posix-sem:/leaked": "removed",
    }
    assert left == []
