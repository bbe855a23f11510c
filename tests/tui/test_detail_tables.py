"""The detail view's tables of members and messages: each heading sits over its values."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console, RenderableType
from textual.geometry import Region

from shmtop.tui import detail
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from tests.tui.fakes import MEMBERS, MESSAGES, FakeSource, fake_contents, msg, sem, snapshot
from tests.tui.screen import until

MEMBER_TITLES = ["NUM", "VALUE", "NCNT", "ZCNT", "PID"]
MESSAGE_TITLES = ["INDEX", "MTYPE", "SIZE", "FIRST BYTES", "AS TEXT"]
LEFT = {"FIRST BYTES", "AS TEXT"}  # the others are right-justified


def cells(line: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each cell: cells are apart by two spaces or more."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def assert_aligned(lines: list[str], titles: list[str], rows: int) -> None:
    """The line of titles, then `rows` lines whose cells start (left-justified) or end
    (right-justified) exactly where their title does."""
    at = next(i for i, line in enumerate(lines) if titles[0] in line.split())
    header = cells(lines[at])
    assert [text for _, _, text in header] == titles, lines[at]
    for line in lines[at + 1 : at + 1 + rows]:
        values = cells(line)
        assert len(values) == len(titles), line
        for (start, end, title), (value_start, value_end, _) in zip(header, values, strict=True):
            if title in LEFT:
                assert value_start == start, f"{title} starts at {start}: {line!r}"
            else:
                assert value_end == end, f"{title} ends at {end}: {line!r}"


def rendered(renderable: RenderableType, width: int = 100) -> list[str]:
    console = Console(width=width, color_system=None, file=io.StringIO())
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue().splitlines()


@pytest.mark.parametrize("width", [40, 60, 100])
def test_members_headings_sit_over_their_values(width: int) -> None:
    lines = rendered(detail._members(sem(20, nsems=3), MEMBERS), width)
    assert lines[0].strip() == "members"  # the title on a line of its own
    assert_aligned(lines, MEMBER_TITLES, len(MEMBERS))


@pytest.mark.parametrize("width", [80, 100, 150])
def test_message_headings_sit_over_their_values(width: int) -> None:
    lines = rendered(detail._messages(MESSAGES), width)
    assert lines[0].strip() == "2 messages, copied and left on the queue (at most 1000)"
    assert_aligned(lines, MESSAGE_TITLES, len(MESSAGES))


@pytest.mark.parametrize(
    ("ref", "titles", "rows"),
    [("sysv-sem:20", MEMBER_TITLES, len(MEMBERS)), ("sysv-msg:10", MESSAGE_TITLES, 2)],
)
async def test_the_detail_view_draws_them_aligned(
    monkeypatch: pytest.MonkeyPatch, ref: str, titles: list[str], rows: int
) -> None:
    fake_contents(monkeypatch)
    source = FakeSource(snapshot([sem(20), msg(10, qnum=2, cbytes=11)]))
    app = ShmtopApp(source=source, interval=60)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.model.move_cursor(app.model.order.index(ref))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.contents is not None)
        await pilot.pause()
        fields = screen.query_one("#fields")
        region = Region(0, 0, fields.size.width, fields.size.height)
        lines = [strip.text for strip in fields.render_lines(region)]
        assert_aligned(lines, titles, rows)
