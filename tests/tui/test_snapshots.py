"""Screenshots of the main views compared with accepted SVGs (pytest-textual-snapshot).

Data, host, kernel and time zone are fixed so the pictures only change when the UI does.
Accept a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from shmtop.model.roots import Roots
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.processes import ProcessesScreen
from tests.tui.fakes import (
    PROCFS,
    FakeSource,
    attach_map,
    fake_contents,
    found_attach,
    found_objects,
    mess,
    mess_attach,
    mess_snapshot,
    mixed,
    snapshot,
)
from tests.tui.screen import screen_text, until, verdicts_on_screen

SIZE = (150, 34)


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


def app() -> ShmtopApp:
    source = FakeSource(snapshot(mixed()), attach_map())
    return ShmtopApp(source=source, interval=60, kernel="6.18.0-test", roots=Roots(procfs=PROCFS))


def mess_app() -> ShmtopApp:
    """The operator's 3 a.m.: leaks, a nearly full queue, a full one, a waiter, /dev/shm 97%."""
    source = FakeSource(mess_snapshot(), mess_attach())
    return ShmtopApp(source=source, interval=60, kernel="6.18.0-test", roots=Roots(procfs=PROCFS))


def after_first_snapshot(*keys: str, theme: str | None = None) -> Callable[[Pilot], object]:
    async def run_before(pilot: Pilot) -> None:
        shmtop = pilot.app
        assert isinstance(shmtop, ShmtopApp)
        if theme is not None:
            shmtop.theme = theme
        # The leak verdicts follow the first screen: wait until the terminal shows them.
        await until(pilot, lambda: verdicts_on_screen(shmtop), timeout=10)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


# The sizes terminals have: an ssh session's 80x24, a laptop's 120x30, a large screen's 200x60.


def test_at_80x24_the_reference_size_use_and_leak_show_over_ten_rows(snap_compare) -> None:
    assert snap_compare(mess_app(), terminal_size=(80, 24), run_before=after_first_snapshot())


def test_at_80x24_scrolling_sideways_keeps_the_reference(snap_compare) -> None:
    run = after_first_snapshot("right", "right", "right", "right")
    assert snap_compare(mess_app(), terminal_size=(80, 24), run_before=run)


def test_at_80x24_an_empty_table_says_there_is_nothing(snap_compare) -> None:
    run = after_first_snapshot("4", "slash", *"nothing", "enter")
    assert snap_compare(mess_app(), terminal_size=(80, 24), run_before=run)


def test_at_120x30_in_the_light_theme(snap_compare) -> None:
    run = after_first_snapshot("m", theme="textual-light")  # and a row marked for removal
    assert snap_compare(mess_app(), terminal_size=(120, 30), run_before=run)


def test_at_200x60_every_column(snap_compare) -> None:
    assert snap_compare(mess_app(), terminal_size=(200, 60), run_before=after_first_snapshot())


def test_all_objects_view(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=after_first_snapshot())


def test_sysv_shm_view_sorted_by_size(snap_compare) -> None:
    run = after_first_snapshot("2", "s", "s", "s", "s", "r", "down")
    assert snap_compare(app(), terminal_size=SIZE, run_before=run)


def test_filtered_view(snap_compare) -> None:
    run = after_first_snapshot("slash", "r", "i", "n", "g")
    assert snap_compare(app(), terminal_size=SIZE, run_before=run)


def test_detail_view_of_a_segment_marked_for_removal(snap_compare) -> None:
    keys = after_first_snapshot("down", "down", "enter")

    async def run(pilot: Pilot) -> None:
        await keys(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.verdict is not None)
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run)


def detail_with_contents(*keys: str) -> Callable[[Pilot], object]:
    """Keys to a detail view, then wait for its contents (read in a thread) and verdict."""
    before = after_first_snapshot(*keys)

    async def run(pilot: Pilot) -> None:
        await before(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.contents is not None and screen.verdict is not None)
        await pilot.pause()

    return run


def test_detail_view_of_a_semaphore_set_with_its_members(snap_compare, monkeypatch) -> None:
    fake_contents(monkeypatch)
    run = detail_with_contents(*["down"] * 4, "enter")  # sysv-sem:20
    assert snap_compare(app(), terminal_size=(150, 40), run_before=run)


def test_detail_view_of_a_queue_with_its_messages(snap_compare, monkeypatch) -> None:
    fake_contents(monkeypatch)
    run = detail_with_contents(*["down"] * 3, "enter")  # sysv-msg:10
    assert snap_compare(app(), terminal_size=(150, 40), run_before=run)


def test_help_screen(snap_compare) -> None:
    run = after_first_snapshot("question_mark")
    assert snap_compare(app(), terminal_size=(150, 60), run_before=run)


def test_processes_view(snap_compare, monkeypatch) -> None:
    fake_contents(monkeypatch)  # sysv-sem:20's members name pid 101 as a user
    before = after_first_snapshot("p")

    async def run(pilot: Pilot) -> None:
        await before(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ProcessesScreen)
        await until(pilot, lambda: screen.found is not None)
        await pilot.press("s", "r")
        await pilot.pause()

    assert snap_compare(mess_app(), terminal_size=SIZE, run_before=run)


def found_app() -> ShmtopApp:
    """mess(), and what the walk over /proc finds: a stuck pipe, an idle one, a FIFO, a memfd,
    a deleted /dev/shm file."""
    source = FakeSource(snapshot([*mess(), *found_objects()]), found_attach())
    return ShmtopApp(source=source, interval=60, kernel="6.18.0-test", roots=Roots(procfs=PROCFS))


def test_at_80x24_the_pipes_view_shows_fill_state_and_blocked_ends(snap_compare) -> None:
    run = after_first_snapshot("8")
    assert snap_compare(found_app(), terminal_size=(80, 24), run_before=run)


def test_at_80x24_the_mem_view_shows_memfd_and_deleted_files(snap_compare) -> None:
    run = after_first_snapshot("9")
    assert snap_compare(found_app(), terminal_size=(80, 24), run_before=run)


def test_at_80x24_the_waiting_view_names_the_call_and_the_object(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await after_first_snapshot("w")(pilot)
        shmtop = pilot.app
        assert isinstance(shmtop, ShmtopApp)
        await until(pilot, lambda: "write" in screen_text(shmtop), timeout=10)

    assert snap_compare(found_app(), terminal_size=(80, 24), run_before=run_before)
