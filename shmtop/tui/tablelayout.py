"""Where the object table's columns are, and how a cell's text fits its width (no Textual).

Before the columns, a gutter marks rows marked for removal; columns are separated by GAP.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

from shmtop.columns import Column

GAP = 1
GUTTER = 1  # before the columns: "*" on a row marked for removal


def column_offset(columns: Sequence[Column], widths: Sequence[int], column_id: str) -> int:
    """Where a column starts, in cells from the table's left edge (before scrolling)."""
    left = GUTTER
    for column, width in zip(columns, widths, strict=True):
        if column.id == column_id:
            return left
        left += width + GAP
    raise KeyError(column_id)


def column_at(columns: Sequence[Column], widths: Sequence[int], x: int) -> Column | None:
    """The column at x cells from the table's left edge (before scrolling), if any."""
    left = GUTTER
    for column, width in zip(columns, widths, strict=True):
        left += width + GAP
        if x < left:
            return column
    return None


def fit(text: str, width: int, right: bool, middle: bool = False) -> str:
    """text in exactly width cells: cut with an ellipsis when too long (in the middle for
    names, whose start says the kind and whose end tells one from the next), padded when
    short."""
    length = cell_len(text)
    if length > width and middle and width >= 12:
        head = set_cell_size(text, (width - 1) // 2)
        tail = text[len(text) - (width - 1 - cell_len(head)) :]
        return set_cell_size(head + "…" + tail, width)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - length)
    return pad + text if right else text + pad
