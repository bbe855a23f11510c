"""Only the filter line filters the table: the hex view's prompts are Inputs too."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from shmtop.model import IpcObject
from shmtop.tui import detail
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.hexscreen import HexScreen
from tests.tui.fakes import mixed
from tests.tui.screen import screen_text, until
from tests.tui.test_app import SIZE, make_app, started


class BytesReader:
    """A ContentReader over bytes in memory (the fake objects have none to read)."""

    note: str | None = None

    def __init__(self, ref: str, data: bytes) -> None:
        self.ref, self.data = ref, data

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset : offset + length]

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def readable(monkeypatch: pytest.MonkeyPatch) -> None:
    def reader(obj: IpcObject, attach: object, roots: object = None) -> BytesReader:
        return BytesReader(obj.ref, bytes(range(256)) * 64)

    monkeypatch.setattr(detail, "open_reader", reader)


async def hex_view(pilot: Pilot, app: ShmtopApp) -> HexScreen:
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DetailScreen))
    await pilot.press("x")
    await until(pilot, lambda: isinstance(app.screen, HexScreen))
    screen = app.screen
    assert isinstance(screen, HexScreen)
    return screen


def filter_unchanged(app: ShmtopApp) -> None:
    assert app.model.filter == ""
    assert len(app.model.order) == len(mixed())
    assert (app.header.shown, app.header.total, app.header.filter) == (9, 9, "")


@pytest.mark.parametrize(
    ("key", "typed"), [("g", "0x40"), ("slash", "0x de ad"), ("w", "0 16 /tmp/x")]
)
async def test_text_typed_into_a_hex_view_prompt_never_filters_the_table(
    key: str, typed: str
) -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = await hex_view(pilot, app)
        await pilot.press(key)
        await until(pilot, lambda: screen.prompt.has_focus)
        await pilot.press("ctrl+u", *typed)  # ctrl+u: away with a suggested answer
        assert screen.prompt.value == typed
        filter_unchanged(app)
        await pilot.press("escape", "escape", "escape")  # the prompt, the hex view, the detail
        await until(pilot, lambda: len(app.screen_stack) == 1)
        await pilot.pause()
        filter_unchanged(app)
        assert "filter:" not in screen_text(app)


async def test_the_filter_line_still_filters() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"jobs")
        assert app.model.order == ["posix-mq:/jobs"]
        assert "filter: jobs" in screen_text(app)


async def test_a_slash_typed_in_the_filter_line_is_text_not_the_filter_key() -> None:
    """The filter's key is a priority binding (so that keys typed right after it are not
    routed to the table); in the line itself it is just a character."""
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"mq:/jobs")
        assert app.query_one("#filter").value == "mq:/jobs"
        assert app.model.order == ["posix-mq:/jobs"]
