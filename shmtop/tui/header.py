"""The top line: host, kernel, time of the data, refresh interval, paused, rows shown."""

from __future__ import annotations

import os

from rich.text import Text
from textual.widget import Widget

from shmtop.humanize import local_time
from shmtop.tui.safe import plain


class HeaderBar(Widget):
    DEFAULT_CSS = """
    HeaderBar {
        height: 1;
        background: $primary;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kernel = os.uname().release
        self.host = ""
        self.taken_at: float | None = None
        self.interval = 2.0
        self.paused = False
        self.shown = 0
        self.total = 0
        self.filter = ""
        self.namespace: str | None = None  # the namespace the table is narrowed to

    def render(self) -> Text:
        """What matters most first: a narrow terminal cuts the end of the line."""
        text = Text("shmtop", style="bold")
        text.append("  ")
        text.append_text(plain(self.host))
        if self.paused:
            text.append("  PAUSED", style="bold reverse")
        if self.namespace is not None:
            text.append("  in ")
            text.append_text(plain(self.namespace))
        text.append(f"  {self.shown} of {self.total} shown")
        if self.filter:
            text.append("  filter: ")
            text.append_text(plain(self.filter))
        text.append(f"  every {self.interval:g}s  {local_time(self.taken_at)}")
        text.append(f"  Linux {self.kernel}")
        return text
