"""ObjectTable: a virtual table that draws only the rows on screen.

Tens of thousands of rows cost nothing until they are drawn: the widget keeps no row widgets,
only a TableModel, and `render_line` turns the few visible rows into strips. Line 0 is the
header; it stays put while the rows scroll beneath it.
"""

from __future__ import annotations

import time

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shmtop.clean.remove import can_be_removed
from shmtop.columns import Column
from shmtop.severity import SEVERITY_OF_MARK, Severity
from shmtop.tui.removal import not_removable
from shmtop.tui.safe import printable, tell
from shmtop.tui.tablelayout import GAP, GUTTER, column_at, column_offset, fit
from shmtop.tui.tablemodel import TableModel
from shmtop.tui.views import column_widths

SELECTED_MARK = "*"
SEVERITY_CLASS = {
    Severity.LEAKED: "object-table--leaked",
    Severity.WARNING: "object-table--warning",
    Severity.WAITED: "object-table--waited",
    Severity.UNKNOWN: "object-table--unknown",
}


class ObjectTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "object-table--header",
        "object-table--sorted",
        "object-table--cursor",
        "object-table--changed",
        "object-table--new",
        "object-table--selected",
        "object-table--leaked",
        "object-table--warning",
        "object-table--waited",
        "object-table--unknown",
        "object-table--empty",
    }
    DEFAULT_CSS = """
    ObjectTable {
        background: $surface;
        & > .object-table--header { background: $panel; color: $text; text-style: bold; }
        & > .object-table--sorted { background: $panel; color: $accent; text-style: bold; }
        & > .object-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .object-table--changed { background: $warning 35%; }
        & > .object-table--new { background: $success 35%; }
        & > .object-table--selected { color: $text-accent; text-style: bold reverse; }
        & > .object-table--leaked { color: $text-error; text-style: bold; }
        & > .object-table--warning { color: $text-warning; }
        & > .object-table--waited { color: $text-primary; }
        & > .object-table--unknown { text-style: italic; }
        & > .object-table--empty { color: $text-muted; text-style: italic; }
        &:blur > .object-table--cursor { background: $block-cursor-blurred-background; }
    }
    """
    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home", "first", "First row", show=False, id="table.first"),
        Binding("end", "last", "Last row", show=False, id="table.last"),
        Binding(
            "left,h",
            "scroll_columns(-8)",
            "Scroll left",
            show=False,
            id="table.left",
            tooltip="Scroll the columns right of the reference, which stays",
        ),
        Binding(
            "right,l",
            "scroll_columns(8)",
            "Scroll right",
            show=False,
            id="table.right",
            tooltip="Scroll the columns right of the reference, which stays",
        ),
        Binding("enter", "open", "Detail", id="table.detail", tooltip="Every field of the object"),
        Binding(
            "insert,m",
            "toggle_selected",
            "Mark",
            show=False,
            id="table.mark",
            tooltip="Mark or unmark the row for removal (*); Delete removes the marked",
        ),
    ]

    class Opened(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    class HeaderClicked(Message):
        def __init__(self, column_id: str) -> None:
            super().__init__()
            self.column_id = column_id

    def __init__(self, model: TableModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self._shown_cursor_index: int | None = None  # where the cursor was last drawn
        self._widths = [column.width for column in model.columns]

    def on_resize(self, event: events.Resize) -> None:
        self.sync()

    # Keeping the view in step with the model --------------------------------------------

    def sync(self, keep_screen_row: bool = True) -> None:
        """Redraw after the model changed; the cursor's row stays where it was on screen."""
        before = self._cursor_screen_row()
        available = self.scrollable_content_region.width - GUTTER
        longest = max(map(len, self.model.order), default=0)  # references: escaped text
        self._widths = column_widths(self.model.view, available, GAP, longest)
        width = GUTTER + sum(width + GAP for width in self._widths)
        self._resize(Size(width, max(len(self.model.order), 2) + 1))
        index = self.model.cursor_index
        if keep_screen_row and before is not None and index is not None:
            self.scroll_to(y=max(0, index - before), animate=False, immediate=True)
        self.scroll_cursor_visible()
        self.refresh()

    def _resize(self, size: Size) -> None:
        """The table's virtual size. Rows that came or went change only its height, which
        only its own scrollbars follow (the table's height on screen is its share of it):
        set as Textual does when it sizes a widget without a layout, not as the reactive does
        (a layout of the whole screen, 30-50 ms at the large mix: the stall of a refresh). A
        scrollbar that appears or goes asks for a layout itself."""
        if size == self.virtual_size:
            return
        if size.width != self.virtual_size.width:
            self.virtual_size = size  # columns changed: the layout may depend on them
            return
        scroll_update = getattr(self, "_scroll_update", None)  # Textual's own, not public
        if scroll_update is None:  # another Textual than the one measured: its public way
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        scroll_update(size)
        self.refresh()

    def _cursor_screen_row(self) -> int | None:
        index = self._shown_cursor_index
        if index is None:
            return None
        row = index - int(self.scroll_offset.y)
        return row if 0 <= row < self._rows_on_screen() else None

    def _rows_on_screen(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def scroll_cursor_visible(self) -> None:
        index = self.model.cursor_index
        self._shown_cursor_index = index
        if index is None:
            return
        top = int(self.scroll_offset.y)
        rows = self._rows_on_screen()
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + rows:
            self.scroll_to(y=index - rows + 1, animate=False, immediate=True)

    # Actions ----------------------------------------------------------------------------

    def _move(self, delta: int) -> None:
        index = self.model.cursor_index
        self.model.move_cursor((0 if index is None else index) + delta)
        self.scroll_cursor_visible()
        self.refresh()

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_page_up(self) -> None:
        self._move(-self._rows_on_screen())

    def action_page_down(self) -> None:
        self._move(self._rows_on_screen())

    def action_first(self) -> None:
        self._move(-len(self.model.order))

    def action_last(self) -> None:
        self._move(len(self.model.order))

    def action_scroll_columns(self, cells: int) -> None:
        """Scroll the columns right of the frozen ones (the reference stays)."""
        self.scroll_to(x=max(0, int(self.scroll_offset.x) + cells), animate=False)

    @property
    def frozen_width(self) -> int:
        """Cells at the left that stay in place when the table scrolls sideways."""
        frozen = self.model.view.frozen
        return GUTTER + sum(width + GAP for width in self._widths[:frozen])

    def action_toggle_selected(self) -> None:
        ref = self.model.cursor
        if ref is not None and not can_be_removed(self.model.objects[ref]):
            tell(self.app, not_removable([self.model.objects[ref]]), "warning")
            return
        if self.model.cursor is not None:
            self.model.toggle_selected(self.model.cursor)
            self._move(1)
            self.refresh()

    def action_open(self) -> None:
        if self.model.cursor is not None:
            self.post_message(self.Opened(self.model.cursor))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(self._unscrolled_x(event.x))
            if column is not None:
                self.post_message(self.HeaderClicked(column.id))
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self.model.order):
            self.model.move_cursor(index)
            self.scroll_cursor_visible()
            self.refresh()
            if event.chain >= 2:
                self.action_open()

    def _unscrolled_x(self, x: int) -> int:
        return x if x < self.frozen_width else x + int(self.scroll_offset.x)

    def column_offset(self, column_id: str) -> int:
        """Where a column starts, in cells from the table's left edge (before scrolling)."""
        return column_offset(self.model.columns, self._widths, column_id)

    def column_on_screen(self, column_id: str) -> int:
        """Where a column starts on screen, from the widget's left edge, as scrolled now."""
        left = self.column_offset(column_id)
        return left if left < self.frozen_width else left - int(self.scroll_offset.x)

    def _column_at(self, x: int) -> Column | None:
        return column_at(self.model.columns, self._widths, x)

    # Drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """The frozen columns as they are, then the others scrolled sideways."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y > 0 and not self.model.order:
            return self._empty_strip(y - 1).crop_extend(0, width, self.rich_style)
        strip = self._header_strip() if y == 0 else self._row_strip(scroll_y + y - 1)
        frozen = min(self.frozen_width, width)
        if not scroll_x:
            return strip.crop_extend(0, width, self.rich_style)
        left = strip.crop_extend(0, frozen, self.rich_style)
        right = strip.crop_extend(frozen + scroll_x, scroll_x + width, self.rich_style)
        return Strip.join([left, right])

    def _empty_strip(self, line: int) -> Strip:
        """An empty table says so, and which kinds could not be read."""
        lines = self.model.empty_lines()
        text = lines[line] if line < len(lines) else ""
        style = self.rich_style + self.get_component_rich_style("object-table--empty")
        return Strip([Segment(" " * GUTTER + printable(text), style)])

    def _header_strip(self) -> Strip:
        header = self.get_component_rich_style("object-table--header")
        sorted_style = self.get_component_rich_style("object-table--sorted")
        model = self.model
        segments = [Segment(" " * GUTTER, header)]
        for column, width in zip(model.columns, self._widths, strict=True):
            title = column.title
            if column.id == model.sort_column:
                title += " ▼" if model.reverse else " ▲"
            style = sorted_style if column.id == model.sort_column else header
            segments.append(Segment(fit(title, width, column.right) + " " * GAP, style))
        return Strip(segments)

    def _row_strip(self, index: int) -> Strip:
        model = self.model
        if not 0 <= index < len(model.order):
            return Strip.blank(self.virtual_size.width, self.rich_style)
        ref = model.order[index]
        texts = model.cells(ref)
        base = self._row_style(ref, texts)
        mark = model.highlighted(ref, time.monotonic())
        selected = SELECTED_MARK if ref in model.selected else " "
        segments = [Segment(selected.ljust(GUTTER), base)]
        cells = zip(model.columns, self._widths, texts, strict=True)
        for column, width, text in cells:
            style = base
            if mark is not None and (mark.columns is None or column.id in mark.columns):
                style = base + self._mark_style(mark.columns is None)
            cell = fit(printable(text), width, column.right, column.flex) + " " * GAP
            segments.append(Segment(cell, style))
        return Strip(segments)

    def _row_style(self, ref: str, texts: tuple[str, ...]) -> Style:
        """Coloured by severity (the mark column says the same in a character), marked for
        removal, under the cursor: each over the one before."""
        model, base = self.model, self.rich_style
        ids = [column.id for column in model.columns]
        severity = SEVERITY_OF_MARK.get(texts[ids.index("mark")]) if "mark" in ids else None
        if severity in SEVERITY_CLASS:
            base = base + self.get_component_rich_style(SEVERITY_CLASS[severity], partial=True)
        if ref in model.selected:
            base = base + self.get_component_rich_style("object-table--selected", partial=True)
        if ref == model.cursor:
            base = base + self.get_component_rich_style("object-table--cursor")
        return base

    def _mark_style(self, new: bool) -> Style:
        return self.get_component_rich_style(
            "object-table--new" if new else "object-table--changed", partial=True
        )
