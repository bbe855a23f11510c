"""What the hex view builds on, over real POSIX objects: the page cache, chunked search and
range saving; and the offsets and patterns people type."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from shmtop.collect import collect_snapshot
from shmtop.inspect import ContentReader, open_reader
from shmtop.inspect.pages import (
    BLOCK,
    BLOCKS_KEPT,
    PATTERN_LIMIT,
    PageCache,
    parse_offset,
    parse_pattern,
)
from shmtop.inspect.save import save_range
from shmtop.inspect.search import Cancelled, Search
from shmtop.model import Kind
from tests.ipcfactory import IpcFactory

MiB = 1 << 20


def reader_of(ipc: IpcFactory, data: bytes, size: int | None = None) -> tuple[ContentReader, str]:
    """A reader of a new POSIX object holding data (then sparse up to size), and its path."""
    name, path = ipc.posix_shm_holding(data, size)
    snap = collect_snapshot(kinds={Kind.POSIX_SHM})
    obj = next(o for o in snap.objects if o.ref == f"posix-shm:{name}")
    return open_reader(obj, None), path


class CountingRead:
    """A reader's read, counting the calls and the bytes asked for."""

    def __init__(self, reader: ContentReader) -> None:
        self.reader, self.calls, self.asked = reader, 0, 0

    def __call__(self, offset: int, length: int) -> bytes:
        self.calls += 1
        self.asked += length
        return self.reader.read(offset, length)


# Typing offsets and patterns ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "offset"),
    [("4096", 4096), ("0x1000", 4096), ("0X1000", 4096), ("1000h", 4096), ("ff0", 0xFF0),
     ("4k", 4096), ("1M", MiB), ("2g", 2 << 30), (" 1_000 ", 1000), ("0", 0)],
)  # fmt: skip
def test_offsets_are_typed_in_decimal_hex_or_binary_units(typed: str, offset: int) -> None:
    assert parse_offset(typed) == offset


@pytest.mark.parametrize("typed", ["", "zz", "0x", "-5", "4q", "1.5k"])
def test_a_bad_offset_is_refused_with_a_hint(typed: str) -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_offset(typed)


def test_patterns_are_hex_bytes_after_0x_or_else_utf8_text() -> None:
    assert parse_pattern("0x de ad be ef") == b"\xde\xad\xbe\xef"
    assert parse_pattern("0xDEADbeef") == b"\xde\xad\xbe\xef"
    assert parse_pattern("hello world") == b"hello world"
    assert parse_pattern("été") == "été".encode()
    for bad in ("0xabc", "0xzz", ""):
        with pytest.raises(ValueError):
            parse_pattern(bad)
    with pytest.raises(ValueError, match="at most"):
        parse_pattern("a" * (PATTERN_LIMIT + 1))


# The page cache ----------------------------------------------------------------------------


def test_page_cache_returns_the_bytes_at_any_offset_and_stops_at_the_end(ipc: IpcFactory) -> None:
    data = os.urandom(3 * BLOCK + 100)
    reader, _ = reader_of(ipc, data)
    pages = PageCache(reader.read)
    for offset, length in ((0, 16), (BLOCK - 5, 16), (2 * BLOCK - 1, 3 * BLOCK), (3 * BLOCK, 200)):
        assert pages.get(offset, length) == data[offset : offset + length]
    assert pages.get(len(data), 16) == b""
    assert pages.get(10 * BLOCK, 16) == b""
    reader.close()


def test_page_cache_memory_is_bounded_and_repeated_lines_read_nothing(ipc: IpcFactory) -> None:
    reader, _ = reader_of(ipc, b"x", size=(BLOCKS_KEPT + 8) * BLOCK)
    read = CountingRead(reader)
    pages = PageCache(read)
    for block in range(BLOCKS_KEPT + 8):
        pages.get(block * BLOCK, 16)
    assert read.calls == BLOCKS_KEPT + 8 and read.asked == (BLOCKS_KEPT + 8) * BLOCK
    assert len(pages._blocks) == BLOCKS_KEPT  # the oldest were dropped
    for line in range(0, BLOCK, 16):  # a whole block of lines: no more reads
        pages.get((BLOCKS_KEPT + 7) * BLOCK + line, 16)
    assert read.calls == BLOCKS_KEPT + 8
    pages.clear()
    pages.get(0, 16)
    assert read.calls == BLOCKS_KEPT + 9
    reader.close()


def test_page_cache_sees_new_bytes_only_after_clear(ipc: IpcFactory) -> None:
    reader, path = reader_of(ipc, b"old!" * 8)
    pages = PageCache(reader.read)
    assert pages.get(0, 4) == b"old!"
    with open(path, "r+b") as f:
        f.write(b"new!")
    assert pages.get(0, 4) == b"old!"
    pages.clear()
    assert pages.get(0, 4) == b"new!"
    reader.close()


# Search ------------------------------------------------------------------------------------


def test_search_finds_a_pattern_straddling_a_chunk_boundary(ipc: IpcFactory) -> None:
    chunk = 4096
    data = bytearray(4 * chunk)
    data[chunk - 3 : chunk + 5] = b"NEEDLE!!"  # 3 bytes in the first chunk, 5 in the second
    reader, _ = reader_of(ipc, bytes(data))
    search = Search(reader.read, len(data), b"NEEDLE!!", chunk=chunk)
    assert search.find(0) == chunk - 3
    reader.close()


def test_search_across_the_real_one_mib_chunk_boundary(ipc: IpcFactory) -> None:
    reader, path = reader_of(ipc, b"", size=3 * MiB)
    with open(path, "r+b") as f:
        f.seek(MiB - 2)
        f.write(b"\xde\xad\xbe\xef")
    search = Search(reader.read, 3 * MiB, parse_pattern("0xdeadbeef"))
    assert search.chunk == MiB
    assert search.find(0) == MiB - 2
    reader.close()


def test_search_next_match_then_wraps_then_reports_none(ipc: IpcFactory) -> None:
    data = bytearray(64 * 1024)
    for offset in (100, 30_000, 60_000):
        data[offset : offset + 3] = b"abc"
    reader, _ = reader_of(ipc, bytes(data))
    search = Search(reader.read, len(data), b"abc", chunk=1000)
    assert search.find(0) == 100
    assert search.find(101) == 30_000
    assert search.find(30_001) == 60_000
    assert search.find(60_001) == 100  # wrapped to the start
    assert Search(reader.read, len(data), b"abd", chunk=1000).find(500) is None
    reader.close()


def test_search_reports_progress_and_stops_when_cancelled(ipc: IpcFactory) -> None:
    reader, _ = reader_of(ipc, b"", size=MiB)
    seen: list[tuple[int, int]] = []
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= MiB // 4:
            cancel.set()

    search = Search(reader.read, MiB, b"absent", progress, chunk=64 * 1024, cancel=cancel)
    with pytest.raises(Cancelled):
        search.find(0)
    assert [done for done, _ in seen] == [64 * 1024 * n for n in range(1, 5)]
    assert all(total == MiB for _, total in seen)
    reader.close()


def test_search_of_an_object_truncated_meanwhile_ends_without_error(ipc: IpcFactory) -> None:
    reader, path = reader_of(ipc, b"", size=MiB)
    search = Search(reader.read, MiB, b"absent", chunk=4096)  # the size it had when opened
    os.truncate(path, 10_000)
    assert search.find(0) is None
    reader.close()


# Saving a range ----------------------------------------------------------------------------


def test_save_writes_exactly_the_range_to_a_new_private_file(ipc: IpcFactory, tmp_path) -> None:
    data = os.urandom(3 * MiB + 7)
    reader, _ = reader_of(ipc, data)
    target = tmp_path / "range.bin"
    assert save_range(reader.read, MiB - 3, 2 * MiB + 1, str(target)) == 2 * MiB + 1
    assert target.read_bytes() == data[MiB - 3 : 3 * MiB - 2]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    reader.close()


def test_save_past_the_end_copies_what_there_is(ipc: IpcFactory, tmp_path) -> None:
    data = os.urandom(5000)
    reader, _ = reader_of(ipc, data)
    target = tmp_path / "tail.bin"
    assert save_range(reader.read, 4000, 10_000, str(target)) == 1000
    assert target.read_bytes() == data[4000:]
    reader.close()


def test_save_never_writes_over_a_file_or_through_a_symlink(ipc: IpcFactory, tmp_path) -> None:
    reader, _ = reader_of(ipc, b"secret")
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep me")
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me too")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(FileExistsError):
        save_range(reader.read, 0, 6, str(existing))
    with pytest.raises(FileExistsError):
        save_range(reader.read, 0, 6, str(link))
    assert existing.read_bytes() == b"keep me" and victim.read_bytes() == b"keep me too"
    reader.close()
