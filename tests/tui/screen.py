"""What a Pilot-driven dashboard shows: the terminal's text, and waiting for it."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator

from rich.cells import cell_len
from textual.pilot import Pilot

from shmtop.tui.app import ShmtopApp

_RUN = re.compile(r"<text([^>]*)>(.*?)</text>", re.S)
_LINE = re.compile(r'clip-path="url\(#[\w-]*line-(\d+)\)"')
_X = re.compile(r'\bx="([\d.]+)"')
_LENGTH = re.compile(r'\btextLength="([\d.]+)"')


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await pilot.pause(0.02)


def _unescaped(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup)).replace("\xa0", " ")


def screen_text(app: ShmtopApp) -> str:
    """What the terminal shows, as text (from Textual's own SVG screenshot)."""
    svg = app.export_screenshot()
    return "".join(_unescaped(run) for _, run in _RUN.findall(svg))


def _runs(svg: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of each run of text in a Rich SVG export."""
    for attributes, markup in _RUN.findall(svg):
        line, x, length = (p.search(attributes) for p in (_LINE, _X, _LENGTH))
        text = _unescaped(markup).rstrip("\n")
        if line is not None and x is not None and length is not None and text:
            cell_width = float(length.group(1)) / cell_len(text)
            yield int(line.group(1)), round(float(x.group(1)) / cell_width), text


def screen_lines(app: ShmtopApp) -> list[str]:
    """What the terminal shows, line by line. Each run of text goes where its x says: Rich
    leaves runs of spaces out of the SVG, so runs cannot simply be joined."""
    lines: dict[int, list[str]] = {}
    for y, column, text in _runs(app.export_screenshot()):
        cells = lines.setdefault(y, [])
        cells.extend(" " * (column + len(text) - len(cells)))
        cells[column : column + len(text)] = text  # one cell per character in these views
    height = max(lines, default=-1) + 1
    return ["".join(lines.get(y, [])).rstrip() for y in range(height)]


def _rows_on_screen(app: ShmtopApp) -> list[str]:
    table = app.table
    first = int(table.scroll_offset.y)
    return app.model.order[first : first + table.scrollable_content_region.height - 1]


def leak_cells_shown(app: ShmtopApp) -> dict[str, str]:
    """The LEAK cell of each row the table has on screen, as the terminal shows it."""
    table, lines = app.table, screen_lines(app)
    region = table.scrollable_content_region
    column = next(c for c in app.model.columns if c.id == "leak")
    left = region.x + table.column_offset("leak") - int(table.scroll_offset.x)
    return {
        ref: lines[region.y + 1 + row][left : left + column.width].strip()
        for row, ref in enumerate(_rows_on_screen(app))
    }


def leak_cells_judged(app: ShmtopApp) -> dict[str, str]:
    """What the model's verdicts say those LEAK cells should show (computed afresh)."""
    model = app.model
    column = next(c for c in model.columns if c.id == "leak")
    return {ref: column.cell(model.objects[ref], model.context) for ref in _rows_on_screen(app)}


def verdicts_on_screen(app: ShmtopApp) -> bool:
    """The leak verdicts have reached the model and every LEAK cell on screen shows them."""
    if app.model.context.verdicts is None:
        return False
    return leak_cells_shown(app) == leak_cells_judged(app)
