"""The Processes view lists every process that uses an object, in every way (maps, holds open,
waits on, recorded by), with its command line, escaped; and each process's objects."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot

from shmtop.collect.processes import processes_using
from shmtop.model import Attacher
from shmtop.model.roots import Roots
from shmtop.tui.app import ShmtopApp
from shmtop.tui.processes import KeyedTable, ProcessesScreen, ProcessObjectsScreen
from tests.tui.fakes import PROCFS, FakeSource, attach_map, fake_contents, mixed, snapshot
from tests.tui.screen import until

SIZE = (200, 40)


def waiting_map():
    """attach_map(), with the jobs process (5001) also blocked in msgrcv on sysv-msg:10."""
    found = attach_map()
    attachers = {**found.attachers, "sysv-msg:10": (Attacher(5001, "jobs", 65534, 0, 0, True),)}
    return replace(found, attachers=attachers)


def test_every_kind_of_use_and_the_command_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_contents(monkeypatch)  # sysv-sem:20's members: last pids 101, 102, 101
    found = processes_using(mixed(), waiting_map(), PROCFS)
    assert sorted(found) == [101, 4242, 4243, 5000, 5001]  # 102 exited, 103 is a later process
    initdb = {use.ref: use.roles for use in found[101].uses}
    assert initdb == {
        "sysv-shm:1": ("creator", "last user"),
        "sysv-sem:20": ("member 0's last user", "member 2's last user"),
    }
    assert found[101].comm == "initdb" and found[101].mapped_bytes == 0
    jobs = {use.ref: use for use in found[5001].uses}
    assert jobs["posix-mq:/jobs"].fds == 1 and jobs["sysv-msg:10"].waiting
    assert found[5001].args == (b"jobs", b"--title", b"\x1b]0;pwned\x07", b"[@click=app.quit]x")


def rows(app: ShmtopApp) -> dict[str, list[str]]:
    table = app.screen.query_one(KeyedTable)
    return {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}


async def open_processes(pilot: Pilot, app: ShmtopApp) -> None:
    await until(pilot, lambda: app.snapshot is not None)
    await pilot.press("p")
    await until(pilot, lambda: isinstance(app.screen, ProcessesScreen))
    await until(pilot, lambda: len(rows(app)) == 5)


async def test_the_view_shows_how_each_uses_ipc_and_its_escaped_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_contents(monkeypatch)
    source = FakeSource(snapshot(mixed()), waiting_map())
    app = ShmtopApp(source=source, interval=60, roots=Roots(procfs=PROCFS))
    async with app.run_test(size=SIZE) as pilot:
        await open_processes(pilot, app)
        shown = rows(app)
        assert shown["101"][1:] == [
            "initdb", "root", "2", "0B", "recorded by 2",
            "/usr/lib/postgresql/16/bin/initdb -D /var/lib/pg",
        ]  # fmt: skip
        assert shown["5001"][5:] == [
            "holds 1, waits on 1",
            "jobs --title \\x1b]0;pwned\\x07 [@click=app.quit]x",  # escaped, never markup
        ]
        assert shown["4242"][5] == "maps 1"
        table = app.screen.query_one(KeyedTable)
        table.move_cursor(row=[str(k.value) for k in table.rows].index("101"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ProcessObjectsScreen))
        await until(pilot, lambda: len(rows(app)) == 2)
        assert rows(app)["sysv-sem:20"][1:5] == [
            "0", "0", "", "member 0's last user, member 2's last user",
        ]  # fmt: skip
