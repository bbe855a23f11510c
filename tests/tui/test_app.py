"""The dashboard driven with Pilot over an injected snapshot source."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from shmtop.model.roots import Roots
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.help import HelpScreen
from shmtop.tui.processes import KeyedTable, ProcessesScreen, ProcessObjectsScreen
from tests.tui.fakes import PROCFS, FakeSource, attach_map, mixed, pshm, shm, snapshot
from tests.tui.screen import screen_text, until

SIZE = (160, 40)


def make_app(objects: list | None = None, **kwargs: object) -> tuple[ShmtopApp, FakeSource]:
    source = FakeSource(snapshot(mixed() if objects is None else objects))
    return ShmtopApp(source=source, interval=60, kernel="6.0-test", **kwargs), source


async def started(pilot: Pilot) -> ShmtopApp:
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    await until(pilot, lambda: app.snapshot is not None)
    await pilot.pause()
    return app


async def refreshed(pilot: Pilot, source: FakeSource, objects: list) -> None:
    """Hand the app a new snapshot and wait until it has been applied."""
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    source.current = snapshot(objects, time=source.current.time + 1)
    app.action_refresh_now()
    await until(pilot, lambda: app.snapshot is source.current)
    await pilot.pause()


def table_lines(app: ShmtopApp) -> list[str]:
    table = app.table
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_first_screen_lists_every_object_of_every_kind() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        lines = table_lines(app)
        assert lines[0].split()[:3] == ["!", "REF", "▲"]  # the mark column, then the reference
        for ref in (
            "sysv-shm:1",
            "sysv-msg:10",
            "sysv-sem:20",
            "posix-shm:/ring0",
            "posix-sem:/lock",
            "posix-mq:/jobs",
        ):
            assert any(ref in line for line in lines), ref
        assert app.header.shown == app.header.total == len(mixed())


async def test_keys_move_the_cursor_and_enter_opens_the_detail_view() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("down", "down")
        assert app.model.cursor == "sysv-shm:3"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.ref == "sysv-shm:3"
        assert "marked for removal: it disappears when the last process detaches" in screen_text(
            app
        )
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen))
        assert app.model.cursor == "sysv-shm:3"


async def test_detail_view_follows_changes_and_says_when_the_object_is_gone() -> None:
    app, source = make_app([shm(1), shm(2)])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await refreshed(pilot, source, [shm(1, nattch=7), shm(2)])
        assert re.search(r"nattch +7 +mappings", screen_text(app))
        await refreshed(pilot, source, [shm(2)])
        assert "gone: this object no longer exists" in screen_text(app)


async def test_sort_key_cycles_columns_and_header_click_sorts_then_reverses() -> None:
    app, _ = make_app([shm(1, size=300), shm(2, size=100), shm(3, size=200)])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("s", "s")
        assert app.model.sort_column == "alloc"  # the column after REF's next, SIZE
        size_x = app.table.column_offset("size") + 1
        await pilot.click("#objects", offset=(size_x, 0))
        assert app.model.sort_column == "size"
        assert app.model.order == ["sysv-shm:2", "sysv-shm:3", "sysv-shm:1"]
        await pilot.click("#objects", offset=(size_x, 0))
        assert app.model.reverse
        assert "SIZE ▼" in table_lines(app)[0]
        await pilot.press("r")
        assert not app.model.reverse


async def test_filter_narrows_the_rows_and_the_header_counts_them() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"ring", "enter")
        assert app.model.order == ["posix-shm:/ring0"]
        assert (app.header.shown, app.header.total) == (1, len(mixed()))
        assert app.table.has_focus
        await pilot.press("slash", "escape")
        assert len(app.model.order) == len(mixed())


async def test_number_keys_switch_to_per_kind_views_with_their_own_columns() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("6")
        assert app.model.view.id == "posix-sem"
        assert table_lines(app)[0].split()[:3] == ["!", "NAME", "▲"]
        assert app.model.order == ["posix-sem:/lock"]
        await pilot.press("1")
        assert len(app.model.order) == len(mixed())


async def test_cursor_keeps_its_object_and_screen_row_when_rows_are_inserted_above() -> None:
    objects = [shm(i) for i in range(10, 60)]
    app, source = make_app(objects)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press(*["down"] * 5)
        row_before = next(y for y, line in enumerate(table_lines(app)) if "sysv-shm:15 " in line)
        await refreshed(pilot, source, [shm(i) for i in range(1, 60)])
        assert app.model.cursor == "sysv-shm:15"
        row_after = next(y for y, line in enumerate(table_lines(app)) if "sysv-shm:15 " in line)
        assert row_after == row_before
        await refreshed(pilot, source, [shm(i) for i in range(1, 60) if i != 15])
        assert app.model.cursor == "sysv-shm:16"


async def test_changes_are_highlighted_then_fade(monkeypatch: pytest.MonkeyPatch) -> None:
    app, source = make_app([shm(1), shm(2)])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await refreshed(pilot, source, [shm(1, nattch=5), shm(2), shm(3)])
        now = time.monotonic()
        assert app.model.highlighted("sysv-shm:1", now).columns == frozenset({"use"})
        assert app.model.highlighted("sysv-shm:3", now).columns is None
        await until(pilot, lambda: not app.model.highlights, timeout=6)


async def test_space_pauses_polling_and_resumes() -> None:
    app, source = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("space")
        assert app.poller.paused and app.header.paused
        calls = source.calls
        app.action_refresh_now()
        await pilot.pause(0.3)
        assert source.calls == calls
        await pilot.press("space")
        await until(pilot, lambda: source.calls > calls)


async def test_plus_and_minus_change_the_interval() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("minus")
        assert app.poller.interval == 30.0 and app.header.interval == 30.0
        await pilot.press("plus", "plus")
        assert app.poller.interval == 60.0


async def test_help_lists_every_key_with_display_names() -> None:
    app, _ = make_app()
    async with app.run_test(size=(160, 90)) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for description in ("Quit", "Filter", "Sort", "Pause", "Detail", "POSIX mq", "Back"):
            assert description in text
        assert "?, f1" in text.replace("F1", "f1")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_markup_in_a_name_is_shown_literally_and_clicking_it_does_nothing() -> None:
    # Synthetic names may hold what a file name cannot ("/"), to cover closing tags too.
    app, _ = make_app([pshm(b"/[@click=app.quit]x"), pshm(b"/[red]y[/red][/oops]")])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        text = screen_text(app)
        assert "/[@click=app.quit]x" in text
        assert "/[red]y[/red][/oops]" in text
        await pilot.click("#objects", offset=(40, 1))
        await pilot.click("#objects", offset=(40, 2))
        await pilot.pause(0.2)
        assert app.is_running


async def test_table_keys_do_nothing_on_the_detail_screen() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("slash", "s", "3")
        assert (app.model.filter, app.model.sort_column, app.model.view.id) == ("", "ref", "all")
        assert isinstance(app.screen, DetailScreen)


async def test_keymap_remaps_a_binding_by_its_id() -> None:
    app, _ = make_app(keymap={"app.quit": "ctrl+x", "app.pause": "p"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("p")
        assert app.poller.paused
        await pilot.press("q")
        assert app.is_running
        await pilot.press("ctrl+x")
        await until(pilot, lambda: not app.is_running)


async def test_command_palette_offers_the_dashboard_actions() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        wanted = ("Filter", "Sort", "Pause", "Help", "View: POSIX mq", "Quit", "Remove", "Clean",
                  "Mark", "Detail", "Processes", "Limits", "Scroll right")  # fmt: skip
        for title in wanted:
            assert title in titles
        assert len(titles) == len(set(titles))  # each once (Quit is Textual's and ours)


async def test_polls_never_overlap_and_each_snapshot_is_taken_before_the_next() -> None:
    app, source = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for _ in range(20):
            app.action_refresh_now()
            await pilot.pause(0.01)
        await until(pilot, lambda: source.calls >= 5)
        assert not source.overlapped


def make_attached_app() -> tuple[ShmtopApp, FakeSource]:
    source = FakeSource(snapshot(mixed()), attach_map())
    app = ShmtopApp(source=source, interval=60, kernel="6.0-test", roots=Roots(procfs=PROCFS))
    return app, source


async def test_procs_column_counts_processes_and_unknown_ones() -> None:
    app, _ = make_attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        procs = [c.id for c in app.model.columns].index("procs")
        assert app.model.cells("sysv-shm:1")[procs] == "2"
        assert app.model.cells("sysv-shm:3")[procs] == "0+1?"
        assert app.model.cells("sysv-msg:10")[procs] == "-"  # queues cannot be attached


async def test_detail_lists_attachers_and_whether_recorded_pids_live() -> None:
    app, _ = make_attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("enter")  # sysv-shm:1
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause(0.2)
        text = screen_text(app)
        assert re.search(r"pid 4242 +postgres \(root \(0\)\) +1 mapping", text)
        assert re.search(r"pid 4243 +postgres: wal \(root \(0\)\) +2 mappings", text)
        assert re.search(r"creator +101 +still running", text)


async def test_attach_changes_alone_refresh_and_highlight_the_procs_cell() -> None:
    app, source = make_attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        procs = [c.id for c in app.model.columns].index("procs")
        source.attach = replace(attach_map(), attachers={})  # every process let go
        app.poller.scan_attachers_now()
        await until(pilot, lambda: app.model.cells("sysv-shm:1")[procs] == "0")
        mark = app.model.highlighted("sysv-shm:1", time.monotonic())
        assert mark is not None and mark.columns == frozenset({"procs"})


async def test_processes_view_leads_to_a_process_then_to_an_objects_detail() -> None:
    app, _ = make_attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ProcessesScreen))
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "ring-writer" in text and "jobs[bad\\x1b]" in text  # escaped, not raw
        table = app.screen.query_one(KeyedTable)
        await until(pilot, lambda: table.row_count == 5)  # initdb (101) created sysv-shm:1
        table.move_cursor(row=[str(k.value) for k in table.rows].index("5000"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ProcessObjectsScreen))
        await pilot.pause(0.2)
        assert "posix-shm:/ring0" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.ref == "posix-shm:/ring0"
        await pilot.press("escape", "escape", "escape")
        await until(pilot, lambda: len(app.screen_stack) == 1)


async def test_the_poller_scans_attachers_at_its_own_cadence_and_on_demand() -> None:
    app, source = make_attached_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        scans = source.scans
        app.action_refresh_now()  # a plain refresh: the 60 s interval is not over
        await until(pilot, lambda: source.calls >= 2)
        assert source.scans == scans
        await pilot.press("enter")  # the detail view asks for a scan
        await until(pilot, lambda: source.scans == scans + 1)


async def test_the_scrollbar_follows_rows_that_come_and_go_without_a_layout_of_the_screen() -> None:
    app, source = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = app.table
        assert not table.show_vertical_scrollbar  # nine rows: room to spare
        many = [*mixed(), *(shm(i) for i in range(100, 300))]
        await refreshed(pilot, source, many)
        assert table.show_vertical_scrollbar
        assert table.virtual_size.height == len(app.model.order) + 1  # and the header line
        await pilot.press("end")
        await pilot.pause()
        last = app.model.order[-1]
        assert app.model.cursor == last and last in "\n".join(table_lines(app))
        more = [*many, *(shm(i) for i in range(300, 340))]
        await refreshed(pilot, source, more)  # the height alone changes: no layout
        assert (
            table.max_scroll_y == len(app.model.order) + 1 - table.scrollable_content_region.height
        )
        await pilot.press("end")
        await pilot.pause()
        assert app.model.order[-1] in "\n".join(table_lines(app))
        await refreshed(pilot, source, mixed())
        assert not table.show_vertical_scrollbar
        assert int(table.scroll_offset.y) == 0
        assert all(ref in "\n".join(table_lines(app)) for ref in app.model.order)
