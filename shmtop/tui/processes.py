"""The Processes view: who uses IPC and how (maps, holds open, waits on, or is recorded by
an object), with command lines; and from there what one process uses.

Processes that use IPC are few (hundreds, not tens of thousands), so Textual's DataTable
serves; it is updated by row key, never cleared. What they are (command lines, set
members' last pids) is read in a thread (shmtop.collect.processes) each time the view is
shown new data. Text from processes (command names and lines) is escaped by shmtop.names
and reaches the table through shmtop.tui.safe like every outside string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from shmtop.collect.processes import ObjectUse, ProcessUses, processes_using
from shmtop.columns import COLUMN_BY_ID, NONE, Context
from shmtop.humanize import human_bytes
from shmtop.model import AttachMap, IpcObject
from shmtop.names import escape_name, escape_text, owner_text
from shmtop.tui.footer import KeyFooter
from shmtop.tui.safe import plain, printable

Users = Mapping[int, "str | None"]


class Cell(Text):
    """Escaped text that sorts by a raw value (mapped bytes as numbers, not as "1.0M")."""

    __slots__ = ("raw",)

    def __init__(self, text: str, raw: Any) -> None:
        super().__init__(printable(text), no_wrap=True, end="")
        self.raw = raw


def _raw(cell: Cell) -> Any:
    return cell.raw


class KeyedTable(DataTable[Cell]):
    """A DataTable updated by row key (never cleared), sortable by any column."""

    BINDINGS = [
        Binding("s,f6", "sort_next", "Sort", id="processes.sort"),
        Binding("r", "sort_reverse", "Reverse", id="processes.reverse"),
    ]

    def __init__(self, columns: tuple[tuple[str, str], ...], *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self._columns = columns
        self._shown: dict[str, tuple[Any, ...]] = {}
        self.sort_index, self.sort_reverse = 0, False

    def on_mount(self) -> None:
        for key, title in self._columns:
            self.add_column(title, key=key)

    def show(self, rows: Mapping[str, tuple[Cell, ...]]) -> None:
        """rows: key -> cells; rows that changed are updated, others left alone."""
        for key in [k for k in self._shown if k not in rows]:
            self.remove_row(key)
            del self._shown[key]
        for key, cells in rows.items():
            raw = tuple(cell.raw for cell in cells)
            if key not in self._shown:
                self.add_row(*cells, key=key)
            elif self._shown[key] != raw:
                for (column, _), cell in zip(self._columns, cells, strict=True):
                    self.update_cell(key, column, cell)
            self._shown[key] = raw
        self._sort()

    def action_sort_next(self) -> None:
        self.sort_index, self.sort_reverse = (self.sort_index + 1) % len(self._columns), False
        self._sort()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._sort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        index = event.column_index
        self.sort_reverse = not self.sort_reverse if index == self.sort_index else False
        self.sort_index = index
        self._sort()

    def _sort(self) -> None:
        self.sort(self._columns[self.sort_index][0], key=_raw, reverse=self.sort_reverse)


Objects = Mapping[str, IpcObject]


class ObjectChosen(Message):
    """An object was chosen (Enter) on a screen over processes: the app opens its detail."""

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref


class Gathering(Screen[None]):
    """A screen over processes_using(), gathered in a thread from the app's latest data: a
    title line and a table."""

    DEFAULT_CSS = """
    Gathering #title { height: 1; background: $primary; padding: 0 1; }
    Gathering KeyedTable { height: 1fr; }
    """

    def __init__(self, procfs: str = "/proc") -> None:
        super().__init__()
        self.procfs = procfs
        self.users: Users = {}
        self.found: dict[int, ProcessUses] | None = None  # None: not gathered yet

    def show(self, attach: AttachMap | None, objects: Objects, users: Users) -> None:
        self.users = users
        if attach is not None:
            self._gather(attach, objects)

    @work(thread=True, exclusive=True, group="processes")
    def _gather(self, attach: AttachMap, objects: Objects) -> None:
        found = processes_using(objects.values(), attach, self.procfs)
        self.app.call_from_thread(self._gathered, found, objects)

    def _gathered(self, found: dict[int, ProcessUses], objects: Objects) -> None:
        self.found = found
        self.draw(objects)

    def draw(self, objects: Objects) -> None:
        raise NotImplementedError


class ProcessesScreen(Gathering):
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="processes.back")]
    COLUMNS = (
        ("pid", "PID"),
        ("comm", "COMMAND"),
        ("user", "USER"),
        ("objects", "OBJECTS"),
        ("mapped", "MAPPED"),
        ("uses", "USES"),
        ("args", "COMMAND LINE"),
    )

    class Chosen(Message):
        def __init__(self, pid: int) -> None:
            super().__init__()
            self.pid = pid

    def compose(self) -> ComposeResult:
        title = "Processes that map, hold open, wait on or are recorded by an IPC object"
        yield Static(plain(f"{title} (Enter: what one uses)"), id="title")
        yield KeyedTable(self.COLUMNS, id="processes")
        yield KeyFooter()

    def draw(self, objects: Objects) -> None:
        found = self.found or {}
        rows = {str(pid): _process_row(p, self.users) for pid, p in found.items()}
        self.query_one(KeyedTable).show(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(self.Chosen(int(event.row_key.value)))


def command_line(process: ProcessUses) -> str:
    """Its arguments, each escaped, between spaces; [comm] where it has none (a kernel
    thread, a zombie), as ps shows them."""
    if process.args is None:
        return "(cannot be read)"
    if not process.args:
        return f"[{escape_text(process.comm)}]"
    return " ".join(escape_name(arg) for arg in process.args)


def how_used(uses: tuple[ObjectUse, ...]) -> str:
    """ "maps 1, holds 2, waits on 1, recorded by 3": objects per kind of use."""
    counts = (
        ("maps", sum(1 for u in uses if u.maps)),
        ("holds", sum(1 for u in uses if u.fds)),
        ("waits on", sum(1 for u in uses if u.waiting)),
        ("recorded by", sum(1 for u in uses if u.roles)),
    )
    return ", ".join(f"{word} {n}" for word, n in counts if n) or NONE


def _process_row(process: ProcessUses, users: Users) -> tuple[Cell, ...]:
    owner = NONE if process.uid is None else owner_text(process.uid, users)
    uses, args = how_used(process.uses), command_line(process)
    return (
        Cell(str(process.pid), process.pid),
        Cell(escape_text(process.comm), process.comm),
        Cell(owner, owner),
        Cell(str(len(process.uses)), len(process.uses)),
        Cell(human_bytes(process.mapped_bytes), process.mapped_bytes),
        Cell(uses, uses),
        Cell(args, args),
    )


class ProcessObjectsScreen(Gathering):
    """The objects one process uses, and how; Enter opens an object's detail."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="process.back")]
    COLUMNS = (
        ("ref", "REF"),
        ("maps", "MAPPINGS"),
        ("fds", "DESCRIPTORS"),
        ("waiting", "WAITING"),
        ("roles", "RECORDED AS"),
        ("size", "SIZE"),
    )

    def __init__(self, pid: int, procfs: str = "/proc") -> None:
        super().__init__(procfs)
        self.pid = pid

    def compose(self) -> ComposeResult:
        yield Static(plain(f"pid {self.pid}"), id="title")
        yield KeyedTable(self.COLUMNS, id="objects-of-process")
        yield KeyFooter()

    def draw(self, objects: Objects) -> None:
        process = (self.found or {}).get(self.pid)
        title = self.query_one("#title", Static)
        if process is None:
            title.update(plain(f"pid {self.pid}: uses no IPC object now (or has exited)"))
            self.query_one(KeyedTable).show({})
            return
        title.update(plain(f"pid {self.pid} {command_line(process)}: the objects it uses"))
        rows = {use.ref: _object_row(use, objects) for use in process.uses}
        self.query_one(KeyedTable).show(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(ObjectChosen(event.row_key.value))


def _object_row(use: ObjectUse, objects: Objects) -> tuple[Cell, ...]:
    obj = objects.get(use.ref)
    size = getattr(obj, "size", None) if obj is not None else None
    shown_size = NONE if obj is None else COLUMN_BY_ID["size"].cell(obj, Context({}))
    waiting = "waiting" if use.waiting else ""
    roles = ", ".join(use.roles)
    return (Cell(use.ref, use.ref), Cell(str(use.maps), use.maps), Cell(str(use.fds), use.fds),
            Cell(waiting, waiting), Cell(roles, roles),
            Cell(shown_size, -1 if size is None else size))  # fmt: skip
