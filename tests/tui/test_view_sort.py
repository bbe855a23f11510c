"""The sort chosen in a view is still there after looking at other views."""

from __future__ import annotations

from shmtop.tui.app import ShmtopApp
from tests.tui.fakes import shm
from tests.tui.test_app import SIZE, make_app, started, table_lines


def header(app: ShmtopApp) -> str:
    return table_lines(app)[0]


async def test_a_views_sort_survives_switching_to_a_view_without_its_column() -> None:
    app, _ = make_app([shm(1, size=300), shm(2, size=100), shm(3, size=200)])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("2")
        size_x = app.table.column_offset("size") + 1
        await pilot.click("#objects", offset=(size_x, 0))
        await pilot.click("#objects", offset=(size_x, 0))
        assert "SIZE ▼" in header(app)
        await pilot.press("4")  # semaphore sets: no SIZE column
        assert "ID ▲" in header(app)
        await pilot.press("2")
        assert "SIZE ▼" in header(app)
        assert app.model.order == ["sysv-shm:1", "sysv-shm:3", "sysv-shm:2"]
        await pilot.press("1")
        assert "REF ▲" in header(app)  # the all-objects view kept its own
