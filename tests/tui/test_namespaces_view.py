"""The dashboard over every namespace, for real: two `unshare` boxes (tests/boxes.py)
each with a segment, a queue, a /dev/shm file and a POSIX queue of the same id or name. Each
row says its namespace, `n` narrows the table and the meters to one namespace and back, and a
box's file shows the box's bytes, not the host's of the same name."""

from __future__ import annotations

from textual.pilot import Pilot

from shmtop.collect.everywhere import Everywhere, collect_everywhere
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.hexscreen import HexScreen
from shmtop.tui.overview import LimitsOverview
from tests.boxes import KINDS, Box
from tests.tui.screen import screen_text, until
from tests.tui.test_app import make_app, started

SIZE = (200, 50)


def app_over_every_namespace() -> ShmtopApp:
    source = Everywhere()
    return ShmtopApp(source=source.collect, interval=60,
                     fresh=lambda: collect_everywhere(attachers=True))  # fmt: skip


async def loaded(pilot: Pilot, app: ShmtopApp, boxes: list[Box]) -> None:
    await until(pilot, lambda: app.snapshot is not None, timeout=20)
    names = {ns.title for ns in app.snapshot.namespaces} if app.snapshot else set()
    assert all(any(name.startswith(box.tag) for name in names) for box in boxes), names
    await until(pilot, lambda: "NAMESPACE" in screen_text(app))  # drawn


def box_name(app: ShmtopApp, box: Box) -> str:
    assert app.snapshot is not None
    (name,) = [ns.title for ns in app.snapshot.namespaces if ns.title.startswith(box.tag)]
    return name


async def narrowed_to(pilot: Pilot, app: ShmtopApp, name: str | None) -> None:
    for _ in range(len(app.snapshot.namespaces) + 1 if app.snapshot else 0):
        if app.model.namespace == name:
            return
        await pilot.press("n")
    assert app.model.namespace == name


async def test_each_row_says_its_namespace_and_n_narrows_to_one(boxes: list[Box]) -> None:
    app = app_over_every_namespace()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, boxes)
        await until(pilot, lambda: "n Namespace" in screen_text(app))  # the key bar has it
        overview = app.query_one(LimitsOverview)
        fullest = overview._items[-1]  # a container's /dev/shm, as a host's meters never show
        assert fullest.key == "fullest.dev-shm.bytes" and fullest.label.startswith("box-")
        name = box_name(app, boxes[0])
        await narrowed_to(pilot, app, name)
        await pilot.pause()
        kinds = sorted(app.model.objects[ref].kind for ref in app.model.order)
        assert kinds == KINDS
        assert f"in {name}" in screen_text(app)  # the header says where
        assert overview._usage["dev-shm.bytes"].limit == 8 << 20  # the box's own /dev/shm
        await narrowed_to(pilot, app, None)
        shown = {app.model.objects[ref].ns for ref in app.model.order}
        assert len(shown) >= 3  # the host's, and each box's (IPC and /dev/shm labels)


async def test_a_box_s_file_shows_the_box_s_bytes(boxes: list[Box]) -> None:
    app = app_over_every_namespace()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, boxes)
        await narrowed_to(pilot, app, box_name(app, boxes[1]))
        await pilot.pause()
        (ref,) = [r for r in app.model.order if app.model.objects[r].kind == "posix-shm"]
        app.model.cursor = ref
        app.table.sync()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, HexScreen))
        await until(pilot, lambda: boxes[1].tag[:8] in screen_text(app))  # its ASCII column


async def test_with_one_namespace_there_is_no_namespace_key_or_column() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        shown = screen_text(app)
        assert "NAMESPACE" not in shown and "Namespace" not in shown
        before = list(app.model.order)
        await pilot.press("n")
        assert app.model.namespace is None and app.model.order == before
