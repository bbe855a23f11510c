"""A one-line question at the bottom of a screen (go to, search, save): Enter answers it,
Escape drops it, and focus goes back to where it was at once."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input


class Prompt(Input):
    BINDINGS = [
        Binding("escape", "dismiss", "Cancel", id="prompt.cancel"),
    ]
    DEFAULT_CSS = """
    Prompt { dock: bottom; display: none; }
    Prompt.active { display: block; }
    """

    class Answered(Message):
        def __init__(self, purpose: str, value: str) -> None:
            super().__init__()
            self.purpose = purpose
            self.value = value

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.purpose = ""
        self._return_to: Widget | None = None

    def ask(self, purpose: str, placeholder: str, value: str = "") -> None:
        self.purpose = purpose
        self.placeholder = placeholder
        self.value = value
        self.cursor_position = len(value)
        self._return_to = self.screen.focused
        self.add_class("active")
        self.screen.set_focus(self)

    async def action_submit(self) -> None:
        answer = self.Answered(self.purpose, self.value)
        self.action_dismiss()
        self.post_message(answer)

    def action_dismiss(self) -> None:
        self.remove_class("active")
        if self._return_to is not None:
            self.screen.set_focus(self._return_to)
