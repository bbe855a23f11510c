"""The columns of each view: how a cell reads (escaped text) and how a column sorts (raw value).

Views are "all" (one table of every kind) and one per kind with that kind's own fields. Cell
text comes from shmtop.present and shmtop.names, the one escaping path; sort keys are raw
values, so sizes sort as numbers and times as times. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from shmtop.humanize import human_bytes, local_time, octal_mode
from shmtop.model import (
    ALL_KINDS,
    AttachMap,
    IpcObject,
    Kind,
    PosixEntry,
    PosixMq,
    PosixSem,
    SysvMsg,
    SysvSem,
    SysvShm,
    Verdict,
)
from shmtop.names import escape_name, owner_text
from shmtop.present import (
    NONE,
    changed_at,
    key_text,
    pids,
    procs_text,
    size_text,
    use_text,
)

Users = Mapping[int, "str | None"]
SortKey = tuple[Any, ...]


class Context(NamedTuple):
    """What cells need besides the object: user names, and who attaches what."""

    users: Users
    attach: AttachMap | None = None
    verdicts: Mapping[str, Verdict] | None = None  # leak verdicts of the latest attach scan


class Column(NamedTuple):
    id: str
    title: str
    width: int
    cell: Callable[[IpcObject, Context], str]
    sort: Callable[[IpcObject, Context], Any]
    right: bool = False
    flex: bool = False  # takes a share of spare width (long names)
    verdict: bool = False  # reads the leak verdicts: redrawn (and re-sorted) when they arrive


class View(NamedTuple):
    id: str
    title: str
    kinds: frozenset[Kind]
    columns: tuple[Column, ...]
    default_sort: str


_KIND_ORDER = {kind: i for i, kind in enumerate(ALL_KINDS)}


def ref_key(obj: IpcObject) -> SortKey:
    """Kind order, then id or name: unique, and numeric ids sort as numbers."""
    if isinstance(obj, PosixEntry):
        return (_KIND_ORDER[obj.kind], 0, obj.name)
    return (_KIND_ORDER[obj.kind], obj.id, b"")


def _known(value: Any) -> SortKey:
    """Unknown values sort after known ones, whatever their type."""
    return (1, 0) if value is None else (0, value)


def _size_value(obj: IpcObject) -> int | None:
    match obj:
        case SysvShm():
            return obj.size
        case SysvMsg():
            return obj.cbytes
        case PosixMq():
            return obj.qsize
        case PosixSem():
            return None
        case PosixEntry():
            return obj.size
    return None


def _use_value(obj: IpcObject) -> int | None:
    match obj:
        case SysvShm():
            return obj.nattch
        case SysvMsg():
            return obj.qnum
        case SysvSem():
            return obj.nsems
        case PosixSem():
            return obj.value
        case PosixMq():
            return obj.curmsgs
    return None


def _key_value(obj: IpcObject) -> int | None:
    return None if isinstance(obj, PosixEntry) else obj.key


def _name_text(obj: IpcObject, ctx: Context) -> str:
    return escape_name(obj.name) if isinstance(obj, PosixEntry) else NONE


def _name_value(obj: IpcObject, ctx: Context) -> bytes:
    return obj.name if isinstance(obj, PosixEntry) else b""


def _pid_value(index: int) -> Callable[[IpcObject, Context], SortKey]:
    def value(obj: IpcObject, ctx: Context) -> SortKey:
        match obj:
            case SysvShm():
                return _known((obj.cpid, obj.lpid)[index])
            case SysvMsg():
                return _known((obj.lspid, obj.lrpid)[index])
        return _known(None)

    return value


def _procs_value(obj: IpcObject, ctx: Context) -> SortKey:
    """Processes using it, then unknown ones; kinds that cannot be attached sort last."""
    if ctx.attach is None or isinstance(obj, SysvMsg | SysvSem):
        return _known(None)
    seen = len(ctx.attach.attachers.get(obj.ref, ()))
    return _known((seen, ctx.attach.unknown.get(obj.ref, 0)))


def _verdict(obj: IpcObject, ctx: Context) -> Verdict | None:
    return ctx.verdicts.get(obj.ref) if ctx.verdicts is not None else None


def _leak_text(obj: IpcObject, ctx: Context) -> str:
    """ "yes" when it looks leaked (the detail view says why), "" when in use, "?" when not
    judged yet or when it cannot be judged (the detail view says what is unknown)."""
    verdict = _verdict(obj, ctx)
    if verdict is None or verdict.unknown:
        return "?"
    return "yes" if verdict.stale else ""


def _leak_value(obj: IpcObject, ctx: Context) -> SortKey:
    """Leaked first, then in use, then not judged yet."""
    verdict = _verdict(obj, ctx)
    return (2,) if verdict is None or verdict.unknown else (0,) if verdict.stale else (1,)


def _owner_value(obj: IpcObject, ctx: Context) -> SortKey:
    return (owner_text(obj.uid, ctx.users), obj.uid)


ALL_COLUMNS = (
    Column("kind", "KIND", 9, lambda o, u: o.kind.value, lambda o, u: _KIND_ORDER[o.kind]),
    Column("ref", "REF", 24, lambda o, u: o.ref, lambda o, u: ref_key(o), flex=True),
    Column("key", "KEY", 10, lambda o, u: key_text(o), lambda o, u: _known(_key_value(o))),
    Column("name", "NAME", 18, _name_text, _name_value, flex=True),
    Column("owner", "OWNER", 9, lambda o, c: owner_text(o.uid, c.users), _owner_value),
    Column("mode", "MODE", 4, lambda o, u: octal_mode(o.mode), lambda o, u: o.mode),
    Column("size", "SIZE", 6, lambda o, u: size_text(o), lambda o, u: _known(_size_value(o)), True),
    Column("use", "USE", 17, lambda o, u: use_text(o), lambda o, u: _known(_use_value(o))),
    Column("procs", "PROCS", 6, lambda o, c: procs_text(o, c.attach), _procs_value, True),
    Column("leak", "LEAK", 4, _leak_text, _leak_value, verdict=True),
    Column("cpid", "CPID", 7, lambda o, u: pids(o)[0], _pid_value(0), True),
    Column("lpid", "LPID", 7, lambda o, u: pids(o)[1], _pid_value(1), True),
    Column(
        "changed",
        "CHANGED",
        19,
        lambda o, u: local_time(changed_at(o)),
        lambda o, u: _known(changed_at(o)),
    ),
)  # fmt: skip


def field(
    attr: str,
    title: str,
    width: int,
    text: Callable[[Any], str] = str,
    right: bool = True,
) -> Column:
    """A column showing one field of the model; None shows as '-' and sorts last."""

    def cell(obj: IpcObject, ctx: Context) -> str:
        value = getattr(obj, attr)
        return NONE if value is None else text(value)

    def sort(obj: IpcObject, ctx: Context) -> SortKey:
        return _known(getattr(obj, attr))

    return Column(attr, title, width, cell, sort, right)


def _when(value: float) -> str:
    return local_time(value)


def _ns_when(value: int) -> str:
    return local_time(value / 1e9)


def _id_column() -> Column:
    return field("id", "ID", 10)


def _status(obj: IpcObject, ctx: Context) -> str:
    if not isinstance(obj, SysvShm):
        return NONE
    flags = [flag for flag, on in (("dest", obj.dest), ("locked", obj.locked)) if on]
    return ",".join(flags) or NONE


def _shared(column_id: str) -> Column:
    """A column of the all-objects view, reused in a per-kind view."""
    return next(column for column in ALL_COLUMNS if column.id == column_id)


_COMMON_SYSV = (_id_column(), _shared("key"), _shared("owner"), _shared("mode"))
_COMMON_POSIX = (
    _shared("name")._replace(width=28),
    _shared("owner"),
    _shared("mode"),
    _shared("procs"),
    _shared("leak"),
)
FLEX_MAX = 64  # a flexible column grows to at most this many cells


def column_widths(columns: tuple[Column, ...], available: int, gap: int) -> list[int]:
    """Each column's width: its own, plus an equal share of spare width for flexible ones."""
    widths = [column.width for column in columns]
    flexible = [i for i, column in enumerate(columns) if column.flex]
    spare = available - sum(widths) - gap * len(columns)
    if spare <= 0 or not flexible:
        return widths
    for i in flexible:
        widths[i] = min(FLEX_MAX, widths[i] + spare // len(flexible))
    return widths


def _type_text(obj: IpcObject, ctx: Context) -> str:
    return obj.type.value if isinstance(obj, PosixEntry) else NONE


def _type_column() -> Column:
    return Column("type", "TYPE", 9, _type_text, _type_text)  # text sorts as itself


VIEWS: tuple[View, ...] = (
    View("all", "All", frozenset(ALL_KINDS), ALL_COLUMNS, "ref"),
    View(
        Kind.SYSV_SHM.value,
        "SysV shm",
        frozenset({Kind.SYSV_SHM}),
        (
            *_COMMON_SYSV,
            field("size", "SIZE", 7, human_bytes),
            field("nattch", "NATTCH", 6),
            _shared("procs"),  # mappings and processes differ: both are shown
            _shared("leak"),
            Column("status", "STATUS", 11, _status, _status),
            field("cpid", "CPID", 7),
            field("lpid", "LPID", 7),
            field("atime", "ATTACHED", 19, _when, right=False),
            field("dtime", "DETACHED", 19, _when, right=False),
            field("ctime", "CHANGED", 19, _when, right=False),
            field("rss", "RSS", 7, human_bytes),
            field("swap", "SWAP", 7, human_bytes),
        ),
        "id",
    ),
    View(
        Kind.SYSV_MSG.value,
        "SysV msg",
        frozenset({Kind.SYSV_MSG}),
        (
            *_COMMON_SYSV,
            field("qnum", "MSGS", 6),
            _shared("leak"),
            field("cbytes", "BYTES", 7, human_bytes),
            field("qbytes", "MAX", 7, human_bytes),
            field("lspid", "LSPID", 7),
            field("lrpid", "LRPID", 7),
            field("stime", "SENT", 19, _when, right=False),
            field("rtime", "RECEIVED", 19, _when, right=False),
            field("ctime", "CHANGED", 19, _when, right=False),
        ),
        "id",
    ),
    View(
        Kind.SYSV_SEM.value,
        "SysV sem",
        frozenset({Kind.SYSV_SEM}),
        (
            *_COMMON_SYSV,
            field("nsems", "NSEMS", 6),
            _shared("leak"),
            field("otime", "LAST OP", 19, _when, right=False),
            field("ctime", "CHANGED", 19, _when, right=False),
        ),
        "id",
    ),
    View(
        Kind.POSIX_SHM.value,
        "POSIX shm",
        frozenset({Kind.POSIX_SHM}),
        (
            *_COMMON_POSIX,
            _type_column(),
            field("size", "SIZE", 7, human_bytes),
            field("allocated", "ALLOC", 7, human_bytes),
            field("nlink", "LINKS", 5),
            field("inode", "INODE", 9),
            field("mtime_ns", "MODIFIED", 19, _ns_when, right=False),
        ),
        "name",
    ),
    View(
        Kind.POSIX_SEM.value,
        "POSIX sem",
        frozenset({Kind.POSIX_SEM}),
        (
            *_COMMON_POSIX,
            _type_column(),
            field("value", "VALUE", 6),
            field("waiters", "WAITING", 7),
            field("mtime_ns", "MODIFIED", 19, _ns_when, right=False),
        ),
        "name",
    ),
    View(
        Kind.POSIX_MQ.value,
        "POSIX mq",
        frozenset({Kind.POSIX_MQ}),
        (
            *_COMMON_POSIX,
            field("curmsgs", "MSGS", 5),
            field("maxmsg", "MAXMSG", 6),
            field("msgsize", "MSGSIZE", 7),
            field("qsize", "BYTES", 7, human_bytes),
            field("notify_pid", "NOTIFY", 7),
            field("mtime_ns", "LAST I/O", 19, _ns_when, right=False),
        ),
        "name",
    ),
)
VIEW_BY_ID = {view.id: view for view in VIEWS}


def search_text(obj: IpcObject, ctx: Context) -> str:
    """What the filter matches: reference, name, key in hex and decimal, owner (lower case)."""
    parts = [obj.ref, owner_text(obj.uid, ctx.users)]
    if isinstance(obj, PosixEntry):
        parts.append(escape_name(obj.name))
    else:
        parts += [f"0x{obj.key:08x}", str(obj.key)]
    return "\n".join(parts).lower()
