"""`shmtop demo`: a living workload with leaks, and nothing left behind when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from shmtop.collect import collect_snapshot
from shmtop.demo import DemoWorkload
from shmtop.model import Snapshot, SysvMsg, SysvSem, SysvShm


def by_ref(snapshot: Snapshot) -> dict[str, object]:
    return {obj.ref: obj for obj in snapshot.objects}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_gracefully(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def workload() -> DemoWorkload:
    demo = DemoWorkload()
    demo.start()
    try:
        yield demo
    finally:
        assert demo.stop() == []


def test_demo_objects_are_alive_and_used(workload: DemoWorkload) -> None:
    time.sleep(1.5)  # let the workers trade a little
    objects = by_ref(collect_snapshot())
    roles = {made.role: made.ref for made in workload.made}
    queue = objects[roles["orders queue"]]
    assert isinstance(queue, SysvMsg) and queue.lspid in workload.workers
    assert queue.lrpid in workload.workers  # the consumer has received
    segment = objects[roles["attached segment"]]
    assert isinstance(segment, SysvShm) and segment.nattch == 1
    assert segment.lpid in workload.workers
    semset = objects[roles["pool of 5 resources"]]
    assert isinstance(semset, SysvSem) and semset.nsems == 5 and semset.otime is not None
    ring_items = objects[roles["filled slots of the ring"]]
    ring_slots = objects[roles["free slots of the ring"]]
    assert ring_items.value + ring_slots.value <= 64  # type: ignore[attr-defined]
    assert all(alive(pid) for pid in workload.workers)


def test_demo_shows_a_queue_filling_with_no_consumer_and_a_waiter_on_a_set(
    workload: DemoWorkload,
) -> None:
    roles = {made.role: made.ref for made in workload.made}
    backlog, gate = roles["backlog (no consumer)"], roles["closed gate"]
    deadline = time.monotonic() + 20
    while True:
        snap = collect_snapshot(attachers=True)
        queue = by_ref(snap)[backlog]
        assert isinstance(queue, SysvMsg) and queue.lrpid == 0  # never received from
        waiting = [a for a in snap.attach.attachers.get(gate, ()) if a.waiting]
        if queue.cbytes > 0.9 * (queue.qbytes or 0) and waiting:
            break
        assert time.monotonic() < deadline, (queue, snap.attach.attachers.get(gate))
        time.sleep(0.2)
    assert queue.qbytes == 2048
    assert waiting[0].comm == "gate-waiter"  # each demo process is named after its part


def test_demo_leaks_have_no_living_creator(workload: DemoWorkload) -> None:
    objects = by_ref(collect_snapshot())
    leaked = [made for made in workload.made if made.leaked]
    assert {made.role for made in leaked} == {
        "leaked segment",
        "leaked queue",
        "leaked cache",
        "leaked lock",
    }
    segment = objects[next(m.ref for m in leaked if m.role == "leaked segment")]
    assert isinstance(segment, SysvShm)
    assert segment.nattch == 0 and not alive(segment.cpid)
    queue = objects[next(m.ref for m in leaked if m.role == "leaked queue")]
    assert isinstance(queue, SysvMsg) and queue.qnum == 3


def test_stop_removes_everything_and_ends_every_worker() -> None:
    demo = DemoWorkload()
    demo.start()
    refs = [made.ref for made in demo.made]
    workers = list(demo.workers)
    assert demo.stop() == []
    remaining = by_ref(collect_snapshot())
    assert [ref for ref in refs if ref in remaining] == []
    assert [pid for pid in workers if alive(pid)] == []


def test_stop_leaves_alone_an_object_that_is_no_longer_the_demos() -> None:
    demo = DemoWorkload()
    demo.start()
    try:
        ring = next(made for made in demo.made if made.role == "ring buffer")
        path = "/dev/shm" + ring.ref.removeprefix("posix-shm:")
        os.unlink(path)
        with open(path, "wb") as impostor:  # same name, another inode
            impostor.write(b"someone else's data")
        problems = demo.stop()
        assert problems == [f"{ring.ref}: no longer the demo's object, left alone"]
        assert os.path.exists(path)
    finally:
        if os.path.exists(path):
            os.unlink(path)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_demo_command_runs_until_signalled_then_removes_all(
    shmtop_cmd: list[str], stop_signal: signal.Signals, mqueue_mounted: str
) -> None:
    # A suite started as a background job inherits SIGINT ignored, and Python then never
    # raises KeyboardInterrupt: start the demo as a terminal's foreground job has it.
    command = ["env", "--default-signal=INT,TERM", *shmtop_cmd, "demo"]
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("shmtop demo: watch it"):
                break
        refs = [line.split()[0] for line in lines if line.startswith("  ")]
        assert len(refs) == 13
        present = by_ref(collect_snapshot())
        assert all(ref in present for ref in refs)
        demo.send_signal(stop_signal)
        out, _ = demo.communicate(timeout=20)
    finally:
        stop_gracefully(demo)  # SIGKILL would leave the demo's objects behind
    assert demo.returncode == 0
    assert "removed 13 of 13 objects" in out
    remaining = by_ref(collect_snapshot())
    assert [ref for ref in refs if ref in remaining] == []
