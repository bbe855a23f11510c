"""The dashboard's views: one table of every kind, and one per kind with its own fields.

Columns come from the one vocabulary shared with `shmtop list` (shmtop.columns); this module
says which each view shows, and how spare width is shared. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from shmtop.columns import (
    ALL_COLUMNS,
    COLUMN_BY_ID,
    MARK,
    NAMESPACE,
    NONE,
    Column,
    Context,
    field,
    known,
    waiting_of,
)
from shmtop.humanize import human_bytes, local_time
from shmtop.model import (
    ALL_KINDS,
    Fifo,
    IpcObject,
    Kind,
    PipeLike,
    PosixEntry,
    PosixShm,
    SharedMemory,
    SysvShm,
)
from shmtop.model.found import seal_names
from shmtop.model.kinds import spec_of
from shmtop.names import escape_name
from shmtop.severity import Fullness, fullness


class View(NamedTuple):
    """A table: which kinds, which columns. The first `frozen` columns stay in place when
    the table scrolls sideways; flexible columns grow only as far as leaves every column up
    to `fit_through` on screen."""

    id: str
    title: str
    kinds: frozenset[Kind]
    columns: tuple[Column, ...]
    default_sort: str
    frozen: int = 2  # the mark and the reference (or id, or name)
    fit_through: str = "leak"
    shows: Callable[[IpcObject], bool] | None = None  # which of its kinds' objects; None: all
    note: str = ""  # what the view leaves out, said where its table is empty
    meaning: str = ""  # what its key shows, in the help and the palette, where its title is short

    def holds(self, obj: IpcObject) -> bool:
        """Whether a row of this view shows obj (its kind, and its rule if it has one)."""
        return obj.kind in self.kinds and (self.shows is None or self.shows(obj))


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
    return COLUMN_BY_ID[column_id]


def _as_text(text: Any) -> str:
    return str(text)


def _full_text(full: Fullness) -> str:
    return f"{full.shown}%"


def _full_column() -> Column:
    """How full a queue is: bytes of qbytes, or messages of maxmsg."""
    return Column(
        "full", "FULL", 5, lambda o, c: fullness(o), lambda f: NONE if f is None else _full_text(f),
        lambda f: known(None if f is None else f.percent), right=True,
    )  # fmt: skip


def _waiting_column() -> Column:
    return Column("waiting", "WAITING", 7, waiting_of, str, known, right=True)


_COMMON_SYSV = (MARK, _id_column(), _shared("key"), _shared("owner"), _shared("mode"))
_COMMON_POSIX = (
    MARK,
    _shared("name")._replace(width=28),
    _shared("owner"),
    _shared("mode"),
    _shared("procs"),
    _shared("leak"),
)
FLEX_MAX = 64  # a flexible column grows to at most this many cells
NAME_IN_REF = len("posix-shm:")  # a name is its reference less the kind


def column_widths(view: View, available: int, gap: int, longest: int = FLEX_MAX) -> list[int]:
    """Each column's width: its own, plus an equal share of spare width for flexible ones;
    when not all fit, the spare left beside the columns up to `fit_through`. A flexible
    column grows no wider than `longest` (the longest reference shown) needs."""
    columns = view.columns
    widths = [column.width for column in columns]
    flexible = [i for i, column in enumerate(columns) if column.flex]
    spare = available - sum(widths) - gap * len(columns)
    if spare < 0:
        ids = [column.id for column in columns]
        through = ids.index(view.fit_through) + 1 if view.fit_through in ids else len(ids)
        spare = available - sum(widths[:through]) - gap * through
    if spare <= 0 or not flexible:
        return widths
    for i in flexible:
        needed = longest if columns[i].id == "ref" else longest - NAME_IN_REF
        cap = max(columns[i].width, min(FLEX_MAX, needed))
        widths[i] = min(cap, widths[i] + spare // len(flexible))
    return widths


def _type_text(obj: IpcObject, ctx: Context) -> str:
    return obj.type.value if isinstance(obj, PosixEntry) else NONE


def _type_column() -> Column:
    return Column("type", "TYPE", 9, _type_text, _as_text, _as_text)  # text sorts as itself


def _listed_by_default(obj: IpcObject) -> bool:
    """`shmtop list`'s rule (model.kinds): a host has hundreds of idle pipes, and every
    process maps some file shared and read-only; the All view shows only the stuck ones."""
    return spec_of(obj).listed_by_default(obj)


# Pipes and FIFOs ------------------------------------------------------------------------------


def _pipe(
    column_id: str,
    title: str,
    width: int,
    value: Callable[[PipeLike], Any],
    *,
    text: Callable[[Any], str] = str,
    right: bool = False,
) -> Column:
    """A column of pipes and FIFOs only ("-" for any other kind)."""

    def of(obj: IpcObject, ctx: Context) -> Any:
        return value(obj) if isinstance(obj, PipeLike) else None

    return Column(column_id, title, width, of, _or_none(text), known, right)


def _or_none(text: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda value: NONE if value is None else text(value)


def _ends(p: PipeLike) -> str:
    """ "1r 2w": its readers and writers (an end opened "rw" counts as both)."""
    return f"{p.readers}r {p.writers}w"


def _blocked(p: PipeLike) -> str:
    """Which side sleeps on it: "writer", "reader", both, or nobody."""
    sides = [side for side, mode in (("writer", "w"), ("reader", "r")) if p.blocked(mode)]
    return "+".join(sides)


def _percent_full(p: PipeLike) -> int | None:
    if p.buffered is None or not p.capacity:
        return None
    return min(100, p.buffered * 100 // p.capacity)


def _fifo_path(p: PipeLike) -> bytes | None:
    return p.path if isinstance(p, Fifo) else None


def _fill_note(p: PipeLike) -> str | None:
    return p.note


# Shared memory outside /dev/shm, and deleted /dev/shm files -------------------------------------


def _mapped_or_deleted(obj: IpcObject) -> bool:
    """memfd, shared mappings (written ones, as in All), and /dev/shm files deleted but held."""
    if isinstance(obj, PosixShm):
        return obj.deleted
    return _listed_by_default(obj)


def _mapped_bytes(obj: IpcObject, ctx: Context) -> int | None:
    """Bytes its mappers map, all together (a deleted /dev/shm file: unknown here)."""
    return sum(m.bytes for m in obj.mapped) if isinstance(obj, SharedMemory) else None


def _seals(obj: IpcObject, ctx: Context) -> int | None:
    return getattr(obj, "seals", None)


def _seals_text(seals: int) -> str:
    return " ".join(seal_names(seals)) or NONE


def _name_or_path(obj: IpcObject, ctx: Context) -> bytes | None:
    return getattr(obj, "name", None)


VIEWS: tuple[View, ...] = (
    View(
        "all",
        "All",
        frozenset(ALL_KINDS),
        (MARK, *ALL_COLUMNS),
        "ref",
        shows=_listed_by_default,
        note="idle pipes and read-only shared files are in the Pipes and Mem views",
    ),
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
            Column("status", "STATUS", 11, _status, _as_text, _as_text),
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
            _full_column(),
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
            _waiting_column(),
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
            _full_column(),
            field("msgsize", "MSGSIZE", 7),
            field("qsize", "BYTES", 7, human_bytes),
            field("notify_pid", "NOTIFY", 7),
            field("mtime_ns", "LAST I/O", 19, _ns_when, right=False),
        ),
        "name",
    ),
    View(
        "pipes",
        "Pipes",
        frozenset({Kind.PIPE, Kind.FIFO}),
        (
            MARK,
            _shared("ref"),
            _pipe("buffered", "BYTES", 6, lambda p: p.buffered, text=human_bytes, right=True),
            _pipe("capacity", "CAP", 5, lambda p: p.capacity, text=human_bytes, right=True),
            _pipe("full", "FULL", 4, _percent_full, text=lambda n: f"{n}%", right=True),
            _pipe("state", "STATE", 11, lambda p: p.state),
            _pipe("blocked", "BLOCKED", 13, _blocked, text=lambda t: t or NONE),
            _pipe("ends", "ENDS", 5, _ends),
            _shared("procs"),
            _shared("owner"),
            _pipe("path", "PATH", 18, _fifo_path, text=escape_name),
            _pipe("note", "NOTE", 30, _fill_note),
        ),
        "ref",
        fit_through="blocked",
        meaning="Every pipe and FIFO: fill, state, ends, who is blocked",
    ),
    View(
        "mapped",
        "Mem",
        frozenset({Kind.MEMFD, Kind.SHARED_FILE, Kind.SHARED_ANON, Kind.POSIX_SHM}),
        (
            MARK,
            _shared("ref"),
            _shared("size"),
            _shared("alloc"),
            Column("mapped", "MAPPED", 6, _mapped_bytes, _or_none(human_bytes), known, True),
            _shared("procs"),
            Column("seals", "SEALS", 12, _seals, _or_none(_seals_text), known),
            _shared("owner"),
            _shared("mode"),
            Column("name", "NAME", 18, _name_or_path, _or_none(escape_name), known, flex=True),
            _shared("changed"),
        ),
        "ref",
        fit_through="procs",
        shows=_mapped_or_deleted,
        note="read-only shared files are left out, as in `shmtop list`",
        meaning="Shared memory outside /dev/shm: memfd, shared mappings, deleted /dev/shm files",
    ),
)
VIEW_BY_ID = {view.id: view for view in VIEWS}


def with_namespaces(view: View) -> View:
    """The view with a NAMESPACE column (the container, or "host", of each row), for a
    dashboard that shows more than one namespace: after LEAK, so that 80 columns still show
    what to look at first."""
    ids = [column.id for column in view.columns]
    at = ids.index(view.fit_through) + 1 if view.fit_through in ids else len(ids)
    return view._replace(columns=(*view.columns[:at], NAMESPACE, *view.columns[at:]))
