"""Aligned plain-text tables for the terminal. Cells must already be escaped text."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def cell_width(text: str) -> int:
    """Terminal columns text occupies: wide East Asian characters count 2, combining 0."""
    if text.isascii():
        return len(text)
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()
) -> str:
    """Columns separated by two spaces; columns listed in `right` are right-aligned."""
    widths = [cell_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_width(cell))
    lines = [_line(headers, widths, right)]
    lines.extend(_line(row, widths, right) for row in rows)
    return "\n".join(lines) + "\n"


def _line(cells: Sequence[str], widths: Sequence[int], right: frozenset[int]) -> str:
    parts = []
    for i, cell in enumerate(cells):
        pad = " " * (widths[i] - cell_width(cell))
        parts.append(pad + cell if i in right else cell + pad)
    return "  ".join(parts).rstrip()
