"""The audit log as root: never through a symlink, never into a FIFO (nor blocked by one),
never into another user's file; removals go on without it. Real objects removed by reference,
real directories, FIFOs and another user (nobody)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from shmtop.clean.audit import AuditLog
from shmtop.clean.remove import Remover
from shmtop.collect import collect_snapshot
from shmtop.model import IpcObject
from tests.ipcfactory import IpcFactory
from tests.privileges import NOBODY, require_root
from tests.test_inspect import shmtop


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$XDG_STATE_HOME for this test; the log goes to state/shmtop/removals.jsonl."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def log_directory(state: Path) -> Path:
    (state / "shmtop").mkdir(parents=True, mode=0o700)
    return state / "shmtop"


def current(ref: str) -> IpcObject:
    return next(o for o in collect_snapshot().objects if o.ref == ref)


def exists(ref: str) -> bool:
    return any(o.ref == ref for o in collect_snapshot().objects)


def removed_with_note(ipc: IpcFactory, note: str) -> None:
    """`shmtop rm --yes` removes a new object and says, in one line, that it is not logged."""
    ref = f"posix-shm:{ipc.posix_shm()}"
    status, out, err = shmtop("rm", "--yes", ref)
    assert status == 0 and out.endswith(f"\nremoved: {ref} removed\n")
    assert err == f"shmtop: note: no audit log ({note})\n"
    assert not exists(ref)


def test_a_symlinked_log_directory_is_not_followed(ipc: IpcFactory, state: Path) -> None:
    elsewhere = state.parent / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    state.mkdir(mode=0o700)
    (state / "shmtop").symlink_to(elsewhere)
    removed_with_note(ipc, f"{state}/shmtop is a symlink, not a directory")
    ref = f"posix-shm:{ipc.posix_shm()}"
    outcome = Remover(audit=AuditLog()).remove(current(ref))  # as the dashboard removes
    assert outcome.result == "removed"
    assert outcome.detail == (
        f"{ref} removed (not in the audit log: {state}/shmtop is a symlink, not a directory)"
    )
    assert list(elsewhere.iterdir()) == []


def test_a_log_directory_another_user_owns_is_not_used(ipc: IpcFactory, state: Path) -> None:
    require_root("chown to nobody")
    state.mkdir(mode=0o755)
    os.chown(state, NOBODY, NOBODY)
    removed_with_note(ipc, f"{state} belongs to nobody (uid {NOBODY}), not to you or root")
    assert list(state.iterdir()) == []


def test_a_fifo_as_the_log_does_not_hang_the_removal(
    ipc: IpcFactory, state: Path, shmtop_cmd: list[str]
) -> None:
    fifo = log_directory(state) / "removals.jsonl"
    os.mkfifo(fifo, 0o600)
    ref = f"posix-shm:{ipc.posix_shm()}"
    done = subprocess.run(
        [*shmtop_cmd, "rm", "--yes", ref],
        capture_output=True,
        text=True,
        timeout=20,  # a plain open() for writing waits for a reader forever
        env={**os.environ, "XDG_STATE_HOME": str(state)},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.endswith(f"\nremoved: {ref} removed\n")
    assert done.stderr == f"shmtop: note: no audit log ({fifo} is a fifo, not a file)\n"
    assert not exists(ref)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # now someone is reading it
    try:
        removed_with_note(ipc, f"{fifo} is a fifo, not a file")
        assert os.read(reader, 4096) == b""  # nothing was written into it
    finally:
        os.close(reader)


def test_a_log_file_that_is_not_only_ours_is_not_written(ipc: IpcFactory, state: Path) -> None:
    require_root("chown to nobody")
    log = log_directory(state) / "removals.jsonl"
    log.write_bytes(b"")
    os.chown(log, NOBODY, NOBODY)
    removed_with_note(ipc, f"{log} belongs to nobody (uid {NOBODY}), not to you")
    assert log.read_bytes() == b""
    log.unlink()
    elsewhere = state.parent / "precious"
    elsewhere.write_bytes(b"keep\n")
    os.link(elsewhere, log)
    removed_with_note(ipc, f"{log} has 2 names (hard links)")
    log.unlink()
    log.symlink_to(elsewhere)
    removed_with_note(ipc, f"{log} is a symlink, not a file")
    assert elsewhere.read_bytes() == b"keep\n"


def test_the_log_stays_the_file_first_opened(ipc: IpcFactory, state: Path) -> None:
    """Opened once: swapping its directory for a symlink afterwards redirects nothing."""
    refs = [f"posix-shm:{ipc.posix_shm()}" for _ in range(2)]
    seen = [current(ref) for ref in refs]
    elsewhere = state.parent / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    remover = Remover(audit=AuditLog())
    assert remover.remove(seen[0]).result == "removed"
    (state / "shmtop").rename(state / "moved")
    (state / "shmtop").symlink_to(elsewhere)
    assert remover.remove(seen[1]).detail == f"{refs[1]} removed"
    lines = (state / "moved" / "removals.jsonl").read_text().splitlines()
    assert [json.loads(line)["ref"] for line in lines] == refs
    assert list(elsewhere.iterdir()) == []
