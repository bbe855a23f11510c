"""Copying an object's bytes into a new file without filling its holes.

A 1 TB sparse POSIX object holding a few pages must become a few pages of backup, not 1 TB of
zeros. Readers that can say where their data is (`SparseReader`: POSIX objects, through
SEEK_DATA / SEEK_HOLE) are read only there; any other reader is read whole. Either way, blocks
that are all zeros are skipped rather than written, and the file is given its full length at
the end: the skipped blocks stay holes and read back as zeros.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from shmtop.inspect import ContentReader, SparseReader

CHUNK = 1 << 20  # read at a time
BLOCK = 4096  # written or skipped as a whole
_ZEROS = bytes(CHUNK)


@dataclass(frozen=True, slots=True)
class Copied:
    size: int  # the copy's length (holes included)
    written: int  # bytes of data written; the rest are holes


def data_ranges(reader: ContentReader, size: int) -> Iterator[tuple[int, int]]:
    """Where the reader's first `size` bytes may hold data: all of it unless it can tell."""
    if isinstance(reader, SparseReader):
        yield from reader.data_ranges(0, size)
    elif size > 0:
        yield 0, size


def data_bytes(reader: ContentReader, size: int) -> int:
    """At most this many bytes will be written by copying the first `size` bytes."""
    return sum(end - start for start, end in data_ranges(reader, size))


def copy_sparse(reader: ContentReader, out_fd: int, size: int) -> Copied:
    """Copy the reader's first `size` bytes to out_fd (an empty file), holes kept as holes.
    An object that ends sooner (it shrank meanwhile) gives a shorter copy."""
    written = 0
    end = size
    for start, stop in data_ranges(reader, size):
        offset = start
        while offset < stop:
            wanted = min(CHUNK, stop - offset)
            data = reader.read(offset, wanted)
            written += _write_data(out_fd, data, offset)
            offset += len(data)
            if len(data) < wanted:
                end = offset
                break
        if end < size:
            break
    os.ftruncate(out_fd, end)
    return Copied(end, written)


def _write_data(fd: int, data: bytes, offset: int) -> int:
    """Write the blocks of data that are not all zeros at their offsets; bytes written."""
    if data == _ZEROS[: len(data)]:
        return 0
    written = 0
    view = memoryview(data)
    for start, stop in _nonzero_runs(data):
        _pwrite_all(fd, view[start:stop], offset + start)
        written += stop - start
    return written


def _nonzero_runs(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of consecutive blocks holding a byte other than zero."""
    run_start = None
    for block in range(0, len(data), BLOCK):
        block_end = min(block + BLOCK, len(data))
        zero = data.count(0, block, block_end) == block_end - block
        if zero and run_start is not None:
            yield run_start, block
            run_start = None
        elif not zero and run_start is None:
            run_start = block
    if run_start is not None:
        yield run_start, len(data)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        done = os.pwrite(fd, data, offset)
        data = data[done:]
        offset += done
