"""The filter line: typing narrows the table at once; Enter keeps it, Escape clears it.

Focus moves at once, inside the key's own handler (Widget.focus() would defer it), so keys
typed right after "/" land in the filter and keys typed right after Enter in the table.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS = [
        Binding("escape", "clear_and_close", "Clear filter", id="filter.clear"),
    ]
    DEFAULT_CSS = """
    FilterInput { dock: bottom; display: none; }
    FilterInput.active { display: block; }
    """

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self._return_to: Widget | None = None

    def open(self) -> None:
        self._return_to = self.screen.focused
        self.add_class("active")
        self.screen.set_focus(self)

    async def action_submit(self) -> None:
        await super().action_submit()
        self.close()

    def action_clear_and_close(self) -> None:
        self.value = ""
        self.close()

    def close(self) -> None:
        if not self.value:
            self.remove_class("active")
        if self._return_to is not None:
            self.screen.set_focus(self._return_to)
