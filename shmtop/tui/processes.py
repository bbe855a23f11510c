"""The Processes view: who uses IPC, how much each maps, and from there what each uses.

Processes that use IPC are few (hundreds, not tens of thousands), so Textual's DataTable
serves; it is updated by row key, never cleared. Text from processes (command names) goes
through shmtop.tui.safe like every outside string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from shmtop.columns import COLUMN_BY_ID, NONE, Context
from shmtop.humanize import human_bytes
from shmtop.model import AttachMap, IpcObject, ProcessUse
from shmtop.names import escape_text, owner_text
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


class ProcessesScreen(Screen[None]):
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="processes.back")]
    DEFAULT_CSS = """
    ProcessesScreen #title { height: 1; background: $primary; padding: 0 1; }
    ProcessesScreen KeyedTable { height: 1fr; }
    """
    COLUMNS = (
        ("pid", "PID"),
        ("comm", "COMMAND"),
        ("user", "USER"),
        ("objects", "OBJECTS"),
        ("mapped", "MAPPED"),
        ("uses", "USES"),
    )

    class Chosen(Message):
        def __init__(self, pid: int) -> None:
            super().__init__()
            self.pid = pid

    def compose(self) -> ComposeResult:
        yield Static(plain("Processes using IPC (Enter: what one uses)"), id="title")
        yield KeyedTable(self.COLUMNS, id="processes")
        yield KeyFooter()

    def show(self, attach: AttachMap | None, users: Users) -> None:
        processes = {} if attach is None else attach.processes
        rows = {str(pid): _process_row(p, users) for pid, p in processes.items()}
        self.query_one(KeyedTable).show(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(self.Chosen(int(event.row_key.value)))


def _process_row(process: ProcessUse, users: Users) -> tuple[Cell, ...]:
    owner = NONE if process.uid is None else owner_text(process.uid, users)
    uses = ", ".join(process.refs[:3]) + (" ..." if len(process.refs) > 3 else "")
    return (
        Cell(str(process.pid), process.pid),
        Cell(escape_text(process.comm), process.comm),
        Cell(owner, owner),
        Cell(str(len(process.refs)), len(process.refs)),
        Cell(human_bytes(process.mapped_bytes), process.mapped_bytes),
        Cell(uses, uses),
    )


class ProcessObjectsScreen(Screen[None]):
    """The objects one process uses; Enter opens an object's detail."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="process.back")]
    DEFAULT_CSS = """
    ProcessObjectsScreen #title { height: 1; background: $primary; padding: 0 1; }
    ProcessObjectsScreen KeyedTable { height: 1fr; }
    """
    COLUMNS = (("ref", "REF"), ("maps", "MAPPINGS"), ("fds", "DESCRIPTORS"), ("size", "SIZE"))

    class Chosen(Message):
        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, pid: int) -> None:
        super().__init__()
        self.pid = pid

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield KeyedTable(self.COLUMNS, id="objects-of-process")
        yield KeyFooter()

    def show(self, attach: AttachMap | None, objects: Mapping[str, IpcObject]) -> None:
        process = None if attach is None else attach.processes.get(self.pid)
        title = self.query_one("#title", Static)
        if process is None:
            title.update(plain(f"pid {self.pid}: uses no IPC object now (or has exited)"))
            self.query_one(KeyedTable).show({})
            return
        title.update(plain(f"pid {self.pid} {escape_text(process.comm)}: the objects it uses"))
        rows = {ref: _object_row(ref, self.pid, attach, objects) for ref in process.refs}
        self.query_one(KeyedTable).show(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(self.Chosen(event.row_key.value))


def _object_row(
    ref: str, pid: int, attach: AttachMap | None, objects: Mapping[str, IpcObject]
) -> tuple[Cell, ...]:
    mine = [a for a in (attach.attachers.get(ref, ()) if attach else ()) if a.pid == pid]
    maps, fds = (mine[0].maps, mine[0].fds) if mine else (0, 0)
    obj = objects.get(ref)
    size = getattr(obj, "size", None) if obj is not None else None
    shown_size = NONE if obj is None else COLUMN_BY_ID["size"].cell(obj, Context({}))
    return (Cell(ref, ref), Cell(str(maps), maps), Cell(str(fds), fds),
            Cell(shown_size, -1 if size is None else size))  # fmt: skip
