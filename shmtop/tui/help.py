"""The help screen: every key, generated from the bindings so it cannot go stale."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from shmtop.severity import ALL_FLAGS
from shmtop.tui.safe import plain

MORE = (
    ("click a header", "", "sort by that column; click again to reverse"),
    ("click a row", "", "move the cursor there; double click: detail"),
    ("^p", "Command palette", "every action below, found by its name"),
    ("keymap", "", "remap keys by id in ~/.config/shmtop/keymap.toml"),
)


def legend() -> list[tuple[str, str]]:
    """What the table's first columns say (the colour of the row says the same)."""
    marks: dict[str, list[str]] = {flag.mark: [] for flag in ALL_FLAGS}
    for flag in ALL_FLAGS:
        marks[flag.mark].append(flag.word)
    return [("*", "marked for removal (Delete removes the marked rows)")] + [
        (mark, "; ".join(words)) for mark, words in marks.items()
    ]


def _keys(binding: Binding, display: Callable[[Binding], str]) -> str:
    keys = [key.strip() for key in binding.key.split(",")]
    return ", ".join(display(replace(binding, key=key, key_display=None)) for key in keys)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 120; max-width: 100%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, groups: Iterable[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.groups = list(groups)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", min_width=14)
        table.add_column(min_width=12)  # the name the key bar and the palette (^p) use
        table.add_column()
        table.add_column(style="dim")
        for title, bindings in self.groups:
            table.add_row(plain(title, "underline"), "", "", plain("id (for keymap.toml)"))
            for binding in bindings:
                if isinstance(binding, Binding):
                    keys = _keys(binding, self.app.get_key_display)
                    meaning = binding.tooltip or ""
                    table.add_row(
                        plain(keys), plain(binding.description), plain(meaning),
                        plain(binding.id or ""),
                    )  # fmt: skip
            table.add_row("", "", "", "")
        table.add_row(plain("Mouse and more", "underline"), "", "", "")
        for keys, name, meaning in MORE:
            table.add_row(plain(keys), plain(name), plain(meaning), "")
        table.add_row("", "", "", "")
        table.add_row(plain("Marks in the table", "underline"), "", "", "")
        for mark, meaning in legend():
            table.add_row(plain(mark), "", plain(meaning), "")
        with VerticalScroll():
            yield Static(table)
