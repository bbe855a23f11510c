"""The detail view: every field of one object, with what it means; live while open."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from shmtop.attach.model import AttachMap
from shmtop.describe import Field, describe, describe_use
from shmtop.model import IpcObject
from shmtop.tui.safe import plain


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
    ]
    DEFAULT_CSS = """
    DetailScreen #title { height: 1; background: $primary; padding: 0 1; }
    DetailScreen #fields { padding: 0 1; }
    """

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        yield Static(plain(self.ref), id="title")
        with VerticalScroll():
            yield Static(id="fields")
        yield Footer()

    def show(
        self, obj: IpcObject | None, users: Mapping[int, str | None], attach: AttachMap | None
    ) -> None:
        fields = self.query_one("#fields", Static)
        if obj is None:
            fields.update(plain("gone: this object no longer exists (removed since it was listed)"))
            return
        fields.update(_grid(describe(obj, users), describe_use(obj, attach, users)))


def _grid(fields: list[Field], used_by: list[Field]) -> Table:
    """One grid, so values and explanations line up under the "Used by" heading too."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_column(style="italic")
    for field in fields:
        table.add_row(plain(field.name), plain(field.value), plain(field.meaning))
    table.add_row("", "", "")
    table.add_row(plain("Used by", "underline"), "", "")
    for field in used_by:
        table.add_row(plain(field.name), plain(field.value), plain(field.meaning))
    return table
