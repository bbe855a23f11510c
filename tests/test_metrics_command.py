"""`shmtop metrics` on real objects: the figures agree with `shmtop list --json` in the same
private namespaces, the text passes `promtool check metrics`, --output replaces a file at
once, and faults are one line with the documented exit status."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import posix_ipc
import sysv_ipc

import shmtop.cli.metrics_cmd  # imported while root: nobody may not read modules in /root
from shmtop.model import FOUND_KINDS
from tests.exposition import having, samples, value
from tests.privileges import run_as_nobody
from tests.promtools import assert_valid
from tests.test_inspect import shmtop

SHMTOP = [sys.executable, "-m", "shmtop"]
HOST = {"namespace": "host"}


def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*SHMTOP, *argv], capture_output=True, timeout=60, check=False)


def leaked_segment() -> int:
    """A segment whose creator has exited: leaked at once, whatever --min-age."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        shm = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 8192)
        shm.detach()
        os.write(write_end, str(shm.id).encode())
        os._exit(0)
    os.close(write_end)
    shmid = int(os.read(read_end, 32))
    os.close(read_end)
    os.waitpid(child, 0)
    return shmid


def populate() -> dict[str, Any]:
    """In a sandbox: one object of every kind in use or idle, and two leaks."""
    leaked = leaked_segment()
    kept = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096)  # attached: in use
    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, 0o600)
    queue.send(b"hello")
    sysv_ipc.Semaphore(None, sysv_ipc.IPC_CREX, 0o600)
    posix_ipc.SharedMemory("/small", posix_ipc.O_CREX, size=4096).close_fd()
    posix_ipc.SharedMemory("/large", posix_ipc.O_CREX, size=12288).close_fd()
    posix_ipc.Semaphore("/lock", posix_ipc.O_CREX, initial_value=1).close()
    mq = posix_ipc.MessageQueue("/jobs", posix_ipc.O_CREX, max_messages=4, max_message_size=16)
    mq.send(b"job")  # held open by this process: in use
    return {"leaked": leaked, "kept": kept, "mq": mq}


def metrics_list_and_clean() -> tuple[bytes, dict[str, Any], dict[str, Any], int]:
    """POSIX objects cannot be made to look old (utime moves ctime): judged at --min-age 0."""
    made = populate()
    vouched = ("--min-age", "0", "--ignore-unreadable", "1")  # init may be unreadable here
    text = run("metrics", "--leak-series", "10", *vouched)
    listed = run("list", "--json")
    cleaned = run("clean", "--json", *vouched)
    assert text.returncode == listed.returncode == cleaned.returncode == 0
    return text.stdout, json.loads(listed.stdout), json.loads(cleaned.stdout), made["leaked"]


def by_kind(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(entry["ref"].partition(":")[0] for entry in entries)


def test_figures_agree_with_list_json_on_real_objects(sandbox: Callable[..., Any]) -> None:
    text, listed, cleaned, leaked = sandbox(metrics_list_and_clean)
    assert_valid(text)
    found = samples(text)
    kinds = Counter(obj["kind"] for obj in listed["objects"])
    plan, unjudged = by_kind(cleaned["plan"]), by_kind(cleaned["unjudged"])
    for kind in ("sysv-shm", "sysv-msg", "sysv-sem", "posix-shm", "posix-sem", "posix-mq"):
        assert value(found, "shmtop_objects", kind=kind, **HOST) == kinds[kind], kind
        assert value(found, "shmtop_kind_readable", kind=kind, **HOST) == 1
        if value(found, "shmtop_leaked_objects", kind=kind, **HOST) is not None or plan[kind]:
            assert value(found, "shmtop_leaked_objects", kind=kind, **HOST) == plan[kind], kind
        doubts = having(found, "shmtop_unjudged_objects", kind=kind)
        assert sum(doubts.values()) == unjudged[kind], kind
    assert plan == {"sysv-shm": 1, "posix-shm": 2, "posix-sem": 1}
    assert unjudged == {}
    assert not having(found, "shmtop_unjudged_objects")
    assert value(found, "shmtop_leaked_objects", kind="sysv-sem", **HOST) == 0
    assert value(found, "shmtop_leaked_bytes", kind="sysv-shm", **HOST) == 8192
    assert value(found, "shmtop_leaked_bytes", kind="posix-shm", **HOST) == 4096 + 12288
    assert (value(found, "shmtop_oldest_leak_age_seconds", kind="sysv-shm", **HOST) or -1) >= 0
    assert value(found, "shmtop_object_bytes", kind="sysv-msg", **HOST) == 5
    assert value(found, "shmtop_object_bytes", kind="posix-mq", **HOST) == 3
    refs = {dict(key[1])["ref"] for key in having(found, "shmtop_leaked_object_age_seconds")}
    assert refs == {f"sysv-shm:{leaked}", "posix-shm:/small", "posix-shm:/large",
                    "posix-sem:/lock"}  # fmt: skip
    for name, usage in listed["usage"].items():
        if name.split(".")[0] in FOUND_KINDS:  # metrics read the listed kinds only (README)
            continue
        assert value(found, "shmtop_resource_used", resource=name, **HOST) == usage["used"], name


def test_output_replaces_the_file_at_once_readable_by_the_collector(tmp_path: Path) -> None:
    target = tmp_path / "shmtop.prom"
    target.write_text("old\n")
    before = target.stat().st_ino
    old = os.umask(0o077)  # whatever the umask, node_exporter must read it
    try:
        done = run("metrics", "--output", str(target))
    finally:
        os.umask(old)
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b"", done
    assert target.stat().st_ino != before  # renamed over, never written in place
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["shmtop.prom"]  # no temporary file left
    assert_valid(target.read_bytes())
    assert b"shmtop_build_info" in target.read_bytes()


def test_output_faults_are_one_line_with_no_traceback(tmp_path: Path) -> None:
    missing = run("metrics", "--output", str(tmp_path / "no" / "such.prom"))
    assert missing.returncode == 1
    assert missing.stderr.decode() == (
        f"shmtop: --output {tmp_path}/no/such.prom: No such file or directory\n"
    )
    directory = run("metrics", "--output", str(tmp_path) + "/")
    assert directory.returncode == 1 and directory.stderr.count(b"\n") == 1

    tmp_path.chmod(0o755)  # nobody may read it, not write in it
    status, out, err = run_as_nobody(shmtop, "metrics", "--output", str(tmp_path / "m.prom"))
    assert (status, out) == (1, "")
    assert err == f"shmtop: --output {tmp_path}/m.prom: Permission denied\n"
    assert os.listdir(tmp_path) == []


def test_usage_errors_exit_2_with_one_line() -> None:
    for argv in (
        ["exporter", "--listen", "nonsense"],
        ["exporter", "--listen", "127.0.0.1:99999"],
        ["exporter", "--listen", "::1:9000"],  # IPv6 unbracketed: which colon is the port's?
        ["exporter", "--listen", "example.com:9000"],  # nothing is resolved
        ["exporter", "--interval", "0"],
        ["metrics", "--leak-series", "5000"],
        ["metrics", "--min-age", "soon"],
    ):
        done = run(*argv)
        assert done.returncode == 2, argv
        assert done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr, done.stderr


def test_a_port_in_use_is_one_line_and_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("exporter", "--listen", f"127.0.0.1:{port}")
    assert done.returncode == 1
    assert done.stderr.decode() == (
        f"shmtop: cannot listen on 127.0.0.1:{port}: the address is in use (another exporter?)\n"
    )
