"""Parsers for /proc/sysvipc/{shm,msg,sem}: header-driven, one validated line at a time.

The header names the columns, so kernels with and without the rss/swap columns both parse.
A line that does not fit (wrong column count, not a number, negative, out of range) is skipped,
never raised. `key` is printed signed and becomes unsigned; `perms` is octal and carries the
SHM_DEST / SHM_LOCKED status bits; a time of 0 means "never" and becomes None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from shmtop.model import SysvMsg, SysvSem, SysvShm

T = TypeVar("T", SysvShm, SysvMsg, SysvSem)

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
_INT_MAX = 0x7FFFFFFF
_UINT_MAX = 0xFFFFFFFF

Columns = Mapping[str, int]


class TableFormatError(ValueError):
    """The header lacks a column this parser needs: the file is not in a known format."""


@dataclass(frozen=True)
class TableSpec(Generic[T]):
    """What one /proc/sysvipc file holds and how a validated row becomes an object."""

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    make_builder: Callable[[Columns], Callable[[list[int]], T]]


def _shm_builder(c: Columns) -> Callable[[list[int]], SysvShm]:
    (key, ident, perms, size, cpid, lpid, nattch) = (c[n] for n in SHM_SPEC.required[:7])
    (uid, gid, cuid, cgid, atime, dtime, ctime) = (c[n] for n in SHM_SPEC.required[7:])
    rss, swap = c.get("rss"), c.get("swap")

    def build(v: list[int]) -> SysvShm:
        return SysvShm(
            id=v[ident],
            key=v[key],
            mode=v[perms] & 0o777,
            dest=bool(v[perms] & SHM_DEST),
            locked=bool(v[perms] & SHM_LOCKED),
            size=v[size],
            cpid=v[cpid],
            lpid=v[lpid],
            nattch=v[nattch],
            uid=v[uid],
            gid=v[gid],
            cuid=v[cuid],
            cgid=v[cgid],
            atime=v[atime] or None,
            dtime=v[dtime] or None,
            ctime=v[ctime] or None,
            rss=None if rss is None else v[rss],
            swap=None if swap is None else v[swap],
        )

    return build


def _msg_builder(c: Columns) -> Callable[[list[int]], SysvMsg]:
    (key, ident, perms, cbytes, qnum, lspid, lrpid) = (c[n] for n in MSG_SPEC.required[:7])
    (uid, gid, cuid, cgid, stime, rtime, ctime) = (c[n] for n in MSG_SPEC.required[7:])

    def build(v: list[int]) -> SysvMsg:
        return SysvMsg(
            id=v[ident],
            key=v[key],
            mode=v[perms] & 0o777,
            cbytes=v[cbytes],
            qnum=v[qnum],
            lspid=v[lspid],
            lrpid=v[lrpid],
            uid=v[uid],
            gid=v[gid],
            cuid=v[cuid],
            cgid=v[cgid],
            stime=v[stime] or None,
            rtime=v[rtime] or None,
            ctime=v[ctime] or None,
            qbytes=None,
        )

    return build


def _sem_builder(c: Columns) -> Callable[[list[int]], SysvSem]:
    (key, ident, perms, nsems, uid, gid, cuid, cgid, otime, ctime) = (
        c[n] for n in SEM_SPEC.required
    )

    def build(v: list[int]) -> SysvSem:
        return SysvSem(
            id=v[ident],
            key=v[key],
            mode=v[perms] & 0o777,
            nsems=v[nsems],
            uid=v[uid],
            gid=v[gid],
            cuid=v[cuid],
            cgid=v[cgid],
            otime=v[otime] or None,
            ctime=v[ctime] or None,
        )

    return build


_OWNER_COLUMNS = ("uid", "gid", "cuid", "cgid")

SHM_SPEC: TableSpec[SysvShm] = TableSpec(
    "shm",
    (
        *("key", "shmid", "perms", "size", "cpid", "lpid", "nattch"),
        *_OWNER_COLUMNS,
        *("atime", "dtime", "ctime"),
    ),
    ("rss", "swap"),
    _shm_builder,
)
MSG_SPEC: TableSpec[SysvMsg] = TableSpec(
    "msg",
    (
        *("key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid"),
        *_OWNER_COLUMNS,
        *("stime", "rtime", "ctime"),
    ),
    (),
    _msg_builder,
)
SEM_SPEC: TableSpec[SysvSem] = TableSpec(
    "sem",
    ("key", "semid", "perms", "nsems", *_OWNER_COLUMNS, "otime", "ctime"),
    (),
    _sem_builder,
)


@dataclass(frozen=True)
class _RowCheck:
    """Column positions that need more than int(): octal perms, signed key, bounded ids."""

    width: int
    perms: int
    key: int
    id: int
    owners: tuple[int, ...]

    def values(self, line: bytes) -> list[int] | None:
        fields = line.split()
        if len(fields) != self.width:
            return None
        try:
            values = list(map(int, fields))
            values[self.perms] = int(fields[self.perms], 8)
        except ValueError:
            return None
        return values if self._in_range(values) else None

    def _in_range(self, values: list[int]) -> bool:
        key = values[self.key]
        if not -(1 << 31) <= key <= _UINT_MAX:
            return False
        values[self.key] = key & _UINT_MAX
        if min(values) < 0 or values[self.id] > _INT_MAX:
            return False
        return all(values[i] <= _UINT_MAX for i in self.owners)


def column_map(header: bytes, spec: TableSpec[T]) -> dict[str, int]:
    """Column name -> position; raises TableFormatError when a required column is missing."""
    names = [name.decode("ascii", "replace") for name in header.split()]
    columns = {name: i for i, name in enumerate(names)}
    missing = [name for name in spec.required if name not in columns]
    if missing:
        raise TableFormatError(f"/proc/sysvipc/{spec.file}: no column {', '.join(missing)}")
    return {name: columns[name] for name in spec.required + spec.optional if name in columns}


def parse_table(
    text: bytes, spec: TableSpec[T], memo: Mapping[bytes, T] | None = None
) -> dict[bytes, T]:
    """Parse a whole file; returns {line: object} in file order (the memo for the next read).

    A line found in `memo` reuses its object: identical text means identical values.
    """
    header, _, body = text.partition(b"\n")
    columns = column_map(header, spec)
    check = _row_check(columns, spec, len(header.split()))
    build = spec.make_builder(columns)
    previous = memo or {}
    parsed: dict[bytes, T] = {}
    for line in body.splitlines():
        known = previous.get(line)
        if known is not None:
            parsed[line] = known
            continue
        values = check.values(line)
        if values is not None:
            parsed[line] = build(values)
    return parsed


def _row_check(columns: Columns, spec: TableSpec[T], width: int) -> _RowCheck:
    ident = columns[spec.required[1]]  # shmid, msqid or semid
    owners = tuple(columns[name] for name in _OWNER_COLUMNS)
    return _RowCheck(width, columns["perms"], columns["key"], ident, owners)
