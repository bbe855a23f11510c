"""Attacks on reading every namespace (-A, --ns, qualified references): boxes made with
`unshare` whose processes plant hostile things (a host tmpfs bound on their /dev/shm, a
FUSE filesystem that never answers, terminal escapes in their hostname), and a long-lived
exporter watching boxes come and go. Each box has a unique hostname and ends in a finalizer;
what is mounted is mounted in a private mount namespace that goes with it."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator

import pytest

from shmtop.metrics.scrape import MetricsSource, Settings
from shmtop.namespaces import discover as discover_module
from shmtop.namespaces.enter import release_all
from tests.privileges import require_root, run_in_child
from tests.test_inspect import shmtop

CLONE_NEWNS = 0x00020000
MS_PRIVATE, MS_REC = 1 << 18, 0x4000
_libc = ctypes.CDLL(None, use_errno=True)
HOSTILE = "\x1b]0;pwned\x07\x1b[2Jred"  # sets the terminal's title, clears the screen
WAIT = r"import sys; print('ready', flush=True); sys.stdin.read()"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class Box:
    """A process in namespaces of its own (`unshare` ARGS), after a shell prologue, waiting
    until its stdin closes."""

    def __init__(self, unshare: list[str], prologue: str, program: str | None = WAIT) -> None:
        run = f"{sys.executable} -c {_quoted(program)}" if program else "echo ready && exec cat"
        shell = f"{prologue} && exec {run}" if program else f"{prologue} && {run}"
        self.process = subprocess.Popen(
            [*unshare, "sh", "-c", shell], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            self.end()
            raise AssertionError(f"the box did not start: {line!r}")

    @property
    def pid(self) -> int:
        """Its process (unshare --fork: the child of the one started)."""
        children = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        with open(children) as f:
            found = f.read().split()
        return int(found[0]) if found else self.process.pid

    def end(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def released() -> Iterator[None]:
    yield
    release_all()


# A host tmpfs bound on a box's /dev/shm ---------------------------------------------------


def _unprivileged_user_namespaces() -> bool:
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urm",
             "true"]  # fmt: skip
    return (
        shutil.which("setpriv") is not None and subprocess.run(probe, check=False).returncode == 0
    )


def _private_tmpfs(directory: str) -> None:
    """This process alone (a forked child) gets a tmpfs at directory: the host's /run, say."""
    assert _libc.unshare(CLONE_NEWNS) == 0
    assert _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0
    assert _libc.mount(b"tmpfs", directory.encode(), b"tmpfs", 0, b"size=1m,mode=755") == 0


def _nobody_binds_it_and_root_cleans(directory: str) -> tuple[bool, str]:
    victim = f"{directory}/sshd.pid"  # as root's daemons leave in /run, 0600
    fd = os.open(victim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(fd, b"1\n")
    os.close(fd)
    box = Box(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urm"],
        f"mount --bind {directory} /dev/shm",
        program=None,  # nobody may not run this interpreter
    )
    try:
        _, out, err = shmtop(
            "clean", "--ns", str(box.process.pid), "--min-age", "0", "--ignore-unreadable", "1",
            "--yes",
        )  # fmt: skip
        _, listed, _ = shmtop("list", "--json", "--ns", str(box.process.pid))
        (ref,) = [o["ref"] for o in json.loads(listed)["objects"] if o["name"] == "/sshd.pid"]
        status, removed, why = shmtop("rm", "--yes", ref)  # by its reference, explicitly
        assert status == 1 and f"the host's tmpfs at {directory}" in removed, removed + why
        out += removed
    finally:
        release_all()
        box.end()
    return os.path.exists(victim), out + err


def test_nobody_binding_a_host_tmpfs_on_its_dev_shm_cannot_make_clean_remove_root_s_files() -> None:
    """An unprivileged user (user namespaces are enabled on most hosts) binds a directory of a
    tmpfs the host has mounted (/run, say: root's pid files) on the /dev/shm of a mount
    namespace of its own. Root's `shmtop clean -A --yes` (or --ns) must not unlink root's
    files there: they are the host's, not the box's leaks."""
    require_root("mount namespaces")
    if not _unprivileged_user_namespaces():
        pytest.skip("unprivileged user namespaces are disabled here")
    directory = tempfile.mkdtemp(prefix=f"red-run-{os.getpid()}-", dir="/tmp")
    try:
        os.chmod(directory, 0o755)  # as /run is
        kept, said = run_in_child(
            lambda: _private_tmpfs(directory), _nobody_binds_it_and_root_cleans, directory
        )
    finally:
        os.rmdir(directory)
    assert kept, said


# Hanging filesystems -----------------------------------------------------------------------

FUSE_BOX = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
where = sys.argv[1]
fd = os.open("/dev/fuse", os.O_RDWR)  # its requests are never read: every access waits
if where == "/dev/mqueue":  # a /dev of the box's own, not the host's devtmpfs
    assert libc.mount(b"none", b"/dev", b"tmpfs", 0, b"size=64k") == 0, ctypes.get_errno()
    os.mkdir(where)
if where.startswith("/dev/shm/"):  # a directory in a /dev/shm of the box's own
    assert libc.mount(b"none", b"/dev/shm", b"tmpfs", 0, b"size=64k") == 0, ctypes.get_errno()
    os.mkdir(where)
options = f"fd={fd},rootmode=40000,user_id=0,group_id=0".encode()
assert libc.mount(b"red", where.encode(), b"fuse", 0, options) == 0, ctypes.get_errno()
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize(
    "where",
    [
        "/dev/shm",
        "/dev/mqueue",
        "/dev/shm/dir",
    ],
)
def test_a_box_s_fuse_mount_that_never_answers_does_not_hang_list_all(where: str) -> None:
    """A process that can mount FUSE (root in a container given /dev/fuse; any user, through
    a user namespace, where /dev/fuse is 0666 as most distributions have it) mounts one on
    its /dev/shm or /dev/mqueue and never answers: `shmtop list -A` (and every exporter
    scrape) must still finish."""
    require_root("mount namespaces and /dev/fuse")
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse")
    program = f"import sys; sys.argv[1:] = [{where!r}]\n" + FUSE_BOX
    box = Box(["unshare", "--ipc", "--mount", "--fork"], "true", program)
    try:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "shmtop", "list", "-A"], capture_output=True, text=True,
                check=False, timeout=10,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.fail(f"shmtop list -A hung on a FUSE mount at the box's {where}")
        assert done.returncode == 0, done.stderr
    finally:
        box.end()


# A long-lived exporter ---------------------------------------------------------------------

SEGMENT_BOX = r"""
import sys, sysv_ipc
segment = sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 1 << 20)
segment.detach()  # left behind: it lives as long as the IPC namespace
print("ready", flush=True)
sys.stdin.read()
"""


def _holds(link: str) -> bool:
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == link:
                return True
        except OSError:
            continue
    return False


def test_the_exporter_lets_go_of_the_namespaces_of_boxes_that_ended(released: None) -> None:
    """`shmtop exporter -A` runs for months while containers come and go. Once a box has
    ended, the next scrape must not keep its IPC namespace alive (a descriptor, a thread in
    it, a mount of its mqueue filesystem in the helper): that would keep every segment the
    box left behind allocated for as long as the exporter runs."""
    require_root("IPC and mount namespaces")
    box = Box(["unshare", "--ipc", "--mount", "--fork"],
              "mount -t tmpfs -o size=1m none /dev/shm", SEGMENT_BOX)  # fmt: skip
    try:
        link = os.readlink(f"/proc/{box.pid}/ns/ipc")
        source = MetricsSource(Settings(everywhere=True, min_age=0))
        assert b"shmtop_objects" in source.scrape()
    finally:
        box.end()
    source.scrape()  # the box has ended
    label = link[link.find("[") + 1 : -1]
    threads = [t.name for t in threading.enumerate() if label in t.name]
    assert not _holds(link) and not threads, f"{link} still held: {threads}"


# Terminal escapes in a box's hostname ------------------------------------------------------


def _hostile_box(mount_shm: bool = True) -> Box:
    program = f"import socket\nsocket.sethostname({HOSTILE!r})\n" + WAIT
    prologue = "mount -t tmpfs -o size=1m none /dev/shm && echo x > /dev/shm/f"
    return Box(["unshare", "--ipc", "--mount", "--uts", "--fork"],
               prologue if mount_shm else "true", program)  # fmt: skip


def test_metrics_all_namespaces_escapes_a_hostile_hostname(released: None) -> None:
    """`shmtop metrics -A` prints to the terminal: a box's hostname in the namespace label
    must not carry its escapes there raw."""
    require_root("IPC, mount and UTS namespaces")
    box = _hostile_box()
    try:
        status, out, err = shmtop("metrics", "-A", "--min-age", "0")
    finally:
        release_all()
        box.end()
    assert status == 0, err
    assert "pwned" in out  # the box was read
    assert "\x1b" not in out and "\x07" not in out


def test_ns_naming_two_places_escapes_their_hostile_titles(released: None) -> None:
    """`--ns INODE` of an IPC namespace two places share (a process of the box that made a
    /dev/shm of its own): the error lists both places, by their hostnames, escaped."""
    require_root("IPC, mount and UTS namespaces")
    box = _hostile_box()
    inner = None
    try:
        inner = subprocess.Popen(
            ["nsenter", "-t", str(box.pid), "--ipc", "--uts", "--mount", "unshare", "--mount",
             "sh", "-c", "mount -t tmpfs none /dev/shm && echo ready && exec cat"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert inner.stdout is not None and inner.stdout.readline().startswith("ready")
        link = os.readlink(f"/proc/{box.pid}/ns/ipc")
        status, _, err = shmtop("list", "--ns", link[link.find("[") + 1 : -1])
    finally:
        if inner is not None:
            assert inner.stdin is not None
            inner.stdin.close()
            inner.wait(timeout=20)
        release_all()
        box.end()
    assert status == 2 and "more than one namespace" in err, err
    assert "\x1b" not in err and "\x07" not in err, err


def test_a_box_that_ended_during_listing_is_noted_with_its_name_escaped(
    monkeypatch: pytest.MonkeyPatch, released: None
) -> None:
    """A box that ends between discovery and reading: `list -A` says its objects could not be
    read, naming it by its hostname, which must not reach the terminal raw."""
    require_root("IPC, mount and UTS namespaces")
    box = _hostile_box()
    try:
        found = discover_module.discover()
    finally:
        release_all()
        box.end()
    assert [ns for ns in found if ns.hostname == HOSTILE]
    monkeypatch.setattr(
        "shmtop.collect.everywhere.discover", lambda procfs="/proc": found
    )  # as it was seen a moment before the box ended
    status, out, err = shmtop("list", "-A")
    assert status == 0, err
    assert "pwned" in err, err  # noted
    assert "\x1b" not in out + err and "\x07" not in out + err, err
