"""The hex view screen: scroll an object's bytes, go to an offset, search, save a range.

Searching and saving run in a worker thread a bounded chunk at a time; the status line shows
their progress and Escape stops a search. Nothing here writes to the object: reads only.
"""

from __future__ import annotations

import os
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from shmtop.errors import NotPermitted, Vanished
from shmtop.humanize import human_bytes
from shmtop.inspect import ContentReader
from shmtop.inspect.pages import PageCache, parse_offset, parse_pattern
from shmtop.inspect.save import save_range
from shmtop.inspect.search import Cancelled, Search
from shmtop.tui.footer import KeyFooter
from shmtop.tui.hexview import HexView
from shmtop.tui.prompt import Prompt
from shmtop.tui.safe import plain

PROGRESS_EVERY = 0.1  # seconds between progress updates of a search or a save
READ_FAULTS = (Vanished, NotPermitted, OSError)


class HexScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "escape,backspace",
            "back",
            "Back",
            id="hex.back",
            tooltip="Stop a search, or go back to the detail view",
        ),
        Binding("g", "goto", "Go to", id="hex.goto", tooltip="Go to an offset (4096, 0x1000, 4k)"),
        Binding(
            "slash",
            "search",
            "Search",
            id="hex.search",
            tooltip="Find text, or hex bytes written as 0x...",
        ),
        Binding("n", "next", "Next", id="hex.next", tooltip="Find the next match"),
        Binding("w", "save", "Write", id="hex.write", tooltip="Write a range of bytes to a file"),
        Binding("r", "reread", "Re-read", id="hex.reread", tooltip="Read the bytes again"),
    ]
    DEFAULT_CSS = """
    HexScreen #title { height: 1; background: $primary; padding: 0 1; }
    HexScreen #status { height: 1; background: $panel; padding: 0 1; }
    HexScreen HexView { height: 1fr; padding: 0 1; }
    """

    def __init__(self, reader: ContentReader) -> None:
        super().__init__()
        self.reader = reader
        self.pages = PageCache(self._read)
        self.search: Search | None = None
        self.message = reader.note or ""
        self._last_progress = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield HexView(self.pages, self._object_size(), id="bytes")
        yield Static(id="status")
        yield Prompt(id="prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_title()
        self.set_focus(self.view)
        self.watch(self.view, "scroll_y", lambda _old, _new: self._show_status(), init=False)
        self._show_status()

    def on_unmount(self) -> None:
        if self.search is not None:
            self.search.cancel.set()
        self.reader.close()

    @property
    def view(self) -> HexView:
        return self.query_one(HexView)

    def _read(self, offset: int, length: int) -> bytes:
        return self.reader.read(offset, length)

    def _object_size(self) -> int:
        try:
            return self.reader.size
        except READ_FAULTS:
            return 0

    # Status ------------------------------------------------------------------------------

    def _show_title(self) -> None:
        size = self.view.byte_size
        title = f"{self.reader.ref}  {human_bytes(size)} ({size} bytes)  hex view, read-only"
        self.query_one("#title", Static).update(plain(title))

    def _show_status(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        view = self.view
        where = f"offset 0x{view.top_offset:x}"
        if view.byte_size:
            where += f" ({view.top_offset * 100 // view.byte_size}%)"
        parts = [where, self.message, view.problem or ""]
        if self.reader.note and self.reader.note not in parts:
            parts.append(self.reader.note)
        self.query_one("#status", Static).update(plain("  ·  ".join(p for p in parts if p)))

    # Keys --------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.search is not None and self.workers_running():
            self.search.cancel.set()
            return
        self.app.pop_screen()

    def workers_running(self) -> bool:
        return any(w.group == "search" and w.is_running for w in self.workers)

    def action_goto(self) -> None:
        self.prompt.ask("goto", "go to offset: 4096, 0x1000, 1000h or 4k")

    def action_search(self) -> None:
        shown = _pattern_input(self.search.pattern) if self.search else ""
        self.prompt.ask("search", "find text, or hex bytes as 0x de ad be ef", shown)

    def action_next(self) -> None:
        if self.search is None:
            self.action_search()
            return
        mark = self.view.mark
        self._start_search(self.search.pattern, mark[0] + 1 if mark else self.view.top_offset)

    def action_save(self) -> None:
        start = self.view.top_offset
        name = self.reader.ref.replace("/", "_").replace(":", "-")
        default = f"{start:#x} {max(self.view.byte_size - start, 0)} ./shmtop-{name}-{start:x}.bin"
        self.prompt.ask("save", "START LENGTH FILE  (numbers as 4096, 0x1000 or 4k)", default)

    def action_reread(self) -> None:
        self.view.reread()
        self.view.resize_to(self._object_size())
        self._show_title()
        self._show_status("re-read")

    @property
    def prompt(self) -> Prompt:
        return self.query_one(Prompt)

    def on_prompt_answered(self, event: Prompt.Answered) -> None:
        event.stop()
        try:
            if event.purpose == "goto":
                self._goto(parse_offset(event.value))
            elif event.purpose == "search":
                self._start_search(parse_pattern(event.value), self.view.top_offset)
            elif event.purpose == "save":
                self._start_save(event.value)
        except ValueError as exc:
            self._show_status(str(exc))

    def _goto(self, offset: int) -> None:
        if offset >= self.view.byte_size:
            self._show_status(f"0x{offset:x} is past the end (0x{self.view.byte_size:x} bytes)")
            return
        self.view.mark = (offset, 1)
        self.view.go_to(offset)
        self._show_status(f"at 0x{offset:x}")

    # Searching ---------------------------------------------------------------------------

    def _start_search(self, pattern: bytes, start: int) -> None:
        if self.search is not None:
            self.search.cancel.set()
        self.search = Search(self._read, self.view.byte_size, pattern, self._progress)
        self._show_status(f"searching for {_pattern_text(pattern)}… (Escape stops)")
        self._search(self.search, start)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, search: Search, start: int) -> None:
        try:
            found: int | None = search.find(start)
        except Cancelled:
            self.app.call_from_thread(self._show_status, "search stopped")
            return
        except READ_FAULTS as exc:
            self.app.call_from_thread(self._show_status, f"search failed: {exc}")
            return
        self.app.call_from_thread(self._found, search, start, found)

    def _progress(self, done: int, total: int) -> None:  # in the search thread
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY:
            self._last_progress = now
            percent = done * 100 // max(total, 1)
            self.app.call_from_thread(self._show_status, f"searching… {percent}% (Escape stops)")

    def _found(self, search: Search, start: int, offset: int | None) -> None:
        if search is not self.search:
            return  # a newer search replaced this one
        text = _pattern_text(search.pattern)
        if offset is None:
            self._show_status(f"{text} not found")
            return
        self.view.mark = (offset, len(search.pattern))
        self.view.go_to(offset)
        wrapped = " (wrapped to the start)" if offset < start else ""
        self._show_status(f"{text} at 0x{offset:x}{wrapped}  ·  n: next")

    # Saving ------------------------------------------------------------------------------

    def _start_save(self, answer: str) -> None:
        parts = answer.split(maxsplit=2)
        if len(parts) != 3:
            raise ValueError("write: give START LENGTH FILE")
        start, length, path = parse_offset(parts[0]), parse_offset(parts[1]), parts[2]
        self._show_status(f"writing {human_bytes(length)} to {path}…")
        self._save(start, length, os.path.abspath(path))

    @work(thread=True, group="save")
    def _save(self, start: int, length: int, path: str) -> None:
        try:
            copied = save_range(self._read, start, length, path)
        except FileExistsError:
            message = f"{path} exists: shmtop does not write over files"
        except READ_FAULTS as exc:
            message = f"writing {path} failed: {exc}"
        else:
            short = "" if copied == length else " (the object ended first)"
            message = f"wrote {copied} bytes from 0x{start:x} to {path}{short}"
        self.app.call_from_thread(self._show_status, message)


def _pattern_text(pattern: bytes) -> str:
    """How a pattern is named in the status line."""
    text = _pattern_input(pattern)
    return text if text.startswith("0x") else repr(text)


def _pattern_input(pattern: bytes) -> str:
    """The pattern as typed: its text when printable ASCII, else 0x and its hex bytes."""
    if pattern.isascii() and pattern.decode().isprintable() and pattern[:2].lower() != b"0x":
        return pattern.decode()
    return "0x" + pattern.hex(" ")
