"""Removing from the dashboard, over real objects: the question, its warnings, the answer,
the results, and the cursor landing on the next object."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import posix_ipc
import pytest
import sysv_ipc
from textual.geometry import Region
from textual.pilot import Pilot

from shmtop.collect import collect_snapshot
from shmtop.tui.app import ShmtopApp
from shmtop.tui.removal import CleanChoice, ConfirmRemoval, RemovalResults
from tests.holders import holders
from tests.ipcfactory import IpcFactory, unique
from tests.test_clean import made_by_exited_child, orphan_segment, orphan_segment_id
from tests.tui.test_app import until
from tests.tui.test_hexview import open_detail

SIZE = (150, 45)


@pytest.fixture(autouse=True)
def audit_log(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def hold() -> Iterator[Any]:
    with holders() as hold:
        yield hold


def text_of(screen: Any, selector: str) -> str:
    """A widget's lines as drawn, trailing blanks removed."""
    widget = screen.query_one(selector)
    size = widget.size
    strips = widget.render_lines(Region(0, 0, size.width, size.height))
    return "\n".join(strip.text.rstrip() for strip in strips).strip("\n")


async def answer_removal(pilot: Pilot, key: str) -> str:
    """Delete on the cursor's object; what the question said; then answer with key."""
    await pilot.press("delete")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmRemoval))
    await pilot.pause()
    question = text_of(pilot.app.screen, "#plan")
    await pilot.press(key)
    return question


async def test_delete_asks_then_removes_and_the_cursor_moves_to_the_next(
    ipc: IpcFactory, hold: Any
) -> None:
    tag = unique("rm")
    names = [f"/{tag}-a", f"/{tag}-b", f"/{tag}-c"]
    for name in names:
        posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()
        ipc.defer(lambda name=name: posix_ipc.unlink_shared_memory(name))
    app = ShmtopApp(interval=60)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, f"posix-shm:{names[0]}")  # the filter then shows ours only
        await pilot.press("escape")
        app.model.set_filter(tag)
        app.table.sync()
        await pilot.pause()
        assert app.model.order == [f"posix-shm:{n}" for n in names]
        app.model.move_cursor(1)
        question = await answer_removal(pilot, "n")
        assert f"posix-shm:{names[1]}" in question
        attach = app.model.context.attach
        assert attach is not None
        expected = (
            f"warning: {attach.unreadable} processes could not be inspected and may use it"
            if attach.unreadable
            else "no warnings: no process is known to use it"  # the good case is no warning
        )
        heading, note = question.splitlines()[:2]
        assert heading == f"posix-shm:{names[1]}  4K  key -  owner root"  # size, key, owner
        assert note == f"  {expected}"
        await until(pilot, lambda: not isinstance(app.screen, ConfirmRemoval))
        assert os.path.exists("/dev/shm" + names[1])  # n keeps it
        await answer_removal(pilot, "y")
        await until(pilot, lambda: isinstance(app.screen, RemovalResults))
        await pilot.pause()
        results = text_of(app.screen, "#results")
        assert f"removed posix-shm:{names[1]}" in results.splitlines()
        assert not os.path.exists("/dev/shm" + names[1])
        await pilot.press("escape")
        await until(
            pilot, lambda: app.model.order == [f"posix-shm:{names[0]}", f"posix-shm:{names[2]}"]
        )
        assert app.model.cursor == f"posix-shm:{names[2]}"  # the right neighbour


async def test_the_question_warns_about_attached_segments(ipc: IpcFactory, hold: Any) -> None:
    segment = ipc.sysv_shm()
    holder = hold(lambda: sysv_ipc.attach(segment.id))
    app = ShmtopApp(interval=60)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, f"sysv-shm:{segment.id}")
        await pilot.press("escape")
        await until(pilot, lambda: app.model.context.attach is not None)
        question = await answer_removal(pilot, "escape")
        assert f"({holder.pid})" in question
        assert "only marked for removal and vanishes after the last detach" in question
    assert sysv_ipc.SharedMemory(segment.key).id == segment.id  # Escape kept it
    holder.release()


async def press_clean(pilot: Pilot) -> str:
    """C, once the first snapshot is shown: what the clean window lists."""
    app = pilot.app
    await until(pilot, lambda: getattr(app, "snapshot", None) is not None)
    await pilot.press("C")
    await until(pilot, lambda: isinstance(app.screen, CleanChoice), timeout=20)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CleanChoice)
    return screen.text()


async def test_clean_lists_leaked_objects_with_reasons(ipc: IpcFactory) -> None:
    orphan = orphan_segment(ipc)
    app = ShmtopApp(interval=60)
    async with app.run_test(size=SIZE) as pilot:
        plan = await press_clean(pilot)
        assert re.search(rf"^\[x\] sysv-shm:{orphan}  4K  key 0x\w{{8}}  owner root\n", plan, re.M)
        assert re.search(rf"sysv-shm:{orphan}  .* owner root\n      why: nattch 0\n", plan)
        await pilot.press("n")  # this host's other leaks are not ours to remove
        await until(pilot, lambda: not isinstance(app.screen, CleanChoice))
    with open("/proc/sysvipc/shm") as segments:
        assert any(line.split()[1] == str(orphan) for line in list(segments)[1:])  # n kept it


async def test_marked_rows_are_removed_together(ipc: IpcFactory) -> None:
    tag = unique("marked")
    names = [f"/{tag}-a", f"/{tag}-b", f"/{tag}-c"]
    for name in names:
        posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096).close_fd()
        ipc.defer(lambda name=name: posix_ipc.unlink_shared_memory(name))
    refs = [f"posix-shm:{n}" for n in names]
    app = ShmtopApp(interval=60)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, refs[0])
        await pilot.press("escape")
        app.model.set_filter(tag)
        app.table.sync()
        await pilot.pause()
        app.model.move_cursor(0)
        await pilot.press("m", "down", "m")  # marks a, skips b, marks c
        assert app.model.selected == {refs[0], refs[2]}
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRemoval))
        await pilot.pause()
        question = text_of(app.screen, "#plan")
        assert refs[0] in question and refs[2] in question and refs[1] not in question
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, RemovalResults))
        await pilot.pause()
        assert text_of(app.screen, "#results").count("removed posix-shm:") == 2
        assert app.model.selected == set()
    assert [os.path.exists("/dev/shm" + n) for n in names] == [False, True, False]


def clean_with_c_then_yes() -> dict[str, Any]:
    """In a sandbox: a leaked segment and a live one; C, then y, in the real dashboard."""
    leaked = f"sysv-shm:{made_by_exited_child(lambda: orphan_segment_id(4096))}"
    live = f"sysv-shm:{orphan_segment_id(4096)}"  # made by this process, which lives on

    async def press_c_then_y() -> dict[str, Any]:
        app = ShmtopApp(interval=60)
        async with app.run_test(size=SIZE) as pilot:
            plan = await press_clean(pilot)
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, RemovalResults), timeout=20)
            await pilot.pause()
            return {"plan": plan, "results": text_of(app.screen, "#results")}

    found = asyncio.run(press_c_then_y())
    left = {o.ref for o in collect_snapshot().objects}
    return {**found, "leaked": leaked, "live": live, "left": left}


def test_c_then_y_removes_the_leaked_and_nothing_else(sandbox: Callable[..., Any]) -> None:
    found = sandbox(clean_with_c_then_yes, pid_namespace=True)
    assert found["plan"].startswith(f"[x] {found['leaked']}  4K  key 0x")
    assert "\n      why: nattch 0\n      why: creator " in found["plan"]
    assert found["live"] not in found["plan"]
    assert f"removed {found['leaked']}" in found["results"].splitlines()
    assert found["left"] == {found["live"]}


def clean_picking_one_of_two() -> dict[str, Any]:
    """In a sandbox: two leaked segments; C, unpick the first, y."""
    leaked = [f"sysv-shm:{made_by_exited_child(lambda: orphan_segment_id(4096))}"
              for _ in range(2)]  # fmt: skip

    async def pick() -> dict[str, Any]:
        app = ShmtopApp(interval=60)
        async with app.run_test(size=SIZE) as pilot:
            await press_clean(pilot)
            await pilot.press("space")  # the first is highlighted: unpicked
            screen = app.screen
            assert isinstance(screen, CleanChoice)
            shown = screen.text()
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, RemovalResults), timeout=20)
            await pilot.pause()
            return {"shown": shown, "results": text_of(app.screen, "#results")}

    found = asyncio.run(pick())
    return {**found, "leaked": leaked, "left": {o.ref for o in collect_snapshot().objects}}


def test_the_clean_window_removes_only_what_is_picked(sandbox: Callable[..., Any]) -> None:
    found = sandbox(clean_picking_one_of_two, pid_namespace=True)
    first, second = sorted(found["leaked"], key=found["shown"].index)
    assert f"[ ] {first}  4K" in found["shown"] and f"[x] {second}  4K" in found["shown"]
    assert found["results"].splitlines() == [f"removed {second}"]
    assert found["left"] == {first}
