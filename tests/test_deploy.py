"""The deployment files: the alert rules pass their promtool unit tests and use only metrics
shmtop serves; the systemd unit is valid, and its capabilities see what full root sees, each
one of them needed."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import posix_ipc
import pytest
import sysv_ipc

from tests.exposition import Key, samples, value
from tests.privileges import NOBODY
from tests.promtools import binary
from tests.test_inspect import shmtop

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "prometheus" / "shmtop-alerts.yml"
UNIT = DEPLOY / "systemd" / "shmtop-exporter.service"
SHMTOP = [sys.executable, "-m", "shmtop"]


def test_alert_rules_pass_their_unit_tests() -> None:
    promtool = binary("promtool")
    for argv in (["check", "rules", RULES.name], ["test", "rules", "shmtop-alerts.test.yml"]):
        done = subprocess.run([promtool, *argv], cwd=RULES.parent, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_use_only_metrics_shmtop_serves() -> None:
    status, text, _ = shmtop("metrics")
    assert status == 0
    served = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    used = set(re.findall(r"\bshmtop_[a-z_]+", RULES.read_text()))
    assert used and used <= served, used - served


def unit_lines(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines()
            if line.startswith(f"{key}=")]  # fmt: skip


def test_systemd_unit_is_valid_and_listens_on_loopback(tmp_path: Path) -> None:
    [start] = unit_lines("ExecStart")
    assert start.endswith(" exporter --listen 127.0.0.1:10143")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit's syntax is not checked")
    unit = tmp_path / UNIT.name  # ExecStart must name an executable that exists
    unit.write_text(UNIT.read_text().replace(start.split()[0], " ".join(SHMTOP)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# The unit's capabilities ------------------------------------------------------------------


def as_nobody(fn: Callable[[], object]) -> int:
    """fn() in a child running as nobody, not dumpable (its /proc closed to others but root
    with CAP_SYS_PTRACE); returns the child's pid, still running if fn does not return."""
    child = os.fork()
    if child == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE 0
            fn()
        finally:
            os._exit(0)
    return child


def nobodys_objects() -> None:
    posix_ipc.MessageQueue("/q", posix_ipc.O_CREX, mode=0o600, max_messages=2,
                           max_message_size=8).send(b"m")  # fmt: skip
    posix_ipc.Semaphore("/s", posix_ipc.O_CREX, mode=0o600, initial_value=3).close()
    posix_ipc.SharedMemory("/held", posix_ipc.O_CREX, mode=0o600, size=4096).close_fd()
    semset = sysv_ipc.Semaphore(0x5EED5E7, sysv_ipc.IPC_CREX, 0o600)
    semset.release()  # an operation: its last pid is this child, which exits


def hold_open() -> None:
    fd = os.open("/dev/shm/held", os.O_RDONLY)
    signal.pause()
    os.close(fd)


def metrics_with(capabilities: str | None) -> bytes:
    """`shmtop metrics` as root, with only these capabilities (setpriv's syntax) if given."""
    prefix = [] if capabilities is None else [
        "setpriv", f"--bounding-set=-all{capabilities}", "--inh-caps=-all", "--"
    ]  # fmt: skip
    argv = [*prefix, *SHMTOP, "metrics", "--min-age", "0", "--ignore-unreadable", "1"]
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def views_by_capabilities(unit: list[str]) -> dict[str, Any]:
    os.waitpid(as_nobody(nobodys_objects), 0)
    holder = as_nobody(hold_open)
    try:
        time.sleep(0.3)  # the holder opens it
        seen: dict[str, Any] = {"root": metrics_with(None)}
        atime = os.stat("/dev/shm/sem.s").st_atime_ns
        seen["unit"] = metrics_with("".join(f",+{cap}" for cap in unit))
        seen["atime kept"] = os.stat("/dev/shm/sem.s").st_atime_ns == atime
        for dropped in unit:
            kept = "".join(f",+{cap}" for cap in unit if cap != dropped)
            seen[f"without {dropped}"] = metrics_with(kept)
        seen["atime kept without fowner"] = os.stat("/dev/shm/sem.s").st_atime_ns == atime
        return seen
    finally:
        os.kill(holder, signal.SIGKILL)
        os.waitpid(holder, 0)


def figures(text: bytes) -> dict[Key, float]:
    """The samples, times only by their presence (they move between two runs)."""
    found = samples(text)
    return {key: 0.0 if key[0].endswith("_seconds") else v for key, v in found.items()}


def test_the_units_capabilities_see_what_root_sees_and_each_is_needed(
    sandbox: Callable[..., Any],
) -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    [bounding] = unit_lines("CapabilityBoundingSet")
    unit = [cap.removeprefix("CAP_").lower() for cap in bounding.split()]
    assert sorted(unit) == ["dac_read_search", "fowner", "ipc_owner", "sys_ptrace"]
    seen = sandbox(views_by_capabilities, unit)
    root, confined = figures(seen["root"]), figures(seen["unit"])
    assert confined == root
    assert value(root, "shmtop_leaked_objects", kind="sysv-sem", namespace="host") == 1
    assert value(root, "shmtop_resource_used", resource="posix-mq.messages", namespace="host") == 1
    assert value(root, "shmtop_leaked_objects", kind="posix-shm", namespace="host") == 0  # held
    assert seen["atime kept"]
    for cap in ("sys_ptrace", "dac_read_search", "ipc_owner"):
        assert figures(seen[f"without {cap}"]) != root, cap
    without = figures(seen["without dac_read_search"])
    assert value(without, "shmtop_resource_used", resource="posix-mq.messages",
                 namespace="host") is None  # fmt: skip
    assert not seen["atime kept without fowner"]
