"""The LEAK column and the detail view follow the poller's leak verdicts, which arrive after
the first screen: rows drawn before them show them once judged, and sorting by LEAK follows."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from shmtop.model import Snapshot, Verdict
from shmtop.tui import poller
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from tests.tui.fakes import FakeSource, attach_map, mixed, snapshot
from tests.tui.screen import (
    leak_cells_judged,
    leak_cells_shown,
    screen_text,
    until,
    verdicts_on_screen,
)

SIZE = (160, 40)


@pytest.fixture
def held_verdicts(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The poller judges only once the test sets the event: the first screen is drawn first."""
    judge = poller.verdicts
    release = threading.Event()

    def held(snapshot: Snapshot) -> dict[str, Verdict]:
        release.wait(30)
        return judge(snapshot)

    monkeypatch.setattr(poller, "verdicts", held)
    try:
        yield release
    finally:
        release.set()  # never leave the poller's thread waiting


def attached_app() -> ShmtopApp:
    source = FakeSource(snapshot(mixed()), attach_map())
    return ShmtopApp(source=source, interval=60, kernel="6.0-test")


async def test_rows_drawn_before_the_first_verdicts_show_them_once_judged(
    held_verdicts: threading.Event,
) -> None:
    app = attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await until(pilot, lambda: set(leak_cells_shown(app).values()) == {"?"})
        held_verdicts.set()
        await until(pilot, lambda: verdicts_on_screen(app))
        shown = leak_cells_shown(app)
        assert shown == leak_cells_judged(app)
        assert shown["sysv-shm:2"] == "yes"  # nattch 0, creator and last user exited
        assert shown["posix-shm:/ring0"] == ""  # ring-writer maps it
        assert not app.model.highlights  # the first verdicts are no change to highlight


async def test_sorted_by_leak_the_rows_take_their_places_when_judged(
    held_verdicts: threading.Event,
) -> None:
    app = attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.click("#objects", offset=(app.table.column_offset("leak") + 1, 0))
        assert app.model.sort_column == "leak"
        unjudged = list(app.model.order)
        held_verdicts.set()
        await until(pilot, lambda: verdicts_on_screen(app))
        assert app.model.order[0] == "sysv-shm:2"  # the one that looks leaked comes first
        assert sorted(app.model.order[1:]) == sorted(r for r in unjudged if r != "sysv-shm:2")
        assert next(iter(leak_cells_shown(app))) == "sysv-shm:2"


async def test_a_detail_view_open_before_the_verdicts_shows_them_once_judged(
    held_verdicts: threading.Event,
) -> None:
    app = attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("down", "enter")  # sysv-shm:2
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await until(pilot, lambda: "not judged yet" in screen_text(app))
        held_verdicts.set()
        await until(pilot, lambda: "looks leaked (C cleans)" in screen_text(app))
        assert "creator 102 exited" in screen_text(app)
