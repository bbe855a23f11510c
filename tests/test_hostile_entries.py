"""shared/HAZARDS.md 1-7 for the collector and `shmtop list`: real hostile files in /dev/shm."""

from __future__ import annotations

import json
import os
import subprocess

from shmtop.collect import collect_snapshot
from shmtop.model import FileType, IpcObject, Snapshot
from shmtop.names import unescape_name
from tests.inotify import watch_opens
from tests.ipcfactory import IpcFactory, unique

HOSTILE_NAMES = [
    b"[red]x",
    b"[@click=app.quit]x",
    b"[link=https:a.example]x",  # no "/": names cannot hold one
    b"\x1b]0;title\x07",
    b"\x1b]52;c;ZXZpbA==\x07",
    b"\x1b[2J",
    b"c1\x9b\x85",
    "u8c1\u009b".encode(),
    b"db",
    b"db\nx",
    b"tab\there",
    b"bad\xff\xfe",
]


def by_name(snapshot: Snapshot, raw: bytes) -> IpcObject:
    (found,) = [o for o in snapshot.objects if getattr(o, "name", None) == raw]
    return found


def tagged(raw: bytes) -> bytes:
    return unique("hz").encode() + raw


def test_symlinks_fifos_sockets_and_directories_are_listed_never_opened(
    ipc: IpcFactory, tmp_path
) -> None:
    trap = os.fsencode(tmp_path / "trap-fifo")
    os.mkfifo(trap)
    entries = {
        tagged(b"shadow"): (ipc.symlink, b"/etc/shadow", FileType.SYMLINK),
        b"sem." + tagged(b"x"): (ipc.symlink, trap, FileType.SYMLINK),
        tagged(b"dangling"): (ipc.symlink, b"/nonexistent/target", FileType.SYMLINK),
        b"sem." + tagged(b"fifo"): (ipc.fifo, None, FileType.FIFO),
        tagged(b"fifo"): (ipc.fifo, None, FileType.FIFO),
        b"sem." + tagged(b"dir"): (ipc.directory, None, FileType.DIRECTORY),
        tagged(b"sock"): (ipc.socket, None, FileType.SOCKET),
    }
    for raw, (make, target, _) in entries.items():
        make(raw, target) if target else make(raw)
    control = ipc.posix_sem(value=1)  # a real semaphore, which must be seen being read
    with watch_opens(b"/dev/shm", os.fsencode(tmp_path), b"/etc") as watch:
        snapshot = collect_snapshot()
        opened = watch.opened()
    for raw, (_, _, expected_type) in entries.items():
        name = b"/" + (raw[4:] if raw.startswith(b"sem.") else raw)
        obj = by_name(snapshot, name)
        assert obj.type is expected_type
        assert getattr(obj, "value", None) is None
    assert b"/dev/shm/sem." + control[1:].encode() in opened  # the watch sees opens
    assert not [p for p in opened if any(p.endswith(raw) for raw in entries)]
    assert trap not in opened
    assert b"/etc/shadow" not in opened


def test_hard_link_is_listed_under_both_names_with_nlink_2(ipc: IpcFactory) -> None:
    first = ipc.file(tagged(b"one"), b"data")
    second = ipc.dev_shm_path(tagged(b"two"))
    os.link(first, second)
    snapshot = collect_snapshot()
    a = by_name(snapshot, first[len(b"/dev/shm") :])
    b = by_name(snapshot, second[len(b"/dev/shm") :])
    assert (a.nlink, b.nlink) == (2, 2)
    assert a.inode == b.inode


def test_hostile_names_are_listed_with_refs_that_lead_back_to_them(ipc: IpcFactory) -> None:
    raws = [tagged(raw) for raw in HOSTILE_NAMES]
    for raw in raws:
        ipc.file(raw, b"x")
    snapshot = collect_snapshot()
    for raw in raws:
        obj = by_name(snapshot, b"/" + raw)
        ref = obj.ref
        assert ref.isprintable()
        assert unescape_name(ref.removeprefix("posix-shm:/")) == raw


def test_list_output_shows_hostile_names_escaped_and_writes_no_raw_controls(
    ipc: IpcFactory, shmtop_cmd: list[str]
) -> None:
    names = {raw: tagged(raw) for raw in HOSTILE_NAMES}
    for name in names.values():
        ipc.file(name, b"x")
    out = subprocess.run(
        [*shmtop_cmd, "list", "--kind", "posix-shm"], capture_output=True, check=True
    ).stdout
    for control in (b"\x1b", b"\x07", b"\x9b", b"\x85", "\u009b".encode(), b"\t"):
        assert control not in out
    text = out.decode()
    db_newline_x = names[b"db\nx"]
    assert db_newline_x[:-2].decode() + "\\nx" in text  # `db\nx` differs visibly from `db`
    assert "\\x1b]52;c;ZXZpbA==\\x07" in text
    assert "bad\\xff\\xfe" in text
    assert "[@click=app.quit]x" in text
    assert len(text.splitlines()) == 1 + len(
        [line for line in text.splitlines() if line.startswith("posix-shm:/")]
    )


def test_json_is_valid_and_lossless_for_names_that_are_not_utf8(
    ipc: IpcFactory, shmtop_cmd: list[str]
) -> None:
    raws = [tagged(raw) for raw in HOSTILE_NAMES]
    for raw in raws:
        ipc.file(raw, b"x")
    out = subprocess.run(
        [*shmtop_cmd, "list", "--json", "--kind", "posix-shm"], capture_output=True, check=True
    ).stdout
    assert out.isascii()
    objects = {bytes.fromhex(o["name_hex"]): o for o in json.loads(out)["objects"]}
    for raw in raws:
        obj = objects[b"/" + raw]
        assert unescape_name(obj["ref"].removeprefix("posix-shm:/")) == raw
        if b"\xff" not in raw:
            assert obj["name"] == "/" + raw.decode("utf-8", "replace")
