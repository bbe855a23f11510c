"""ObjectTable: a virtual table that draws only the rows on screen.

Tens of thousands of rows cost nothing until they are drawn: the widget keeps no row widgets,
only a TableModel, and `render_line` turns the few visible rows into strips. Line 0 is the
header; it stays put while the rows scroll beneath it.
"""

from __future__ import annotations

import time

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shmtop.columns import Column
from shmtop.tui.safe import printable
from shmtop.tui.tablemodel import TableModel
from shmtop.tui.views import column_widths

GAP = 1


class ObjectTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "object-table--header",
        "object-table--sorted",
        "object-table--cursor",
        "object-table--changed",
        "object-table--new",
        "object-table--selected",
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
        Binding("left,h", "scroll_columns(-8)", "Scroll left", show=False, id="table.left"),
        Binding("right,l", "scroll_columns(8)", "Scroll right", show=False, id="table.right"),
        Binding("enter", "open", "Detail", id="table.detail", tooltip="Every field of the object"),
        Binding(
            "insert,m",
            "toggle_selected",
            "Mark",
            show=False,
            id="table.mark",
            tooltip="Mark or unmark the row (Delete then removes every marked row)",
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
        self._widths = column_widths(self.model.columns, self.scrollable_content_region.width, GAP)
        width = sum(width + GAP for width in self._widths)
        self.virtual_size = Size(width, len(self.model.order) + 1)
        index = self.model.cursor_index
        if keep_screen_row and before is not None and index is not None:
            self.scroll_to(y=max(0, index - before), animate=False, immediate=True)
        self.scroll_cursor_visible()
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
        self.scroll_to(x=max(0, int(self.scroll_offset.x) + cells), animate=False)

    def action_toggle_selected(self) -> None:
        if self.model.cursor is not None:
            self.model.toggle_selected(self.model.cursor)
            self._move(1)
            self.refresh()

    def action_open(self) -> None:
        if self.model.cursor is not None:
            self.post_message(self.Opened(self.model.cursor))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x + int(self.scroll_offset.x))
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

    def column_offset(self, column_id: str) -> int:
        """Where a column starts, in cells from the table's left edge (before scrolling)."""
        left = 0
        for column, width in zip(self.model.columns, self._widths, strict=True):
            if column.id == column_id:
                return left
            left += width + GAP
        raise KeyError(column_id)

    def _column_at(self, x: int) -> Column | None:
        left = 0
        for column, width in zip(self.model.columns, self._widths, strict=True):
            left += width + GAP
            if x < left:
                return column
        return None

    # Drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        strip = self._header_strip() if y == 0 else self._row_strip(scroll_y + y - 1)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _header_strip(self) -> Strip:
        header = self.get_component_rich_style("object-table--header")
        sorted_style = self.get_component_rich_style("object-table--sorted")
        model = self.model
        segments = []
        for column, width in zip(model.columns, self._widths, strict=True):
            title = column.title
            if column.id == model.sort_column:
                title += " ▼" if model.reverse else " ▲"
            style = sorted_style if column.id == model.sort_column else header
            segments.append(Segment(_fit(title, width, column.right) + " " * GAP, style))
        return Strip(segments)

    def _row_strip(self, index: int) -> Strip:
        model = self.model
        if not 0 <= index < len(model.order):
            return Strip.blank(self.virtual_size.width, self.rich_style)
        ref = model.order[index]
        base = self.rich_style
        if ref in model.selected:
            base = base + self.get_component_rich_style("object-table--selected", partial=True)
        if ref == model.cursor:
            base = base + self.get_component_rich_style("object-table--cursor")
        mark = model.highlighted(ref, time.monotonic())
        segments = []
        cells = zip(model.columns, self._widths, model.cells(ref), strict=True)
        for column, width, text in cells:
            style = base
            if mark is not None and (mark.columns is None or column.id in mark.columns):
                style = base + self._mark_style(mark.columns is None)
            cell = _fit(printable(text), width, column.right) + " " * GAP
            segments.append(Segment(cell, style))
        return Strip(segments)

    def _mark_style(self, new: bool) -> Style:
        return self.get_component_rich_style(
            "object-table--new" if new else "object-table--changed", partial=True
        )


def _fit(text: str, width: int, right: bool) -> str:
    """text in exactly width cells: cut with an ellipsis when too long, padded when short."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - length)
    return pad + text if right else text + pad
