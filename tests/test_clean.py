"""Removal and cleanup over real objects and processes: stale verdicts with reasons, the
identity check, hostile entries, permissions, batches, backups, dry runs and the audit log."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import pty
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import posix_ipc
import pytest
import sysv_ipc

from shmtop.clean.audit import AuditLog
from shmtop.clean.remove import Outcome, Remover
from shmtop.clean.stale import verdicts
from shmtop.clean.warnings import warnings
from shmtop.collect import collect_snapshot
from shmtop.demo import DemoWorkload
from shmtop.model import IpcObject, Kind, Snapshot, Verdict
from shmtop.model.kinds import identity_of
from tests.holders import holders
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import NOBODY, run_as_nobody
from tests.test_inspect import shmtop


@pytest.fixture
def hold() -> Iterator[Any]:
    with holders() as hold:
        yield hold


@pytest.fixture(autouse=True)
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own audit log (never the real user's)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "shmtop" / "removals.jsonl"


def made_by_exited_child(make: Callable[[], Any]) -> Any:
    """make()'s result, run in a child process that has exited by the time this returns."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write_end, pickle.dumps(make()))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    return result


def scan(*kinds: Kind) -> Snapshot:
    return collect_snapshot(kinds=list(kinds) or list(Kind), attachers=True)


def verdict_of(ref: str, min_age: float = 600, vouch: bool = True) -> Verdict:
    """The verdict on ref. `vouch`: processes whose /proc cannot be read (this machine's
    init, in a sandbox) are taken as using nothing, as `--ignore-unreadable` does."""
    snapshot = scan()
    assert snapshot.attach is not None
    ignore = snapshot.attach.unreadable_pids if vouch else frozenset()
    return verdicts(snapshot, min_age, ignore=ignore)[ref]


def current(ref: str) -> IpcObject:
    return next(o for o in collect_snapshot().objects if o.ref == ref)


LONELY_UID = 54321  # owns nothing else on a test machine: `clean --user 54321` touches only ours


def orphan_segment(ipc: IpcFactory, size: int = 4096, uid: int | None = None) -> int:
    """A segment whose creator (running as uid, when given) has exited."""

    def make() -> int:
        if uid is not None:
            os.setgid(uid)
            os.setuid(uid)
        return int(sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, size).id)

    shmid = made_by_exited_child(make)
    ipc.defer(lambda: sysv_ipc.remove_shared_memory(shmid))
    return int(shmid)


def exists(ref: str) -> bool:
    return any(o.ref == ref for o in collect_snapshot().objects)


# Stale verdicts -----------------------------------------------------------------------------


def test_a_segment_whose_creator_exited_is_stale_an_attached_one_is_not(
    ipc: IpcFactory, hold: Any
) -> None:
    orphan = orphan_segment(ipc)
    verdict = verdict_of(f"sysv-shm:{orphan}")
    assert verdict.stale
    assert verdict.reasons[0] == "nattch 0"
    assert any(r.startswith("creator ") and "exited" in r for r in verdict.reasons)
    attached = orphan_segment(ipc)
    holder = hold(lambda: sysv_ipc.attach(attached))
    verdict = verdict_of(f"sysv-shm:{attached}")
    assert not verdict.stale
    assert f"({holder.pid})" in verdict.reasons[0]
    holder.release()


def test_a_segment_whose_creator_lives_is_not_stale(ipc: IpcFactory) -> None:
    segment = ipc.sysv_shm()
    verdict = verdict_of(f"sysv-shm:{segment.id}")
    assert not verdict.stale
    assert verdict.reasons == (f"creator {os.getpid()} is still running",)


def test_a_posix_object_mapped_by_a_live_process_is_not_stale(ipc: IpcFactory, hold: Any) -> None:
    name = ipc.posix_shm()

    def mapped() -> object:
        import mmap

        memory = posix_ipc.SharedMemory(name)
        mapping = mmap.mmap(memory.fd, 4096)
        memory.close_fd()
        return mapping

    holder = hold(mapped)
    verdict = verdict_of(f"posix-shm:{name}", min_age=0)
    assert not verdict.stale
    assert verdict.reasons[0].startswith("used by ") and f"({holder.pid})" in verdict.reasons[0]
    holder.release()


def test_a_fresh_posix_object_is_not_stale_until_min_age(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()
    fresh = verdict_of(f"posix-shm:{name}")
    assert not fresh.stale and "within --min-age 10m" in fresh.reasons[0]
    old = verdict_of(f"posix-shm:{name}", min_age=0)
    assert old.stale
    assert old.reasons[0] == "no process maps it or holds it open"


def test_processes_that_cannot_be_inspected_keep_posix_objects_in_use(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()

    def judged() -> tuple[bool, tuple[str, ...], int]:
        snapshot = scan(Kind.POSIX_SHM)
        assert snapshot.attach is not None
        verdict = verdicts(snapshot, 0)[f"posix-shm:{name}"]
        return verdict.stale, verdict.reasons, snapshot.attach.unreadable

    stale, reasons, unreadable = run_as_nobody(judged)
    assert unreadable > 0  # as nobody, root's processes cannot be read
    assert not stale
    assert "could not be inspected and may use it" in reasons[0]


def test_a_queue_with_a_live_last_sender_is_not_stale(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    queue.send(b"mine")
    verdict = verdict_of(f"sysv-msg:{queue.id}", min_age=0)
    assert not verdict.stale
    assert verdict.reasons == (f"last sender {os.getpid()} is still running",)


def test_a_queue_whose_sender_exited_is_stale_once_idle(ipc: IpcFactory) -> None:
    def make() -> int:
        queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
        queue.send(b"left behind")
        return queue.id

    msqid = made_by_exited_child(make)
    ipc.defer(lambda: sysv_ipc.remove_message_queue(msqid))
    assert not verdict_of(f"sysv-msg:{msqid}").stale  # idle for less than 10 minutes
    verdict = verdict_of(f"sysv-msg:{msqid}", min_age=0)
    assert verdict.stale
    assert verdict.reasons[0].startswith("last sender ") and "exited" in verdict.reasons[0]


def test_a_queue_nobody_used_is_never_stale_on_counts_alone(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    verdict = verdict_of(f"sysv-msg:{queue.id}", min_age=0)
    assert not verdict.stale
    assert "no process is recorded" in verdict.reasons[0]


# Identity checks ----------------------------------------------------------------------------


def test_a_name_deleted_and_recreated_after_listing_is_refused(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()
    seen = current(f"posix-shm:{name}")
    posix_ipc.unlink_shared_memory(name)
    posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=8192).close_fd()
    outcome = Remover().remove(seen)
    assert outcome.result == "refused"
    assert "is not the object you saw (inode" in outcome.detail
    assert exists(f"posix-shm:{name}")


def test_rm_with_a_stale_identity_is_refused_and_a_current_one_removes(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()
    ref = f"posix-shm:{name}"
    listed = next(o for o in json.loads(shmtop("list", "--json")[1])["objects"] if o["ref"] == ref)
    assert listed["identity"] == identity_of(current(ref))
    assert listed["stale"] is False and listed["stale_reasons"]
    os.truncate("/dev/shm" + name, 100)  # its ctime moves: no longer what the script saw
    time.sleep(0.01)
    status, _, err = shmtop("rm", "--yes", "--identity", listed["identity"], ref)
    assert status == 1 and "is not the object that identity names (ctime_ns" in err
    assert exists(ref)
    fresh = identity_of(current(ref))
    status, out, _ = shmtop("rm", "--yes", "--json", "--identity", fresh, ref)
    assert status == 0
    assert json.loads(out)["results"] == [
        {"ref": ref, "result": "removed", "detail": f"{ref} removed"}
    ]
    assert not exists(ref)


SHM_NEXT_ID_SCRIPT = """
import json, sysv_ipc
from shmtop.clean.remove import Outcome, Remover
from shmtop.collect import collect_snapshot
from shmtop.demo import DemoWorkload
def next_id(n):
    with open("/proc/sys/kernel/shm_next_id", "w") as f:
        f.write(str(n))
next_id(4242)
first = sysv_ipc.SharedMemory(0x1111, sysv_ipc.IPC_CREX, 0o600, 4096)
seen = next(o for o in collect_snapshot().objects if o.ref == f"sysv-shm:{first.id}")
first.detach(); first.remove()
next_id(4242)
second = sysv_ipc.SharedMemory(0x2222, sysv_ipc.IPC_CREX, 0o600, 8192)
second.detach()
outcome = Remover().remove(seen)
alive = any(o.ref == f"sysv-shm:{second.id}" for o in collect_snapshot().objects)
print(json.dumps([first.id, second.id, outcome.result, outcome.detail, alive]))
"""


def test_a_reused_sysv_id_is_refused() -> None:
    try:
        done = subprocess.run(
            ["unshare", "--ipc", sys.executable, "-c", SHM_NEXT_ID_SCRIPT],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except FileNotFoundError:
        pytest.skip("unshare (util-linux) is not installed: cannot make a private IPC namespace")
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"no private IPC namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    first, second, result, detail, alive = json.loads(done.stdout)
    assert first == second == 4242  # the same id, another object
    assert result == "refused"
    assert "is not the object you saw (key 4369 -> 8738" in detail
    assert alive


# What is never removed ----------------------------------------------------------------------


def test_symlinks_directories_and_fifos_are_never_stale_nor_removed(
    ipc: IpcFactory, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    names = [unique("link"), unique("dir"), unique("fifo"), "sem." + unique("semlink")]
    ipc.symlink(names[0].encode(), str(victim).encode())
    ipc.directory(names[1].encode())
    ipc.fifo(names[2].encode())
    ipc.symlink(names[3].encode(), str(victim).encode())
    refs = [f"posix-shm:/{n}" for n in names[:3]] + [f"posix-sem:/{names[3][4:]}"]
    snapshot = scan(Kind.POSIX_SHM, Kind.POSIX_SEM)
    assert snapshot.attach is not None
    ours = [o for o in snapshot.objects if o.ref in refs]
    assert len(ours) == 4
    judged = verdicts(snapshot, 0, ours, ignore=snapshot.attach.unreadable_pids)
    for obj in ours:  # even with every doubt waived
        assert not judged[obj.ref].stale
        assert judged[obj.ref].reasons[0].endswith("not a shared memory object: never removed")
        outcome = Remover().remove(obj)
        assert outcome.result == "refused"
        assert "shmtop removes only regular files" in outcome.detail
    _, out, _ = shmtop("clean", "--json", "--min-age", "0", "--ignore-unreadable", "1")
    assert not {p["ref"] for p in json.loads(out)["plan"]} & set(refs)
    assert all(os.path.lexists("/dev/shm/" + n) for n in names)
    assert victim.read_bytes() == b"keep"


# Permissions, batches, backups, dry runs ------------------------------------------------------


def test_removing_roots_object_as_nobody_says_who_may(ipc: IpcFactory) -> None:
    segment = ipc.sysv_shm()
    ref = f"sysv-shm:{segment.id}"
    status, out, _ = run_as_nobody(shmtop, "rm", "--yes", "--json", ref)
    assert status == 1
    [result] = json.loads(out)["results"]
    assert result["result"] == "refused"
    assert result["detail"] == f"{ref} belongs to root (uid 0), mode 0600: removing it needs root"
    assert exists(ref)


def test_a_batch_with_one_failure_removes_the_others(ipc: IpcFactory) -> None:
    def own_segment() -> int:
        return int(sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096).id)

    mine = [run_as_nobody(own_segment) for _ in range(2)]
    for shmid in mine:
        ipc.defer(lambda shmid=shmid: sysv_ipc.remove_shared_memory(shmid))
    roots = ipc.sysv_shm()
    refs = [f"sysv-shm:{mine[0]}", f"sysv-shm:{roots.id}", f"sysv-shm:{mine[1]}"]
    status, out, _ = run_as_nobody(shmtop, "rm", "--yes", "--json", *refs)
    assert status == 1
    assert [r["result"] for r in json.loads(out)["results"]] == ["removed", "refused", "removed"]
    assert [exists(ref) for ref in refs] == [False, True, False]
    assert current(refs[1]).uid == 0 and NOBODY != 0


def test_backup_holds_the_exact_bytes_and_fields(ipc: IpcFactory, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    name, _ = ipc.posix_shm_holding(data)
    segment = ipc.sysv_shm(size=8192)
    segment.attach()
    segment.write(b"segment data", 100)
    segment.detach()
    refs = [f"posix-shm:{name}", f"sysv-shm:{segment.id}"]
    status, out, _ = shmtop("rm", "--yes", "--json", "--backup", str(tmp_path / "saved"), *refs)
    assert status == 0
    saved = sorted((tmp_path / "saved").iterdir())
    assert len(saved) == 2
    by_ref = {json.loads((d / "object.json").read_text())["ref"]: d for d in saved}
    assert (by_ref[refs[0]] / "bytes").read_bytes() == data
    segment_bytes = (by_ref[refs[1]] / "bytes").read_bytes()
    assert len(segment_bytes) == 8192 and segment_bytes[100:112] == b"segment data"
    fields = json.loads((by_ref[refs[1]] / "object.json").read_text())
    assert fields["size"] == 8192 and fields["bytes_saved"] == 8192
    assert all("saved to" in r["detail"] for r in json.loads(out)["results"])


def dry_run_then_yes() -> dict[str, Any]:
    """In a sandbox: an orphaned segment, a live one, `clean` without and with --yes."""
    orphan = f"sysv-shm:{made_by_exited_child(lambda: orphan_segment_id(4096))}"
    live = f"sysv-shm:{sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096).id}"
    dry = shmtop("clean", "--json")
    after_dry = exists(orphan)
    reasons = list(verdict_of(orphan).reasons)
    yes = shmtop("clean", "--yes", "--json")
    left = [o.ref for o in collect_snapshot().objects]
    return {"orphan": orphan, "dry": dry, "after_dry": after_dry, "reasons": reasons,
            "yes": yes, "left": left, "live": live}  # fmt: skip


def orphan_segment_id(size: int) -> int:
    return int(sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, size).id)


def test_clean_is_a_dry_run_without_yes(sandbox: Callable[..., dict[str, Any]]) -> None:
    found = sandbox(dry_run_then_yes, pid_namespace=True)
    orphan = found["orphan"]
    status, out, err = found["dry"]
    document = json.loads(out)
    assert status == 0 and document["results"] == []
    assert document["plan"] == [{"ref": orphan, "reasons": found["reasons"]}]
    assert "nattch 0" in found["reasons"]
    assert "dry run: nothing removed" in err
    assert found["after_dry"]
    status, out, _ = found["yes"]
    assert status == 0
    assert json.loads(out)["results"] == [
        {"ref": orphan, "result": "removed", "detail": f"{orphan} removed"}
    ]
    assert found["left"] == [found["live"]]  # its creator, the test, still runs


def test_rm_without_a_terminal_and_without_yes_refuses(
    ipc: IpcFactory, shmtop_cmd: list[str]
) -> None:
    segment = ipc.sysv_shm()
    ref = f"sysv-shm:{segment.id}"
    done = subprocess.run(
        [*shmtop_cmd, "rm", ref],
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert done.returncode == 1
    assert done.stderr == "shmtop: nothing removed: no terminal to confirm on; add --yes\n"
    assert exists(ref)


def test_every_removal_attempt_is_in_the_audit_log(ipc: IpcFactory, audit_log: Path) -> None:
    name, other = ipc.posix_shm(), ipc.posix_shm()
    identity = identity_of(current(f"posix-shm:{name}"))
    seen_other = current(f"posix-shm:{other}")
    shmtop("rm", "--yes", f"posix-shm:{name}")
    os.unlink("/dev/shm" + other)
    posix_ipc.SharedMemory(other, posix_ipc.O_CREX, size=10).close_fd()  # another object
    assert Remover(audit=AuditLog()).remove(seen_other).result == "refused"
    lines = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [(line["ref"], line["result"]) for line in lines] == [
        (f"posix-shm:{name}", "removed"),
        (f"posix-shm:{other}", "refused"),
    ]
    assert lines[0]["identity"] == identity and lines[1]["identity"] == identity_of(seen_other)
    assert lines[0]["uid"] == 0 and lines[0]["user"] == "root" and lines[0]["time"] > 0
    assert "is not the object you saw" in lines[1]["detail"]
    assert stat.S_IMODE(audit_log.stat().st_mode) == 0o600


def test_rm_asks_at_the_terminal_and_no_keeps_the_object(
    ipc: IpcFactory, shmtop_cmd: list[str]
) -> None:
    segment = ipc.sysv_shm()
    ref = f"sysv-shm:{segment.id}"
    for answer, status, still_there in ((b"n\n", 1, True), (b"y\n", 0, False)):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(shmtop_cmd[0], [*shmtop_cmd, "rm", ref])
        output = b""
        while b"[y/N]" not in output:
            output += os.read(fd, 4096)
        assert b"Remove 1 object?" in output and ref.encode() in output
        os.write(fd, answer)
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 4096):
                output += chunk
        _, wait_status = os.waitpid(pid, 0)
        os.close(fd)
        assert os.waitstatus_to_exitcode(wait_status) == status
        assert exists(ref) is still_there


# The demo's leaks ---------------------------------------------------------------------------


def test_clean_finds_the_demos_leaks_and_nothing_else_of_it() -> None:
    demo = DemoWorkload()
    demo.start()
    try:
        time.sleep(1.5)  # the workers trade, so every pid the demo's live objects record lives
        ours = {made.ref for made in demo.made}
        leaked = {made.ref for made in demo.made if made.leaked}
        _, out, _ = shmtop("clean", "--json")
        planned = {p["ref"] for p in json.loads(out)["plan"]} & ours
        assert planned == {ref for ref in leaked if ref.startswith("sysv-shm:")}
        attach = scan().attach
        assert attach is not None
        vouched = [
            arg for pid in attach.unreadable_pids for arg in ("--ignore-unreadable", str(pid))
        ]
        _, out, _ = shmtop("clean", "--json", "--min-age", "0", *vouched)
        plan = {p["ref"]: p["reasons"] for p in json.loads(out)["plan"] if p["ref"] in ours}
        assert set(plan) == leaked
        assert {ref.split(":")[0] for ref in plan} == {
            "sysv-shm",
            "sysv-msg",
            "posix-shm",
            "posix-sem",
        }
    finally:
        assert demo.stop() == []


# Hostile names, hard links, objects gone meanwhile -----------------------------------------


def test_a_non_utf8_name_is_removed_by_its_escaped_reference(ipc: IpcFactory) -> None:
    raw = unique("bad").encode() + b"\xff\xfe\x1b[2J"
    ipc.file(raw, b"x")
    [obj] = [o for o in collect_snapshot().objects if getattr(o, "name", None) == b"/" + raw]
    assert "\\xff\\xfe\\x1b[2J" in obj.ref
    status, out, _ = shmtop("rm", "--yes", "--json", obj.ref)
    assert status == 0
    [result] = json.loads(out)["results"]
    assert result == {"ref": obj.ref, "result": "removed", "detail": f"{obj.ref} removed"}
    assert not os.path.lexists(b"/dev/shm/" + raw)


def test_a_hard_linked_object_warns_that_its_memory_stays(ipc: IpcFactory) -> None:
    name = ipc.posix_shm()
    other = unique("alias")
    os.link("/dev/shm" + name, ipc.dev_shm_path(other.encode()))
    snapshot = scan(Kind.POSIX_SHM)
    obj = next(o for o in snapshot.objects if o.ref == f"posix-shm:{name}")
    assert "hard-linked: its memory stays under its 1 other names" in warnings(obj, snapshot, None)
    outcome = Remover().remove(obj)
    assert outcome == Outcome(
        obj.ref, "removed", f"{obj.ref} removed; its memory stays under its 1 other names"
    )
    assert os.path.exists(f"/dev/shm/{other}")


def test_objects_gone_since_listing_are_refused_plainly(ipc: IpcFactory) -> None:
    segment = ipc.sysv_shm()
    name = ipc.posix_shm()
    seen = [current(f"sysv-shm:{segment.id}"), current(f"posix-shm:{name}")]
    segment.remove()
    posix_ipc.unlink_shared_memory(name)
    outcomes = [Remover().remove(obj) for obj in seen]
    assert [(o.result, o.detail) for o in outcomes] == [
        ("refused", f"{seen[0].ref} no longer exists"),
        ("refused", f"{seen[1].ref} no longer exists"),
    ]
