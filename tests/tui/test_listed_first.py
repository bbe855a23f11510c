"""Where listing the objects is slow (tens of thousands), the first screen shows them before
the walk over /proc: who uses them and their verdicts pending ("?"), the views of the kinds
found in processes saying the walk is under way; the walk then fills PROCS and LEAK, and what
came with it is not highlighted as new, nor the users it found as changes."""

from __future__ import annotations

import threading
from dataclasses import replace

from shmtop.collect import NOT_SCANNED
from shmtop.model import FOUND_KINDS, Snapshot
from shmtop.tui.app import ShmtopApp
from shmtop.tui.poller import WALK_UNDER_WAY
from tests.tui.fakes import found_attach, found_objects, mess, snapshot
from tests.tui.screen import leak_cells_shown, screen_text, until, verdicts_on_screen

SIZE = (160, 40)


class SlowListing:
    """A source as the real collector is at 39,000 objects: listing takes a while (longer
    than the poller's wait for the first screen), and the walk, when asked for, waits until
    the test lets it go. Without a walk, the kinds found in processes are unavailable."""

    def __init__(self, listing_takes: float) -> None:
        self.listing_takes = listing_takes
        self.walk = threading.Event()
        self.scans = 0
        self.listed: Snapshot = snapshot(mess())
        self.listed = replace(self.listed, unavailable=dict.fromkeys(FOUND_KINDS, NOT_SCANNED))
        self.walked = replace(snapshot([*mess(), *found_objects()]), attach=found_attach())

    def __call__(self, attachers: bool = False) -> Snapshot:
        threading.Event().wait(self.listing_takes)
        if not attachers:
            return self.listed
        self.walk.wait(30)
        self.scans += 1
        return self.walked


def procs_cells(app: ShmtopApp) -> dict[str, str]:
    model = app.model
    column = next(c for c in model.columns if c.id == "procs")
    return {ref: column.cell(model.objects[ref], model.context) for ref in model.order}


async def test_a_slow_listing_is_shown_before_the_walk_which_then_fills_procs_and_leak() -> None:
    source = SlowListing(listing_takes=0.05)
    app = ShmtopApp(source=source, interval=60, kernel="6.0-test")
    app.poller.first_screen_wait = 0.05  # the listing takes as long: shown before the walk
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None)
            # The first screen: the listed objects, who uses them and their verdicts pending
            assert app.model.context.attach is None and source.scans == 0
            assert set(app.model.order) == {obj.ref for obj in mess()}
            assert set(procs_cells(app).values()) == {"?"}
            await until(pilot, lambda: set(leak_cells_shown(app).values()) == {"?"})
            # The views of the kinds found in processes say the walk is under way
            await pilot.press("8")
            await until(pilot, lambda: app.model.view.id == "pipes")
            await until(pilot, lambda: f"could not be read: {WALK_UNDER_WAY}" in screen_text(app))
            await pilot.press("9")
            await until(pilot, lambda: app.model.view.id == "mapped")
            await until(pilot, lambda: f"could not be read: {WALK_UNDER_WAY}" in screen_text(app))
            await pilot.press("1")
            await until(pilot, lambda: app.model.view.id == "all")

            source.walk.set()
            await until(pilot, lambda: verdicts_on_screen(app))
            assert source.scans == 1
            walked = {obj.ref for obj in found_objects()}
            assert walked <= set(app.model.objects)
            assert not set(app.model.unavailable) & FOUND_KINDS
            procs = procs_cells(app)
            assert "?" not in procs.values()
            assert procs["sysv-shm:1"] == "2"  # postgres and its wal writer
            # The verdicts are on screen (verdicts_on_screen): one looks leaked now
            assert leak_cells_shown(app)["sysv-shm:2"] == "yes"
            # Nothing the walk brought is new, and the users it found are no change
            assert not app.model.highlights
    finally:
        source.walk.set()  # never leave the poller's thread waiting


async def test_a_quick_listing_waits_for_the_walk() -> None:
    source = SlowListing(listing_takes=0.0)
    source.walk.set()
    app = ShmtopApp(source=source, interval=60, kernel="6.0-test")
    app.poller.first_screen_wait = 0.5
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        assert app.model.context.attach is not None  # the first screen came with the walk
        assert source.scans == 1
        assert {obj.ref for obj in found_objects()} <= set(app.model.objects)
