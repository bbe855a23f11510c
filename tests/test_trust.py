"""No wrong removal: what once made shmtop remove an object in use, each tried for real.

Every test that removes by policy runs in a sandbox (tests/sandbox.py): its own IPC, mount
and pid namespaces, so it sees, and could remove, only what it made.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import posix_ipc
import pytest
import sysv_ipc

from shmtop.clean.remove import Remover
from shmtop.clean.stale import verdicts
from shmtop.collect import collect_snapshot
from shmtop.inspect import open_reader
from shmtop.libc import sem_members, sem_op, sem_set_value
from shmtop.model import IpcObject
from shmtop.model.kinds import identity_of
from tests.holders import Holder, holders
from tests.ipcfactory import IpcFactory, unique, unique_key
from tests.privileges import NOBODY, run_as_nobody
from tests.test_clean import made_by_exited_child, verdict_of
from tests.test_inspect import shmtop

Sandbox = Callable[..., Any]
KEY = 0x7E57  # in a sandbox's own IPC namespace no other object has it


@pytest.fixture(autouse=True)
def audit_log(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def refs() -> set[str]:
    return {o.ref for o in collect_snapshot().objects}


def find(ref: str) -> IpcObject:
    return next(o for o in collect_snapshot().objects if o.ref == ref)


def clean_json(*argv: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = shmtop("clean", "--json", "--min-age", "0", *argv)
    return status, json.loads(out)


# hidepid -------------------------------------------------------------------------------------


def nobodys_objects_used_by_root(hold: Callable[..., Holder]) -> tuple[str, str]:
    """A POSIX object of nobody's that a root process maps, and a queue of nobody's whose last
    sender, a root process, still runs."""
    name = "/" + unique("hidden")
    memory = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=4096)
    os.fchown(memory.fd, NOBODY, NOBODY)
    memory.close_fd()
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
    queue.uid = NOBODY
    hold(lambda: __import__("mmap").mmap(posix_ipc.SharedMemory(name).fd, 4096))
    hold(lambda: queue.send(b"from root"))
    return f"posix-shm:{name}", f"sysv-msg:{queue.id}"


def clean_as_nobody_under_hidepid() -> dict[str, Any]:
    with holders() as hold:
        posix, queue = nobodys_objects_used_by_root(hold)
        status, document = run_as_nobody(clean_json, "--yes")
        listed = run_as_nobody(lambda: json.loads(shmtop("list", "--json")[1]))
        return {"refs": (posix, queue), "status": status, "clean": document,
                "list": listed, "left": refs()}  # fmt: skip


@pytest.mark.parametrize("hidepid", ["invisible", "2", "ptraceable", "noaccess"])
def test_hidepid_leaves_objects_that_hidden_processes_use(sandbox: Sandbox, hidepid: str) -> None:
    found = sandbox(clean_as_nobody_under_hidepid, pid_namespace=True,
                    proc_options=f"hidepid={hidepid}")  # fmt: skip
    posix, queue = found["refs"]
    assert {posix, queue} <= found["left"]  # nothing of theirs was removed
    document = found["clean"]
    assert document["plan"] == [] and document["results"] == []
    unjudged = {entry["ref"]: entry["reasons"] for entry in document["unjudged"]}
    assert {posix, queue} <= set(unjudged)
    listed = {o["ref"]: o for o in found["list"]["objects"]}
    if hidepid == "noaccess":  # listed but unreadable: counted one by one
        assert document["hidden"] is None
        assert listed[posix]["attachers_unknown"] >= 1
        assert "could not be inspected" in unjudged[posix][0]
    else:
        assert document["hidden"] == found["list"]["hidden"]
        shown = {"2": "invisible"}.get(hidepid, hidepid)  # as mountinfo names it
        assert f"hidepid={shown}" in document["hidden"]
        assert "whether any process uses it cannot be known" in unjudged[posix][0]
        assert "cannot be known" in unjudged[queue][0]  # its last sender hides, not exits


# Waiters -------------------------------------------------------------------------------------


def set_whose_users_exited() -> int:
    """A one-member set at 1, whose last operation's process has exited: its id."""

    def make() -> int:
        semid = sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX, 0o600).id
        sem_set_value(semid, 0, 1)
        return semid

    return int(made_by_exited_child(make))


def queue_whose_users_exited(key: int) -> int:
    """A queue (sysv_ipc opens queues by key) holding one message of type 1, whose sender
    has exited: its id."""

    def make() -> int:
        queue = sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREX, 0o600)
        queue.send(b"type 1", type=1)
        return queue.id

    return int(made_by_exited_child(make))


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def blocked_in(pid: int, call: str) -> bool:
    with open(f"/proc/{pid}/wchan") as f:
        return f.read() == call


def clean_with_waiters() -> dict[str, Any]:
    semid, msqid = set_whose_users_exited(), queue_whose_users_exited(KEY)
    waiters = []
    for wait in (lambda: sem_op(semid, 0, 0), lambda: sysv_ipc.MessageQueue(KEY).receive(type=2)):
        pid = os.fork()
        if pid == 0:
            wait()
            os._exit(0)
        waiters.append(pid)
    until(lambda: sem_members(semid, 1, 1)[0][2] == 1, "the waiter for zero")
    until(lambda: blocked_in(waiters[1], "do_msgrcv"), "the blocked receiver")
    refs_ = (f"sysv-sem:{semid}", f"sysv-msg:{msqid}")
    try:
        _, document = clean_json("--yes")
        shown = {ref: json.loads(shmtop("show", ref, "--json")[1]) for ref in refs_}
        text = {ref: shmtop("show", ref)[1] for ref in refs_}
        return {"refs": refs_, "waiters": waiters, "clean": document, "shown": shown,
                "text": text, "left": refs()}  # fmt: skip
    finally:
        for pid in waiters:
            os.kill(pid, 9)
            os.waitpid(pid, 0)


def test_processes_blocked_on_a_set_or_queue_are_its_users(sandbox: Sandbox) -> None:
    found = sandbox(clean_with_waiters, pid_namespace=True)
    semset, queue = found["refs"]
    assert {semset, queue} <= found["left"]
    assert found["clean"]["plan"] == []
    for ref, waiter in zip(found["refs"], found["waiters"], strict=True):
        shown = found["shown"][ref]
        assert shown["verdict"] == "in use"
        assert f"({waiter}, waiting)" in shown["stale_reasons"][0]
        assert [(a["pid"], a["waiting"]) for a in shown["attachers"]] == [(waiter, True)]
        assert re.search(rf"pid {waiter} +python.*blocked in a call on it", found["text"][ref])


def test_without_its_waiter_the_same_queue_looks_leaked(ipc: IpcFactory) -> None:
    msqid = queue_whose_users_exited(unique_key())
    ipc.defer(lambda: sysv_ipc.remove_message_queue(msqid))
    verdict = verdict_of(f"sysv-msg:{msqid}", min_age=0)  # the control: the test finds leaks
    assert verdict.stale and verdict.reasons[0].startswith("last sender ")


# Looking does not change a verdict -------------------------------------------------------------


def test_reading_a_leaked_segment_leaves_it_looking_leaked(ipc: IpcFactory) -> None:
    shmid = int(made_by_exited_child(lambda: sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX,
                                                                    0o600, 8192).id))  # fmt: skip
    ipc.defer(lambda: sysv_ipc.remove_shared_memory(shmid))
    ref = f"sysv-shm:{shmid}"
    before = verdict_of(ref)
    assert before.stale
    reader = open_reader(find(ref), None)  # as the hex view and dump do
    try:
        assert len(reader.read(0, 16)) == 16
    finally:
        reader.close()
    assert reader.note is not None and "has exited" in reader.note
    after = verdict_of(ref)
    assert after.stale, after.reasons
    assert after.reasons[:2] == before.reasons[:2]  # nattch 0, creator exited
    assert after.reasons[2].startswith("last user ") and "exited" in after.reasons[2]


# Not judged ----------------------------------------------------------------------------------


def clean_as_nobody_with_root_processes() -> dict[str, Any]:
    name = "/" + unique("doubt")
    memory = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=4096)
    os.fchown(memory.fd, NOBODY, NOBODY)
    memory.close_fd()
    text = run_as_nobody(shmtop, "clean", "--min-age", "0")
    _, document = run_as_nobody(clean_json)
    vouch = [arg for e in document["uninspected"] for arg in ("--ignore-unreadable", str(e["pid"]))]
    _, vouched = run_as_nobody(clean_json, *vouch)
    return {"ref": f"posix-shm:{name}", "text": text, "json": document, "vouched": vouched}


def test_objects_left_in_doubt_are_listed_with_how_to_vouch(sandbox: Sandbox) -> None:
    found = sandbox(clean_as_nobody_with_root_processes, pid_namespace=True)
    ref = found["ref"]
    status, out, _ = found["text"]
    assert status == 0
    assert "nothing looks leaked" not in out
    assert f"not judged: {ref}: " in out and "could not be inspected" in out
    assert "nothing was found leaked; 1 not judged (above), left alone" in out
    assert re.search(r"processes that could not be inspected: 1 \(python[^)]*\)", out)
    assert "`--ignore-unreadable 1` vouches for them" in out
    document = found["json"]
    assert document["plan"] == [] and [e["ref"] for e in document["unjudged"]] == [ref]
    assert document["uninspected"][0]["pid"] == 1
    assert [p["ref"] for p in found["vouched"]["plan"]] == [ref]  # vouched for: judged
    assert found["vouched"]["unjudged"] == []


# Printed references are exact ----------------------------------------------------------------


def remove_twins_by_printed_refs() -> dict[str, Any]:
    """Two POSIX objects whose names differ only in escaping: the byte 0xff and the four
    characters \\xff. What clean prints must name each one exactly."""
    raw, text = b"twin\xff", b"twin\\xff"
    for name in (raw, text):
        fd = os.open(b"/dev/shm/" + name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    _, out, _ = shmtop("clean", "--min-age", "0")
    printed = [line.split(": ")[0] for line in out.splitlines() if line.startswith("posix-shm:")]
    first = printed[0]
    status, removed, _ = shmtop("rm", "--yes", first)
    return {"printed": printed, "removed": removed, "left": os.listdir(b"/dev/shm"),
            "first": first, "status": status}  # fmt: skip


def test_printed_references_name_exactly_the_object(sandbox: Sandbox) -> None:
    found = sandbox(remove_twins_by_printed_refs, pid_namespace=True)
    assert sorted(found["printed"]) == ["posix-shm:/twin\\\\xff", "posix-shm:/twin\\xff"]
    assert found["status"] == 0
    assert found["removed"].endswith(f"\nremoved: {found['first']} removed\n")
    gone = b"twin\xff" if found["first"] == "posix-shm:/twin\\xff" else b"twin\\xff"
    assert gone not in found["left"] and len(found["left"]) == 1


# Identity ------------------------------------------------------------------------------------


def recreated_in_the_same_second(kind: str) -> dict[str, Any]:
    """Make an object of `kind` at a forced id, use it, list it, remove it and make another at
    the same id with the same key, all within one second; then rm --identity the first."""
    for _ in range(5):  # a second may end in between: try again in the next
        with open(f"/proc/sys/kernel/{kind}_next_id", "w") as f:
            f.write("4242")
        started = int(time.time())
        seen = _make_and_use(kind)
        identity = identity_of(find(seen))
        _remove(kind)
        with open(f"/proc/sys/kernel/{kind}_next_id", "w") as f:
            f.write("4242")
        again = _make(kind)
        if int(time.time()) == started == (find(seen).ctime or 0):
            status, _, err = shmtop("rm", "--yes", "--identity", identity, seen)
            return {"seen": seen, "again": again, "status": status, "err": err, "left": refs()}
        _remove(kind)
    raise AssertionError("never within one second")


def _make(kind: str) -> int:
    if kind == "msg":
        return int(sysv_ipc.MessageQueue(KEY, sysv_ipc.IPC_CREX, 0o600).id)
    return int(sysv_ipc.Semaphore(KEY, sysv_ipc.IPC_CREX, 0o600).id)


def _make_and_use(kind: str) -> str:
    made = _make(kind)
    if kind == "msg":
        sysv_ipc.MessageQueue(KEY).send(b"used")
        return f"sysv-msg:{made}"
    sem_op(made, 0, 1)
    return f"sysv-sem:{made}"


def _remove(kind: str) -> None:
    ref = next(r for r in refs() if r.startswith(f"sysv-{kind}:"))
    (sysv_ipc.remove_message_queue if kind == "msg" else sysv_ipc.remove_semaphore)(
        int(ref.split(":")[1])
    )


@pytest.mark.parametrize("kind", ["msg", "sem"])
def test_a_queue_or_set_recreated_at_its_id_within_a_second_is_refused(
    sandbox: Sandbox, kind: str
) -> None:
    found = sandbox(recreated_in_the_same_second, kind)
    assert found["again"] == 4242 and found["seen"].endswith(":4242")
    assert found["status"] == 1
    clock = "stime" if kind == "msg" else "otime"
    assert f"is not the object that identity names ({clock} " in found["err"]
    assert found["seen"] in found["left"]  # the new object stays


def judged_then_used() -> dict[str, Any]:
    """A leaked queue, judged; then someone sends to it before the removal."""
    msqid = queue_whose_users_exited(KEY)
    snapshot = collect_snapshot(attachers=True)
    judged = verdicts(snapshot, 0)
    queue = next(o for o in snapshot.objects if o.ref == f"sysv-msg:{msqid}")
    time.sleep(1.1)  # the send below then moves stime to a later second
    sysv_ipc.MessageQueue(KEY).send(b"still wanted")
    by_policy = Remover(by_policy=True).remove(queue)
    return {"stale": judged[queue.ref].stale, "detail": by_policy.detail,
            "result": by_policy.result, "left": refs(), "ref": queue.ref}  # fmt: skip


def test_an_object_used_since_it_was_judged_leaked_is_not_cleaned(sandbox: Sandbox) -> None:
    found = sandbox(judged_then_used, pid_namespace=True)
    assert found["stale"]
    assert found["result"] == "refused"
    assert f"{found['ref']} was used since it was judged leaked (stime " in found["detail"]
    assert found["ref"] in found["left"]


def test_evidence_of_use_stands_over_what_could_not_be_inspected(ipc: IpcFactory) -> None:
    """A queue whose last sender runs is in use, not 'unknown', even where some process (this
    machine's init) could not be inspected: doubts are listed only where nothing else shows."""
    queue = ipc.sysv_msg()
    queue.send(b"mine")
    name = ipc.posix_shm()  # changed a moment ago
    for ref, reason in ((f"sysv-msg:{queue.id}", f"last sender {os.getpid()} is still running"),
                        (f"posix-shm:{name}", "within --min-age 10m")):  # fmt: skip
        verdict = verdict_of(ref, vouch=False)
        assert verdict.state == "in use"
        assert reason in verdict.reasons[0]
