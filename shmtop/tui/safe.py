"""The dashboard's one way to put outside text on screen.

Untrusted strings (names, owners, host names, command lines) are escaped by shmtop.names so
that every character is printable, and reach widgets as plain Text or as Segments, never as
markup: `[@click=app.quit]x` is shown as those characters and does nothing.
"""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import App

from shmtop.names import escape_controls


def printable(text: str) -> str:
    """text with what is not printable escaped. Parts that are escaped already (references,
    names) keep their backslashes: escaping them twice would name another object."""
    return escape_controls(text)


def plain(text: str, style: str = "") -> Text:
    """A Text holding the visible form of text, never parsed as markup."""
    return Text(printable(text), style=style, no_wrap=True, end="")


def plain_line(text: str, style: str = "") -> Text:
    """plain(), as a line of its own (in a Group of lines and tables)."""
    shown = plain(text, style)
    shown.end = "\n"
    return shown


def tell(
    app: App[None], text: str, severity: Literal["information", "warning", "error"] = "information"
) -> None:
    """A notification of outside text: escaped, and never parsed as markup."""
    app.notify(printable(text), severity=severity, markup=False)
