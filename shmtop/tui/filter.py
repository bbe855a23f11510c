"""The filter line: typing narrows the table at once; Enter keeps it, Escape clears it."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS = [
        Binding("escape", "clear_and_close", "Clear filter", id="filter.clear"),
    ]
    DEFAULT_CSS = """
    FilterInput { dock: bottom; display: none; }
    FilterInput.active { display: block; }
    """

    class Closed(Message):
        """The filter line was left (its text, possibly empty, stays applied)."""

    def open(self) -> None:
        self.add_class("active")
        self.focus()

    def action_clear_and_close(self) -> None:
        self.value = ""
        self.close()

    def close(self) -> None:
        if not self.value:
            self.remove_class("active")
        self.post_message(self.Closed())
