"""Shared memory outside /dev/shm's names, found by the walk over /proc: a memfd shared through
fork, a /dev/shm file unlinked while mapped, seed 003's anonymous mapping shared by a parent
and its child, two processes mapping one file. Peer: lsfd."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import mmap
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shmtop.collect import Collector
from shmtop.model import IpcObject, Kind, Memfd, PosixShm, SharedAnon, SharedFile, Snapshot
from tests.holders import holders
from tests.ipcfactory import unique
from tests.privileges import become_nobody, require_root, run_as_nobody

F_ADD_SEALS = 1033
F_SEAL_SHRINK, F_SEAL_GROW = 0x0002, 0x0004
MIB = 1 << 20


@pytest.fixture
def hold() -> Iterator[Any]:
    with holders() as hold:
        yield hold


def collected(*kinds: Kind) -> Snapshot:
    return Collector(kinds=kinds).collect(attachers=True)


def by_inode(snapshot: Snapshot, kind: Kind, inode: int) -> IpcObject:
    matches = [o for o in snapshot.of(kind) if getattr(o, "inode", None) == inode]
    assert len(matches) == 1, f"{kind} with inode {inode}: {matches}"
    return matches[0]


def users(snapshot: Snapshot, ref: str) -> dict[int, tuple[int, int]]:
    assert snapshot.attach is not None
    return {a.pid: (a.maps, a.fds) for a in snapshot.attach.attachers.get(ref, ())}


def lsfd_pids(inode: int) -> set[int]:
    out = subprocess.run(["lsfd", "-J", "-Q", f"INODE == {inode}", "-o", "PID"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {row["pid"] for row in json.loads(out)["lsfd"]} if out.strip() else set()


def shmtop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shmtop", *args], capture_output=True,
                          text=True, check=False)  # fmt: skip


def test_a_memfd_shared_through_fork(hold: Any) -> None:
    require_root("reading other processes' descriptors and mappings")
    name = unique("memfd")
    fd = os.memfd_create(name, os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, 3 * 4096)
        mapping = mmap.mmap(fd, 3 * 4096)
        mapping[:11] = b"hello memfd"
        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)
        child = hold(lambda: (fd, mapping))  # the child inherits both through fork
        inode = os.fstat(fd).st_ino
        snapshot = collected(Kind.MEMFD)
        memfd = by_inode(snapshot, Kind.MEMFD, inode)
        assert isinstance(memfd, Memfd)
        assert (memfd.ref, memfd.name, memfd.size) == (f"memfd:{inode}", name.encode(), 3 * 4096)
        assert memfd.seals == F_SEAL_SHRINK | F_SEAL_GROW
        assert memfd.allocated == 4096  # one page written
        seen = users(snapshot, memfd.ref)
        assert {os.getpid(), child.pid} <= set(seen)
        assert seen[child.pid][0] == 1 and seen[child.pid][1] >= 1  # maps it, holds it
        assert {os.getpid(), child.pid} <= lsfd_pids(inode)
        dumped = shmtop("dump", memfd.ref, "--length", "16")
        assert dumped.returncode == 0, dumped.stderr
        assert "|hello memfd.....|" in dumped.stdout
        assert mapping[:11] == b"hello memfd" and os.fstat(fd).st_blocks * 512 == 4096
        refused = shmtop("rm", "--yes", memfd.ref)
        assert refused.returncode == 1 and "nothing to remove" in refused.stdout
        mapping.close()
    finally:
        os.close(fd)


HOSTILE_NAMES = (
    b"paint\x1b[31mRED\x1b]0;title\x07",  # terminal escapes
    b"line\nbreak",  # maps writes the newline as \012
    b"back\\012slash",  # and a backslash as itself: the two look alike in maps
    b"not \xff\xfe utf-8",
    b"x (deleted)",  # the suffix maps adds to every memfd, inside the name
    b"looks/like a/path",
    b"w" * 249,  # the longest name memfd_create takes
)
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]  # fmt: skip
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


@contextmanager
def memfd_named(name: bytes, held: bool) -> Iterator[int]:
    """A memfd named `name` (bytes, as the kernel takes it), held by a descriptor or only
    mapped (through libc: Python's mmap would keep a descriptor); yields its inode."""
    fd = _libc.memfd_create(name, 0)
    assert fd >= 0, os.strerror(ctypes.get_errno())
    address = None
    try:
        os.ftruncate(fd, 4096)
        inode = os.fstat(fd).st_ino
        if not held:
            address = _libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
            assert address not in (None, ctypes.c_void_p(-1).value)
            os.close(fd)
            fd = -1
        yield inode
    finally:
        if fd >= 0:
            os.close(fd)
        if address is not None:
            _libc.munmap(address, 4096)


def test_hostile_memfd_names_are_kept_exactly_and_shown_escaped() -> None:
    """memfd_create takes any bytes: each name comes back exactly (JSON `name_hex`), whether
    a descriptor or only a mapping shows it, and reaches the terminal escaped."""
    require_root("reading mappings' links in map_files")
    with contextlib.ExitStack() as made:
        inodes = {made.enter_context(memfd_named(name, held)): name
                  for held in (True, False) for name in HOSTILE_NAMES}  # fmt: skip
        listed = shmtop("list", "--kind", "memfd", "--json")
        assert listed.returncode == 0, listed.stderr
        found = {o["inode"]: bytes.fromhex(o["name_hex"])
                 for o in json.loads(listed.stdout)["objects"] if o["inode"] in inodes}  # fmt: skip
        assert found == inodes
        for inode in inodes:
            shown = shmtop("show", f"memfd:{inode}")
            assert shown.returncode == 0, shown.stderr
            assert not set(shown.stdout) & {"\x1b", "\x07", "\r"}
            name_lines = [line for line in shown.stdout.splitlines() if line.startswith("name ")]
            assert len(name_lines) == 1  # no newline of a name breaks the table
        text = shmtop("list", "--kind", "memfd").stdout
        assert "\x1b" not in text


def test_nobody_sees_its_own_memfd_and_not_roots(hold: Any) -> None:
    """As nobody: a memfd one of its own processes maps and holds is found, with its name,
    size and holder; one only a root process holds is not seen at all (its processes cannot
    be read), and nothing is guessed about it."""
    require_root("dropping to nobody")
    name = unique("memfd-nobody")

    def own() -> tuple[int, mmap.mmap]:
        become_nobody()
        fd = os.memfd_create(name)
        os.ftruncate(fd, 2 * 4096)
        mapping = mmap.mmap(fd, 2 * 4096)
        mapping[:4] = b"mine"
        return fd, mapping

    holder = hold(own)
    hold(lambda: os.memfd_create(name + "-root"))  # root's, made after: nobody inherits none
    seen = run_as_nobody(lambda: {
        m.name: (m.size, m.allocated, set(users(snap, m.ref)))
        for snap in [collected(Kind.MEMFD)] for m in snap.of(Kind.MEMFD)
        if isinstance(m, Memfd) and m.name.startswith(name.encode())
    })  # fmt: skip
    assert seen == {name.encode(): (2 * 4096, 4096, {holder.pid})}


def unlinked_while_mapped(path: str, size: int) -> mmap.mmap:
    """Seed-style: a /dev/shm file, filled, mapped, then unlinked and its descriptor closed:
    only the mapping keeps its memory."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, size)
        mapping = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    mapping[:] = b"d" * size
    os.unlink(path)
    return mapping


def test_a_dev_shm_file_unlinked_while_mapped_is_shown_with_its_holder(hold: Any) -> None:
    require_root("reading other processes' mappings")
    name = unique("deleted")
    path = f"/dev/shm/{name}"
    holder = hold(lambda: unlinked_while_mapped(path, 5 * MIB))
    assert not os.path.exists(path)
    snapshot = collected(Kind.POSIX_SHM)
    deleted = [o for o in snapshot.posix_shm if o.deleted and o.name == f"/{name}".encode()]
    assert len(deleted) == 1
    entry = deleted[0]
    assert isinstance(entry, PosixShm)
    assert entry.ref == f"posix-shm:/{name}/deleted:{entry.inode}"
    assert (entry.size, entry.nlink) == (5 * MIB, 0) and entry.allocated >= 5 * MIB
    seen = users(snapshot, entry.ref)
    assert set(seen) == {holder.pid} and seen[holder.pid][0] == 1  # (Python's mmap keeps a
    # duplicate of the descriptor, so it holds it open too)
    assert holder.pid in lsfd_pids(entry.inode)
    assert snapshot.usage["posix-shm.deleted"].used >= 5 * MIB  # /dev/shm adds up
    shown = json.loads(shmtop("show", entry.ref, "--json").stdout)
    assert shown["deleted"] is True and shown["verdict"] == "in use"
    assert any("not a leak" in reason for reason in shown["stale_reasons"])
    dumped = shmtop("dump", entry.ref, "--length", "16")
    assert dumped.returncode == 0 and "|dddddddddddddddd|" in dumped.stdout
    assert entry.ref not in shmtop("clean", "--min-age", "0", "--json").stdout  # never offered
    holder.release()
    after = collected(Kind.POSIX_SHM)
    assert entry.ref not in {o.ref for o in after.posix_shm}  # freed with its last mapper


def test_seed_003s_anonymous_mapping_shared_by_parent_and_child(hold: Any) -> None:
    require_root("reading other processes' mappings")
    mapping = mmap.mmap(-1, 8 * 4096, flags=mmap.MAP_SHARED)
    mapping[:8] = b"from 003"
    try:
        child = hold(lambda: mapping)  # fork shares it: seed 003
        snapshot = collected(Kind.SHARED_ANON)
        mine = [o for o in snapshot.of(Kind.SHARED_ANON)
                if {os.getpid(), child.pid} <= set(users(snapshot, o.ref))]  # fmt: skip
        assert len(mine) == 1
        anon = mine[0]
        assert isinstance(anon, SharedAnon)
        assert anon.size == 8 * 4096 and anon.name == b""
        assert {(m.pid, m.bytes) for m in anon.mapped} >= {(os.getpid(), 8 * 4096),
                                                            (child.pid, 8 * 4096)}  # fmt: skip
        dumped = shmtop("dump", anon.ref, "--length", "8")
        assert "|from 003|" in dumped.stdout, dumped.stderr
    finally:
        mapping.close()


def map_file(path: str, size: int) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


@pytest.fixture
def shared_file() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="shmtop-test-map-")
    path = os.path.join(directory, "state")
    with open(path, "wb") as f:
        f.write(b"shared state" + b"\0" * (16 * 4096 - 12))
    try:
        yield path
    finally:
        os.unlink(path)
        os.rmdir(directory)


def test_two_processes_sharing_a_mapped_file(hold: Any, shared_file: str) -> None:
    require_root("reading other processes' mappings")
    one = hold(lambda: map_file(shared_file, 16 * 4096))
    two = hold(lambda: map_file(shared_file, 4 * 4096))
    st = os.stat(shared_file)
    snapshot = collected(Kind.SHARED_FILE)
    found = by_inode(snapshot, Kind.SHARED_FILE, st.st_ino)
    assert isinstance(found, SharedFile)
    assert found.ref == f"shared-file:{os.major(st.st_dev)}.{os.minor(st.st_dev)}:{st.st_ino}"
    assert (found.name, found.size, found.writable) == (shared_file.encode(), 16 * 4096, True)
    assert {(m.pid, m.bytes) for m in found.mapped} == {(one.pid, 16 * 4096), (two.pid, 4 * 4096)}
    assert {one.pid, two.pid} <= lsfd_pids(st.st_ino)
    listed = shmtop("list").stdout.split()
    assert found.ref in listed  # mapped writable: listed by default


def test_shared_mappings_are_found_by_their_permissions_not_by_their_paths() -> None:
    """Crafted maps text (the parser's edge cases, beside the live tests above): only lines
    whose permissions end in "s" are shared, whatever "s " their paths hold."""
    from shmtop.attach.shared import _shared_mappings

    maps = (
        b"00400000-00401000 r--p 00000000 08:01 11 /usr/bin/has s in it\n"
        b"7f0000000000-7f0000002000 rw-s 00000000 00:01 22 /memfd:a s b (deleted)\n"
        b"7f0000003000-7f0000004000 r-xs 00001000 08:01 33 /srv/its data\n"
        b"7f0000005000-7f0000006000 rw-p 00000000 00:00 0 \n"
        b"7f0000007000-7f0000008000 r--s 00000000 00:05 44 /dev/zero (deleted)"
    )
    assert _shared_mappings(maps) == [
        (0x7F0000000000, 0x7F0000002000, os.makedev(0, 1), 22, b"/memfd:a s b (deleted)", True),
        (0x7F0000003000, 0x7F0000004000, os.makedev(8, 1), 33, b"/srv/its data", False),
        (0x7F0000007000, 0x7F0000008000, os.makedev(0, 5), 44, b"/dev/zero (deleted)", False),
    ]
