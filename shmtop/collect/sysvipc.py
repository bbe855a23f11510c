"""Parsers for /proc/sysvipc/{shm,msg,sem}: header-driven, one validated line at a time.

The header names the columns, so kernels with and without the rss/swap columns both parse.
A line that does not fit (wrong column count, not a number, negative, out of range) is skipped,
never raised. `key` is printed signed and becomes unsigned; `perms` is octal and carries the
SHM_DEST / SHM_LOCKED status bits; a time of 0 means "never" and becomes None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, NamedTuple, TypeVar

from shmtop.errors import Vanished
from shmtop.model import SysvMsg, SysvSem, SysvShm

T = TypeVar("T", SysvShm, SysvMsg, SysvSem)

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
_INT_MIN = -0x80000000
_INT_MAX = 0x7FFFFFFF
_UINT_MAX = 0xFFFFFFFF

Columns = Mapping[str, int]
Builder = Callable[[list[int]], "T | None"]  # None: the object vanished while being read


class TableFormatError(ValueError):
    """The header lacks a column this parser needs: the file is not in a known format."""


class TableSpec(NamedTuple, Generic[T]):
    """What one /proc/sysvipc file holds and how a validated row becomes an object."""

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    make_builder: Callable[[Columns, str], Builder[T]]  # (columns, namespace) -> builder


def _shm_builder(c: Columns, ns: str) -> Builder[SysvShm]:
    key, ident, perms, size, cpid, lpid, nattch, *rest = (c[n] for n in _SHM_COLUMNS)
    uid, gid, cuid, cgid, atime, dtime, ctime = rest
    rss, swap = c.get("rss"), c.get("swap")

    def build(v: list[int]) -> SysvShm:
        # Positional, in SysvShm's field order: construction runs once per segment.
        return SysvShm(
            v[ident], v[key], v[perms] & 0o777, bool(v[perms] & SHM_DEST),
            bool(v[perms] & SHM_LOCKED), v[size], v[cpid], v[lpid], v[nattch],
            v[uid], v[gid], v[cuid], v[cgid], v[atime] or None, v[dtime] or None,
            v[ctime] or None, None if rss is None else v[rss], None if swap is None else v[swap],
            ns=ns,
        )  # fmt: skip

    return build


QbytesLookup = Callable[[int, int], "int | None"]


def _no_qbytes(msqid: int, key: int) -> int | None:
    return None


def _msg_builder_with(qbytes_of: QbytesLookup) -> Callable[[Columns, str], Builder[SysvMsg]]:
    def make(c: Columns, ns: str) -> Builder[SysvMsg]:
        key, ident, perms, cbytes, qnum, lspid, lrpid, *rest = (c[n] for n in _MSG_COLUMNS)
        uid, gid, cuid, cgid, stime, rtime, ctime = rest

        def build(v: list[int]) -> SysvMsg | None:
            try:
                qbytes = qbytes_of(v[ident], v[key])
            except Vanished:
                return None
            return SysvMsg(
                v[ident], v[key], v[perms] & 0o777, v[cbytes], v[qnum], v[lspid], v[lrpid],
                v[uid], v[gid], v[cuid], v[cgid], v[stime] or None, v[rtime] or None,
                v[ctime] or None, qbytes, ns=ns,
            )  # fmt: skip

        return build

    return make


def _sem_builder(c: Columns, ns: str) -> Builder[SysvSem]:
    key, ident, perms, nsems, uid, gid, cuid, cgid, otime, ctime = (c[n] for n in _SEM_COLUMNS)

    def build(v: list[int]) -> SysvSem:
        return SysvSem(
            v[ident], v[key], v[perms] & 0o777, v[nsems], v[uid], v[gid], v[cuid], v[cgid],
            v[otime] or None, v[ctime] or None, ns=ns,
        )  # fmt: skip

    return build


_OWNER_COLUMNS = ("uid", "gid", "cuid", "cgid")
_SHM_COLUMNS = (
    *("key", "shmid", "perms", "size", "cpid", "lpid", "nattch"),
    *_OWNER_COLUMNS,
    *("atime", "dtime", "ctime"),
)
_MSG_COLUMNS = (
    *("key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid"),
    *_OWNER_COLUMNS,
    *("stime", "rtime", "ctime"),
)
_SEM_COLUMNS = ("key", "semid", "perms", "nsems", *_OWNER_COLUMNS, "otime", "ctime")

SHM_SPEC: TableSpec[SysvShm] = TableSpec("shm", _SHM_COLUMNS, ("rss", "swap"), _shm_builder)
SEM_SPEC: TableSpec[SysvSem] = TableSpec("sem", _SEM_COLUMNS, (), _sem_builder)


def msg_spec(qbytes_of: QbytesLookup = _no_qbytes) -> TableSpec[SysvMsg]:
    """The queue table; qbytes (absent from /proc) comes from qbytes_of(id, key), which
    raises Vanished when the queue is gone (the line is then skipped)."""
    return TableSpec("msg", _MSG_COLUMNS, (), _msg_builder_with(qbytes_of))


MSG_SPEC = msg_spec()


RowReader = Callable[[bytes], "list[int] | None"]


def _row_reader(columns: Columns, spec: TableSpec[T], width: int) -> RowReader:
    """A validator for one line: its integers, or None when the line does not fit.

    Octal perms, a key printed signed (within 32 bits), non-negative values, an id that fits
    an int and owners that fit a uid. Written flat, with positions bound once, because it
    runs for every line of tables that hold tens of thousands.
    """
    perms, key, ident = columns["perms"], columns["key"], columns[spec.required[1]]
    uid, gid, cuid, cgid = (columns[name] for name in _OWNER_COLUMNS)

    def read(line: bytes) -> list[int] | None:
        fields = line.split()
        if len(fields) != width:
            return None
        try:
            values = list(map(int, fields))
            values[perms] = int(fields[perms], 8)
        except ValueError:
            return None
        signed_key = values[key]
        if not _INT_MIN <= signed_key <= _UINT_MAX:
            return None
        values[key] = signed_key & _UINT_MAX
        if min(values) < 0 or values[ident] > _INT_MAX:
            return None
        if max(values[uid], values[gid], values[cuid], values[cgid]) > _UINT_MAX:
            return None
        return values

    return read


def column_map(header: bytes, spec: TableSpec[T]) -> dict[str, int]:
    """Column name -> position; raises TableFormatError when a required column is missing."""
    names = [name.decode("ascii", "replace") for name in header.split()]
    columns = {name: i for i, name in enumerate(names)}
    missing = [name for name in spec.required if name not in columns]
    if missing:
        raise TableFormatError(f"/proc/sysvipc/{spec.file}: no column {', '.join(missing)}")
    return {name: columns[name] for name in spec.required + spec.optional if name in columns}


def parse_table(
    text: bytes,
    spec: TableSpec[T],
    memo: Mapping[bytes, T] | None = None,
    keep: Callable[[T], bool] | None = None,
    ns: str = "",
) -> dict[bytes, T]:
    """Parse a whole file; returns {line: object} in file order (the memo for the next read).

    A line found in `memo` reuses its object, since identical text means identical values,
    unless `keep` says the object has changed in a way the line does not show.
    """
    header, _, body = text.partition(b"\n")
    columns = column_map(header, spec)
    read = _row_reader(columns, spec, len(header.split()))
    build = spec.make_builder(columns, ns)
    previous = memo or {}
    parsed: dict[bytes, T] = {}
    for line in body.splitlines():
        known = previous.get(line)
        if known is not None and (keep is None or keep(known)):
            parsed[line] = known
            continue
        values = read(line)
        obj = None if values is None else build(values)
        if obj is not None:
            parsed[line] = obj
    return parsed
