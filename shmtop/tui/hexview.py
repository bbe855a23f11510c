"""HexView: an object's bytes as `hexdump -C` lines, drawing only the lines on screen.

The widget holds no bytes of its own: each visible line asks a PageCache, which reads a few
64 KiB blocks and keeps 32 of them, so a 4 GiB object opens as fast as a 4 KiB one and memory
use does not depend on its size. Bytes reach the screen as hex digits and as the ASCII column
(printable ASCII only, everything else '.'), never as markup.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shmtop.errors import NotPermitted, Vanished
from shmtop.inspect.hexdump import LINE
from shmtop.inspect.pages import PageCache

_ASCII = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))
Mark = tuple[int, int]  # (offset, length) of highlighted bytes


class HexView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"hex-view--offset", "hex-view--mark", "hex-view--problem"}
    DEFAULT_CSS = """
    HexView {
        background: $surface;
        & > .hex-view--offset { color: $text-muted; }
        & > .hex-view--mark { background: $accent; color: $text; text-style: bold; }
        & > .hex-view--problem { color: $warning; text-style: italic; }
    }
    """
    BINDINGS = [
        Binding("up,k", "lines(-1)", "Up", show=False, id="hex.up"),
        Binding("down,j", "lines(1)", "Down", show=False, id="hex.down"),
        Binding("pageup", "pages(-1)", "Page up", show=False, id="hex.page_up"),
        Binding("pagedown", "pages(1)", "Page down", show=False, id="hex.page_down"),
        Binding("home", "first", "Start", show=False, id="hex.start"),
        Binding("end", "last", "End", show=False, id="hex.end"),
    ]

    def __init__(self, pages: PageCache, size: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pages = pages
        self.byte_size = size
        self.mark: Mark | None = None
        self.problem: str | None = None  # why the last read failed, for the status line
        self._digits = 8

    def on_mount(self) -> None:
        self.resize_to(self.byte_size)

    def resize_to(self, size: int) -> None:
        """The object now holds `size` bytes (it may have grown or shrunk)."""
        self.byte_size = size
        self._digits = max(8, len(f"{max(size - 1, 0):x}"))
        lines = (size + LINE - 1) // LINE
        self.virtual_size = Size(self._digits + 2 + 3 * LINE + 2 + LINE + 2, max(lines, 1))
        self.refresh()

    @property
    def top_offset(self) -> int:
        """Offset of the first byte on screen."""
        return int(self.scroll_offset.y) * LINE

    @property
    def lines_on_screen(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def go_to(self, offset: int) -> None:
        """Scroll so that the line holding `offset` is on screen, a few lines from the top."""
        line = max(0, min(offset, max(self.byte_size - 1, 0))) // LINE
        top = int(self.scroll_offset.y)
        if not top <= line < top + self.lines_on_screen:
            self.scroll_to(y=max(0, line - 2), animate=False, immediate=True)
        self.refresh()

    def reread(self) -> None:
        self.pages.clear()
        self.problem = None
        self.refresh()

    # Keys --------------------------------------------------------------------------------

    def action_lines(self, count: int) -> None:
        self.scroll_to(y=max(0, int(self.scroll_offset.y) + count), animate=False)

    def action_pages(self, count: int) -> None:
        self.action_lines(count * self.lines_on_screen)

    def action_first(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_last(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    # Drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        offset = (int(self.scroll_offset.y) + y) * LINE
        left = int(self.scroll_offset.x)
        strip = self._line(offset) if offset < self.byte_size else Strip([])
        return strip.crop_extend(left, left + self.scrollable_content_region.width, self.rich_style)

    def _line(self, offset: int) -> Strip:
        offset_style = self.get_component_rich_style("hex-view--offset")
        head = Segment(f"{offset:0{self._digits}x}  ", offset_style)
        try:
            data = self.pages.get(offset, LINE)
        except (Vanished, NotPermitted, OSError) as exc:
            self.problem = str(exc) or type(exc).__name__
            return Strip([head, Segment("unreadable: " + self.problem, self._problem_style)])
        if not data:
            note = "no bytes here: the object is shorter now (r re-reads its size)"
            return Strip([head, Segment(note, self._problem_style)])
        return Strip([head, *self._bytes(offset, data)])

    @property
    def _problem_style(self) -> Style:
        return self.get_component_rich_style("hex-view--problem")

    def _bytes(self, offset: int, data: bytes) -> list[Segment]:
        marked = self._marked(offset, len(data))
        mark_style = self.get_component_rich_style("hex-view--mark", partial=True)
        hexes = [f"{byte:02x} " + (" " if i == 7 else "") for i, byte in enumerate(data)]
        hexes += ["   "] * (LINE - len(data))
        text = data.translate(_ASCII).decode()
        segments = _runs(hexes, marked, mark_style)
        segments.append(Segment(" " if len(data) > 7 else "  "))
        segments.append(Segment("|"))
        segments += _runs(list(text), marked, mark_style)
        segments.append(Segment("|"))
        return segments

    def _marked(self, offset: int, length: int) -> range:
        """Positions within this line that belong to the mark."""
        if self.mark is None:
            return range(0)
        start, size = self.mark
        return range(max(start - offset, 0), min(start + size - offset, length))


def _runs(pieces: list[str], marked: range, mark_style: Style) -> list[Segment]:
    """Pieces joined into at most three segments: before, in and after the mark."""
    if not marked:
        return [Segment("".join(pieces))]
    before = pieces[: marked.start]
    inside = pieces[marked.start : marked.stop]
    after = pieces[marked.stop :]
    segments = [Segment("".join(before))] if before else []
    segments.append(Segment("".join(inside), mark_style))
    if after:
        segments.append(Segment("".join(after)))
    return segments
