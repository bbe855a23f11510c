"""The Waiting view: every process blocked on an IPC object, the call it sleeps in (semop,
msgsnd, msgrcv, mq_timedsend, mq_timedreceive, or a read or write on a pipe's end) and the
object; Enter opens that object's detail.

It is the Processes view's knowledge (shmtop.collect.processes, from the walk's waits in
shmtop.attach.waits) turned around: one row per process and object it waits on. Text from
processes reaches the table escaped, through the Processes view's cells.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from shmtop.collect.processes import ObjectUse, ProcessUses
from shmtop.columns import COLUMN_BY_ID, NONE, Context
from shmtop.names import escape_text
from shmtop.tui.footer import KeyFooter
from shmtop.tui.processes import (
    Cell,
    Gathering,
    KeyedTable,
    ObjectChosen,
    Objects,
    Users,
    command_line,
)
from shmtop.tui.safe import plain

TITLE = "Processes blocked on an IPC object, and the call each sleeps in"


class WaitingScreen(Gathering):
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="waiting.back")]
    COLUMNS = (
        ("pid", "PID"),
        ("comm", "COMMAND"),
        ("call", "CALL"),
        ("ref", "WAITS ON"),
        ("use", "ITS USE"),
        ("args", "COMMAND LINE"),
    )

    def compose(self) -> ComposeResult:
        yield Static(plain(f"{TITLE} (Enter: the object)"), id="title")
        yield KeyedTable(self.COLUMNS, id="waiting")
        yield KeyFooter()

    def draw(self, objects: Objects) -> None:
        rows = waiting_rows(self.found or {}, objects, self.users)
        title = self.query_one("#title", Static)
        if self.found is not None and not rows:
            title.update(plain(f"{TITLE}: none now (Esc: back)"))
        else:
            title.update(plain(f"{TITLE}: {len(rows)} (Enter: the object)"))
        self.query_one(KeyedTable).show(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None:
            self.post_message(ObjectChosen(key.partition(" ")[2]))


def waiting_rows(
    found: Mapping[int, ProcessUses], objects: Objects, users: Users
) -> dict[str, tuple[Cell, ...]]:
    """One row per process and object it is blocked on, keyed "PID REF"."""
    return {
        f"{process.pid} {use.ref}": _row(process, use, objects, users)
        for process in found.values()
        for use in process.uses
        if use.waiting
    }


def _row(process: ProcessUses, use: ObjectUse, objects: Objects, users: Users) -> tuple[Cell, ...]:
    obj = objects.get(use.ref)
    use_text = NONE if obj is None else COLUMN_BY_ID["use"].cell(obj, Context(users))
    call = use.call or "?"
    args = command_line(process)
    return (
        Cell(str(process.pid), process.pid),
        Cell(escape_text(process.comm), process.comm),
        Cell(call, call),
        Cell(use.ref, use.ref),
        Cell(use_text, use_text),
        Cell(args, args),
    )
