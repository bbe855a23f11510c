"""`--backup DIR` as root: never where another user points, never denser than the object,
never more than fits, never blocked by a name. Real objects, directories, tmpfs mounts (in a
child's own mount namespace) and another user (nobody)."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import string
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
import sysv_ipc
from hypothesis import given
from hypothesis import strategies as st

from shmtop.clean import backup as backup_module
from shmtop.clean.backup import backup, encode_ref
from shmtop.collect import collect_snapshot
from shmtop.model import IpcObject
from shmtop.model.roots import Roots
from tests.ipcfactory import IpcFactory, unique
from tests.namespaces import run_with_mounts
from tests.privileges import NOBODY, require_root, run_as_nobody
from tests.test_inspect import shmtop

TiB, MiB = 1 << 40, 1 << 20
_libc = ctypes.CDLL(None, use_errno=True)
FROZEN = types.SimpleNamespace(time=lambda: 1_800_000_000.0)  # every backup in one second


@pytest.fixture(autouse=True)
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own audit log (never the real user's)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def exists(ref: str) -> bool:
    return any(o.ref == ref for o in collect_snapshot().objects)


def current(ref: str) -> IpcObject:
    return next(o for o in collect_snapshot().objects if o.ref == ref)


def rm_with_backup(directory: Path | str, *refs: str) -> tuple[int, list[dict[str, str]]]:
    status, out, _ = shmtop("rm", "--yes", "--json", "--backup", str(directory), *refs)
    return status, json.loads(out)["results"]


def as_nobody_in(directory: Path, act: Callable[[int], object]) -> None:
    """act(descriptor of directory), run as uid nobody (who may not reach tmp_path by path)."""
    require_root("acting as nobody")
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        run_as_nobody(act, fd)
    finally:
        os.close(fd)


def untouched_segment(ipc: IpcFactory, size: int) -> int:
    """A private segment whose pages were never written (sysv_ipc fills new ones with
    spaces): its id."""
    shmid = _libc.shmget(0, ctypes.c_size_t(size), 0o1000 | 0o2000 | 0o600)
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    ipc.defer(lambda: sysv_ipc.remove_shared_memory(shmid))
    return int(shmid)


def nobodys(path: Path) -> Path:
    path.mkdir(mode=0o755)
    os.chown(path, NOBODY, NOBODY)
    return path


# Where root writes ---------------------------------------------------------------------------


def test_a_symlink_another_user_planted_is_not_followed(ipc: IpcFactory, tmp_path: Path) -> None:
    name, _ = ipc.posix_shm_holding(b"secret bytes")
    ref = f"posix-shm:{name}"
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o700)
    home = nobodys(tmp_path / "home")
    as_nobody_in(home, lambda fd: os.symlink(victim, "backups", dir_fd=fd))
    status, [result] = rm_with_backup(home / "backups", ref)
    assert status == 1 and result["result"] == "refused"
    assert result["detail"] == (
        f"{ref} was not removed: its backup failed ({home} belongs to nobody (uid {NOBODY}), "
        "not to you or root)"
    )
    assert exists(ref) and list(victim.iterdir()) == []


def test_a_symlink_anywhere_in_the_path_is_refused(ipc: IpcFactory, tmp_path: Path) -> None:
    name = ipc.posix_shm()
    ref = f"posix-shm:{name}"
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for named in (tmp_path / "link", tmp_path / "link" / "saved"):
        status, [result] = rm_with_backup(named, ref)
        assert status == 1
        assert f"({tmp_path}/link is a symlink, not a directory)" in result["detail"]
    assert exists(ref) and list((tmp_path / "real").iterdir()) == []


def test_a_directory_another_user_owns_or_may_write_is_refused(
    ipc: IpcFactory, tmp_path: Path
) -> None:
    name, _ = ipc.posix_shm_holding(b"data")
    ref = f"posix-shm:{name}"
    theirs = nobodys(tmp_path / "theirs")  # they could swap what root creates in it
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: fine on the way, not as the backup directory
    for named, why in (
        (theirs, f"{theirs} belongs to nobody (uid {NOBODY}), not to you or root"),
        (shared, f"{shared} is writable by others (mode 1777)"),
    ):
        status, [result] = rm_with_backup(named, ref)
        assert status == 1 and result["detail"].endswith(f"its backup failed ({why})")
        assert list(named.iterdir()) == []
    status, [result] = rm_with_backup(shared / "mine", ref)
    assert status == 0 and result["result"] == "removed"
    [saved] = (shared / "mine").iterdir()
    assert (saved / "bytes").read_bytes() == b"data"


def test_files_go_where_the_directory_was_opened_even_if_its_path_is_swapped(
    ipc: IpcFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming the directory and planting a symlink in its place while the bytes are copied
    changes nothing: every file is created relative to the directory's descriptor."""
    name, _ = ipc.posix_shm_holding(os.urandom(3 * MiB))
    saved, moved, decoy = tmp_path / "saved", tmp_path / "moved", tmp_path / "decoy"
    saved.mkdir(mode=0o700)
    decoy.mkdir(mode=0o700)
    real_open_reader = backup_module.open_reader

    def swapping_reader(*args: Any) -> Any:
        reader = real_open_reader(*args)
        real_read = reader.read

        def read(offset: int, length: int) -> bytes:
            if not moved.exists():
                saved.rename(moved)
                saved.symlink_to(decoy)
            return real_read(offset, length)

        reader.read = read
        return reader

    monkeypatch.setattr(backup_module, "open_reader", swapping_reader)
    backup(current(f"posix-shm:{name}"), str(saved), Roots(), {})
    assert list(decoy.iterdir()) == []
    [made] = moved.iterdir()
    assert sorted(p.name for p in made.iterdir()) == ["bytes", "object.json"]
    assert (made / "bytes").read_bytes() == Path("/dev/shm" + name).read_bytes()


# Holes and room -------------------------------------------------------------------------------


def test_a_terabyte_sparse_object_is_backed_up_as_its_few_pages(
    ipc: IpcFactory, tmp_path: Path
) -> None:
    marks = {0: b"first", TiB // 2 + 5: b"middle", TiB - 4: b"last"}
    name, _ = ipc.posix_shm_holding(size=TiB, marks=marks)
    ref = f"posix-shm:{name}"
    small = tmp_path / "small"  # a 16 MiB tmpfs mounted on it in the child alone
    small.mkdir(mode=0o700)

    def back_up() -> tuple[int, list[dict[str, str]], int, int, dict[int, bytes]]:
        status, results = rm_with_backup(small / "b", ref)
        [saved] = (small / "b").iterdir()
        fd = os.open(saved / "bytes", os.O_RDONLY)
        try:
            st = os.fstat(fd)
            found = {offset: os.pread(fd, len(mark), offset) for offset, mark in marks.items()}
        finally:
            os.close(fd)
        return status, results, st.st_size, st.st_blocks * 512, found

    status, results, size, allocated, found = run_with_mounts(
        {str(small): ("tmpfs", "size=16m")}, back_up
    )
    assert status == 0 and results[0]["result"] == "removed"
    assert size == TiB and allocated <= 3 * 4096 and found == marks
    assert not exists(ref)


def test_a_segment_backup_leaves_out_blocks_of_zeros(ipc: IpcFactory, tmp_path: Path) -> None:
    """A System V reader cannot say where its data is: blocks of zeros are skipped instead."""
    shmid = untouched_segment(ipc, 64 * MiB)
    segment = sysv_ipc.attach(shmid)
    segment.write(b"start", 0)
    segment.write(b"deep", 40 * MiB + 3)
    segment.detach()
    ref = f"sysv-shm:{shmid}"
    status, [result] = rm_with_backup(tmp_path / "saved", ref)
    assert status == 0, result
    [saved] = (tmp_path / "saved").iterdir()
    data = saved / "bytes"
    assert data.stat().st_size == 64 * MiB and data.stat().st_blocks * 512 <= 64 << 10
    with data.open("rb") as f:
        assert f.read(5) == b"start" and os.pread(f.fileno(), 4, 40 * MiB + 3) == b"deep"
    fields = json.loads((saved / "object.json").read_text())
    assert fields["bytes_saved"] == 64 * MiB and fields["bytes_written"] == 2 * 4096


def test_a_backup_that_would_not_fit_is_refused_before_writing(
    ipc: IpcFactory, tmp_path: Path
) -> None:
    name, _ = ipc.posix_shm_holding(os.urandom(4 * MiB))
    ref = f"posix-shm:{name}"
    small = tmp_path / "small"
    small.mkdir(mode=0o700)

    def back_up() -> tuple[int, list[dict[str, str]], list[str]]:
        status, results = rm_with_backup(small / "b", ref)
        return status, results, os.listdir(small / "b")

    status, [result], left = run_with_mounts({str(small): ("tmpfs", "size=1m")}, back_up)
    assert status == 1 and result["result"] == "refused"
    assert result["detail"] == (
        f"{ref} was not removed: its backup failed ({small}/b has 1M free and the backup of "
        f"{ref} needs 4.1M)"
    )
    assert left == [] and exists(ref)


# Names ------------------------------------------------------------------------------------------


def test_references_that_differ_only_in_punctuation_get_their_own_directories(
    ipc: IpcFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_module, "time", FROZEN)
    base = "/" + unique("punct")
    names = [base + ":b", base + "_b", base + " b", base + "%3Ab"]
    for name in names:
        ipc.defer(lambda name=name: os.unlink("/dev/shm" + name))
        Path("/dev/shm" + name).write_bytes(name.encode())
    refs = [f"posix-shm:{name}" for name in names]
    status, results = rm_with_backup(tmp_path / "saved", *refs)
    assert status == 0, results
    by_ref = {}
    for saved in (tmp_path / "saved").iterdir():
        by_ref[json.loads((saved / "object.json").read_text())["ref"]] = saved
        assert saved.name.endswith("_1800000000")
    assert sorted(by_ref) == sorted(refs)
    assert all((by_ref[f"posix-shm:{n}"] / "bytes").read_bytes() == n.encode() for n in names)


def test_the_same_object_twice_in_one_second_gets_a_numbered_directory(
    ipc: IpcFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_module, "time", FROZEN)
    name, _ = ipc.posix_shm_holding(b"twice")
    obj = current(f"posix-shm:{name}")
    first = backup(obj, str(tmp_path / "saved"), Roots(), {})
    second = backup(obj, str(tmp_path / "saved"), Roots(), {})
    assert second == first + "_2"
    assert Path(second, "bytes").read_bytes() == b"twice"


def test_long_names_get_short_distinct_directories(ipc: IpcFactory, tmp_path: Path) -> None:
    """Names of 250 bytes, 6 encoded characters for each 'é': the reference is cut and a
    digest of it added, within NAME_MAX."""
    prefix = unique("long")
    fill = "é" * ((249 - len(prefix)) // 2)
    names = [f"/{prefix}{fill}{end}" for end in ("1", "2")]
    for name in names:
        ipc.defer(lambda name=name: os.unlink("/dev/shm" + name))
        Path("/dev/shm" + name).write_bytes(b"long")
    refs = [f"posix-shm:{n}" for n in names]
    status, results = rm_with_backup(tmp_path / "saved", *refs)
    assert status == 0, results
    made = list((tmp_path / "saved").iterdir())
    assert len(made) == 2 and all(len(d.name) <= 255 for d in made)
    assert sorted(json.loads((d / "object.json").read_text())["ref"] for d in made) == refs


@given(st.text(min_size=1, max_size=60))
def test_encoding_a_reference_is_undone_exactly(ref: str) -> None:
    """Within the room a name has, the encoding is undone exactly; beyond it, a prefix of
    the encoding and a digest of the whole reference (distinct names stay distinct)."""
    encoded = encode_ref(ref)
    raw = ref.encode("utf-8", "surrogateescape")
    whole, _, digest = encoded.rpartition("_")
    if not whole:  # it fitted
        assert set(encoded) <= set(string.ascii_letters + string.digits + ".-%")
        assert unquote_to_bytes(encoded) == raw
    else:
        assert raw.startswith(unquote_to_bytes(whole))
        assert digest == hashlib.sha256(raw).hexdigest()[: len(digest)] and len(digest) >= 16
