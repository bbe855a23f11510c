"""The one vocabulary of columns, shared by `shmtop list` and the dashboard (no UI library).

A column computes one raw value from an object (and the context: user names, who uses what,
leak verdicts); its cell text is formatted from that value and its sort key derived from it,
so what a column shows and how it sorts never disagree. Untrusted text (names, owners) is
escaped here, through shmtop.names, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from shmtop.humanize import human_bytes, local_time, octal_mode
from shmtop.model import (
    ALL_KINDS,
    AttachMap,
    Fifo,
    FileType,
    FoundObject,
    IpcObject,
    Kind,
    Memfd,
    PipeLike,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SharedMemory,
    SysvMsg,
    SysvSem,
    SysvShm,
    Verdict,
)
from shmtop.model.found import seal_names
from shmtop.model.kinds import spec_of
from shmtop.model.namespace import Namespace
from shmtop.names import escape_name, escape_text, owner_text
from shmtop.severity import Flag, flags, fullness

NONE = "-"
Users = Mapping[int, "str | None"]
SortKey = tuple[Any, ...]


class Context(NamedTuple):
    """What cells need besides the object: user names, and who attaches what."""

    users: Users
    attach: AttachMap | None = None
    verdicts: Mapping[str, Verdict] | None = None  # leak verdicts of the latest attach scan
    namespaces: Mapping[str, str] | None = None  # the name of each namespace, by label


def known(value: Any) -> SortKey:
    """Unknown values sort after known ones, whatever their type."""
    return (1, 0) if value is None else (0, value)


def _or_none(text: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda value: NONE if value is None else text(value)


class Column(NamedTuple):
    """A column: `value` of an object, its `text`, its sort key (`order`)."""

    id: str
    title: str
    width: int
    value: Callable[[IpcObject, Context], Any]
    text: Callable[[Any], str] = _or_none(str)
    order: Callable[[Any], Any] = known
    right: bool = False
    flex: bool = False  # takes a share of spare width (long names)
    verdict: bool = False  # reads the leak verdicts: redrawn (and re-sorted) when they arrive

    def cell(self, obj: IpcObject, ctx: Context) -> str:
        return self.text(self.value(obj, ctx))

    def sort(self, obj: IpcObject, ctx: Context) -> Any:
        return self.order(self.value(obj, ctx))


_KIND_ORDER = {kind: i for i, kind in enumerate(ALL_KINDS)}


def ref_key(obj: IpcObject) -> SortKey:
    """Kind order, namespace, then id or name: unique, and ids sort as numbers."""
    if isinstance(obj, PosixEntry):
        return (_KIND_ORDER[obj.kind], obj.ns, 0, obj.name, getattr(obj, "deleted", False),
                obj.inode)  # fmt: skip
    if isinstance(obj, FoundObject):
        return (_KIND_ORDER[obj.kind], obj.ns, obj.dev, b"", False, obj.inode)
    return (_KIND_ORDER[obj.kind], obj.ns, obj.id, b"", False, 0)


# What an object is being used for ------------------------------------------------------------


class Use(NamedTuple):
    """The use figure and how full it is (sorted by both), and how it reads."""

    amount: int | None
    text: str
    percent: float | None = None  # of the object's own limit

    def order(self) -> SortKey:
        """Fullest first (reversed), then by the figure; unknown last."""
        if self.amount is None:
            return known(None)
        return known((-1.0 if self.percent is None else self.percent, self.amount))


def _plural(n: int, word: str, suffix: str = "s") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{suffix}"


def _segment_use(s: SysvShm) -> str:
    flags = [flag for flag, on in (("dest", s.dest), ("locked", s.locked)) if on]
    return ", ".join([_plural(s.nattch, "attach", "es"), *flags])


def _semaphore_value(s: PosixSem) -> str:
    if s.value is None:
        return NONE
    waiting = f", {s.waiters} waiting" if s.waiters else ""
    return f"value {s.value}{waiting}"


def _percent(obj: IpcObject) -> str:
    full = fullness(obj)
    return "" if full is None else f" {full.shown}%"


def _queue_use(q: SysvMsg) -> str:
    """Messages, and how full its bytes are (of qbytes): what makes senders block."""
    return _plural(q.qnum, "msg") + _percent(q)


def _posix_queue_use(q: PosixMq) -> str:
    """Messages of the most it may hold (maxmsg): "8/8 msgs 100%"."""
    if q.curmsgs is None:
        return NONE
    if q.maxmsg is None:
        return _plural(q.curmsgs, "msg")
    return f"{q.curmsgs}/{q.maxmsg} msgs{_percent(q)}"


def _size(n: int | None) -> str:
    return NONE if n is None else human_bytes(n)


def _pipe_use(p: PipeLike) -> str:
    """ "4.0K/64K, writer blocked" : how full, and which ends sleep; else its state."""
    fill = NONE if p.buffered is None else f"{human_bytes(p.buffered)}/{_size(p.capacity)}"
    blocked = [f"{side} blocked" for side, mode in (("writer", "w"), ("reader", "r"))
               if p.blocked(mode)]  # fmt: skip
    state = p.state if p.state in ("no reader", "no writer") else None
    return ", ".join([fill, *blocked, *([state] if state else [])])


def _posix_shm_use(e: PosixEntry) -> str:
    if getattr(e, "deleted", False):
        return "deleted, held"
    return _plural(e.nlink, "link") if e.nlink > 1 else NONE


def _memfd_use(m: Memfd) -> str:
    sealed = "" if not m.seals else ", sealed: " + " ".join(seal_names(m.seals))
    return _plural(len(m.mapped), "mapper") + sealed


def _shared_use(m: SharedMemory) -> str:
    return _plural(len(m.mapped), "mapper") + (", deleted" if getattr(m, "deleted", False) else "")


USE_TEXT: Mapping[Kind, Callable[[Any], str]] = {
    Kind.SYSV_SHM: _segment_use,
    Kind.SYSV_MSG: _queue_use,
    Kind.SYSV_SEM: lambda s: _plural(s.nsems, "sem"),
    Kind.POSIX_SHM: _posix_shm_use,
    Kind.POSIX_SEM: _semaphore_value,
    Kind.POSIX_MQ: _posix_queue_use,
    Kind.PIPE: _pipe_use,
    Kind.FIFO: _pipe_use,
    Kind.MEMFD: _memfd_use,
    Kind.SHARED_FILE: _shared_use,
    Kind.SHARED_ANON: _shared_use,
}


def waiting_of(obj: IpcObject, ctx: Context | None) -> int:
    """Processes the latest scan saw blocked in a call on obj (semop, msgrcv...)."""
    if ctx is None or ctx.attach is None:
        return 0
    return sum(1 for a in ctx.attach.attachers.get(obj.ref, ()) if a.waiting)


def use_of(obj: IpcObject, ctx: Context | None = None) -> Use:
    if isinstance(obj, PosixEntry) and obj.type is not FileType.FILE:
        return Use(None, f"{obj.type.value}, not IPC")
    text = USE_TEXT[obj.kind](obj)
    if isinstance(obj, SysvSem) and (waiting := waiting_of(obj, ctx)):
        text += f", {waiting} waiting"  # a set counts no waiters of its own in the table
    full = fullness(obj)
    return Use(spec_of(obj).use(obj), text, None if full is None else full.percent)


# Who uses it ----------------------------------------------------------------------------------


class Procs(NamedTuple):
    """Processes seen using it, how many more may be unseen, and whether /proc hides more;
    or (`scanned` false) that no walk over /proc has been made yet: "?", not known."""

    seen: int
    unknown: int
    hidden: bool
    scanned: bool = True

    def text(self) -> str:
        if not self.scanned:
            return "?"
        if self.hidden:
            return f"{self.seen}+?"
        return f"{self.seen}+{self.unknown}?" if self.unknown else str(self.seen)


NOT_SCANNED = Procs(0, 0, False, scanned=False)  # before the first walk: pending, shown "?"


def procs_of(obj: IpcObject, ctx: Context) -> Procs | None:
    """NOT_SCANNED before any walk over /proc (the dashboard's first screen may come before
    it); None where nothing is to be known: a set or queue nobody waits on (they cannot be
    attached; their waiters, when seen, are their users)."""
    attach = ctx.attach
    if attach is None:
        return NOT_SCANNED
    seen = len(attach.attachers.get(obj.ref, ()))
    if not spec_of(obj).attachable:
        return Procs(seen, 0, False) if seen else None
    return Procs(seen, attach.unknown.get(obj.ref, 0), attach.hidden is not None)


def _procs_order(procs: Procs | None) -> SortKey:
    if procs is None or not procs.scanned:
        return known(None)
    return known((procs.seen, procs.unknown))


# Leaked? --------------------------------------------------------------------------------------


def verdict_of(obj: IpcObject, ctx: Context) -> Verdict | None:
    return ctx.verdicts.get(obj.ref) if ctx.verdicts is not None else None


def _leak_text(verdict: Verdict | None) -> str:
    """ "yes" when it looks leaked (the detail view says why), "" when in use, "?" when not
    judged yet or when it cannot be judged (the detail view says what is unknown)."""
    if verdict is None or verdict.unknown:
        return "?"
    return "yes" if verdict.stale else ""


def _leak_order(verdict: Verdict | None) -> SortKey:
    """Leaked first, then in use, then not judged."""
    return (2,) if verdict is None or verdict.unknown else (0,) if verdict.stale else (1,)


def flags_of(obj: IpcObject, ctx: Context) -> tuple[Flag, ...]:
    """What is worth a look about obj (shmtop.severity), the worst first."""
    return flags(obj, verdict_of(obj, ctx), waiting_of(obj, ctx))


def _mark_text(found: tuple[Flag, ...]) -> str:
    return found[0].mark if found else ""


def _mark_order(found: tuple[Flag, ...]) -> SortKey:
    """The worst first."""
    return (-found[0].severity,) if found else (0,)


def _allocated(obj: IpcObject, ctx: Context) -> int | None:
    """Memory it takes, where that is not its size: a /dev/shm file's allocated blocks (a
    sparse file takes less than its size), a segment's resident and swapped pages, a memfd's
    or shared mapping's allocated blocks."""
    if isinstance(obj, PosixShm | PosixSem):
        return obj.allocated if obj.type is FileType.FILE else None
    if isinstance(obj, SysvShm) and obj.rss is not None:
        return obj.rss + (obj.swap or 0)
    if isinstance(obj, SharedMemory):
        return obj.allocated
    return None


# Recorded pids and times ----------------------------------------------------------------------


def _pid_in(column: str) -> Callable[[IpcObject, Context], int | None]:
    """The pid an object records that the all-objects table shows in `column`."""

    def value(obj: IpcObject, ctx: Context) -> int | None:
        pids = spec_of(obj).recorded_pids(obj)
        return next((r.pid for r in pids if r.column == column), None)

    return value


def _when(epoch: float | None) -> str:
    return local_time(epoch)


def _key_text(key: int) -> str:
    return f"0x{key:08x}"


def _owner(obj: IpcObject, ctx: Context) -> tuple[str, int]:
    return (owner_text(obj.uid, ctx.users), -1 if obj.uid is None else obj.uid)


# The all-objects table's columns, in the order it shows them: what tells where to look first
# (the reference, how big and how used, whether leaked) comes first, so that 80 columns show
# it. No KIND column: the reference starts with the kind; no NAME: the reference holds it.
ALL_COLUMNS: tuple[Column, ...] = (
    Column("ref", "REF", 24, lambda o, c: o, lambda o: o.ref, ref_key, flex=True),
    Column("size", "SIZE", 6, lambda o, c: spec_of(o).size(o), _or_none(human_bytes),
           right=True),
    Column("alloc", "ALLOC", 6, _allocated, _or_none(human_bytes), right=True),
    Column("use", "USE", 18, use_of, lambda use: use.text, Use.order),
    Column("leak", "LEAK", 4, verdict_of, _leak_text, _leak_order, verdict=True),
    Column("procs", "PROCS", 6, procs_of, _or_none(Procs.text), _procs_order, right=True),
    Column("owner", "OWNER", 9, _owner, lambda owner: owner[0], lambda owner: owner),
    Column("key", "KEY", 10, lambda o, c: spec_of(o).key(o), _or_none(_key_text)),
    Column("mode", "MODE", 4, lambda o, c: o.mode, octal_mode, lambda mode: mode),
    Column("cpid", "CPID", 7, _pid_in("cpid"), right=True),
    Column("lpid", "LPID", 7, _pid_in("lpid"), right=True),
    Column("changed", "CHANGED", 19, lambda o, c: spec_of(o).changed_at(o), _when),
)  # fmt: skip
# Columns the per-kind views and `shmtop list` also use.
MARK = Column("mark", "!", 1, flags_of, _mark_text, _mark_order, verdict=True)
KIND = Column("kind", "KIND", 9, lambda o, c: o.kind, str, lambda k: _KIND_ORDER[k])
NAME = Column("name", "NAME", 18, lambda o, c: getattr(o, "name", None), _or_none(escape_name),
              flex=True)  # fmt: skip
COLUMN_BY_ID = {column.id: column for column in (MARK, KIND, NAME, *ALL_COLUMNS)}


def namespace_names(namespaces: Iterable[Namespace]) -> dict[str, str]:
    """The name of each namespace ("host", a container's, ...) by the labels references
    give it: its IPC namespace's and its /dev/shm's."""
    names: dict[str, str] = {}
    for ns in namespaces:
        names.setdefault(ns.ipc_label, ns.title)
        names.setdefault(ns.shm_label, ns.title)
    return names


def namespace_of(obj: IpcObject, ctx: Context) -> str:
    """The name of the namespace an object lives in ("host" for shmtop's own)."""
    known = ctx.namespaces or {}
    return known.get(obj.ns) or (obj.ns or "host")


NAMESPACE = Column("namespace", "NAMESPACE", 12, namespace_of, escape_text, lambda t: t)


def field(
    attr: str, title: str, width: int, text: Callable[[Any], str] = str, right: bool = True
) -> Column:
    """A column showing one field of the model; None shows as '-' and sorts last."""
    return Column(attr, title, width, lambda o, c: getattr(o, attr), _or_none(text), known, right)


def search_text(obj: IpcObject, ctx: Context) -> str:
    """What a filter matches: reference, name, key in hex and decimal, owner (lower case)."""
    parts = [obj.ref, owner_text(obj.uid, ctx.users)]
    if ctx.namespaces:
        parts.append(escape_text(namespace_of(obj, ctx)))
    if isinstance(obj, PosixEntry | SharedMemory):
        parts.append(escape_name(obj.name))
    elif isinstance(obj, Fifo):
        parts.append(escape_name(obj.path))
    elif isinstance(obj, SysvShm | SysvMsg | SysvSem):
        parts += [f"0x{obj.key:08x}", str(obj.key)]
    return "\n".join(parts).lower()
