"""Boxes for tests of every namespace: each made with `unshare` (IPC, mount, UTS and pid
namespaces, an 8 MiB tmpfs on /dev/shm) and holding a System V segment (attached) and queue
of the same key, a /dev/shm file and a POSIX queue of the same name, each holding the box's
tag. The boxes keep the test session's /dev/mqueue, which shows the host's queues (one of the
same name among them), not theirs. The fixture `boxes` (registered in conftest.py) makes two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import posix_ipc
import pytest

from shmtop.namespaces.enter import release_all
from tests.privileges import require_root

BOX = r"""
import os, sys, posix_ipc, sysv_ipc
tag, queue_name = sys.argv[1:3]
segment = sysv_ipc.SharedMemory(0x5EED4242, sysv_ipc.IPC_CREX, 0o600, 4096)
segment.write(tag.encode())  # stays attached: the box's process uses it
queue = sysv_ipc.MessageQueue(0x5EED4243, sysv_ipc.IPC_CREX, 0o600)
queue.send(tag.encode())
fd = os.open("/dev/shm/same-name", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
os.write(fd, tag.encode())
os.close(fd)
mq = posix_ipc.MessageQueue(queue_name, posix_ipc.O_CREX, 0o600, 1, 64)
mq.send(tag.encode())
print("ready", os.getpid(), segment.id, queue.id, flush=True)
sys.stdin.read()  # until the test lets go
"""
KINDS = ["posix-mq", "posix-shm", "sysv-msg", "sysv-shm"]
QUEUE = f"/same-queue-{os.getpid()}"  # in each box, and on the host (where it must be unique)
SHELL = (
    "mount -t tmpfs -o size=8m none /dev/shm && hostname {tag} && "
    "exec {python} -c {box} {tag} {queue}"
)


@dataclass
class Box:
    tag: str
    process: subprocess.Popen[str]
    segment: int
    queue: int


def start(tag: str) -> Box:
    shell = SHELL.format(tag=tag, python=sys.executable, box=quoted(BOX), queue=QUEUE)
    process = subprocess.Popen(
        ["unshare", "--ipc", "--mount", "--uts", "--pid", "--fork", "sh", "-c", shell],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    words = process.stdout.readline().split()
    assert words[:1] == ["ready"], f"box {tag} did not start"
    return Box(tag, process, int(words[2]), int(words[3]))


def in_box(box: Box) -> int:
    """The host pid of the box's own process (the child of its unshare)."""
    pid = box.process.pid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return int(f.read().split()[0])


def quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def boxes(mqueue_mounted: str) -> Iterator[list[Box]]:
    require_root("IPC, mount and pid namespaces")
    made: list[Box] = []
    host_queue = posix_ipc.MessageQueue(QUEUE, posix_ipc.O_CREX, 0o600, 1, 64)
    try:
        host_queue.send(b"the host's")
        made.extend(start(tag) for tag in (f"box-a-{os.getpid()}", f"box-b-{os.getpid()}"))
        yield made
        assert host_queue.current_messages == 1  # never read, never removed
    finally:
        host_queue.close()
        host_queue.unlink()
        release_all()  # the namespaces shmtop entered go with their boxes
        for box in made:
            assert box.process.stdin is not None
            box.process.stdin.close()
            box.process.wait(timeout=20)
