"""One start of the dashboard, timed: run by bench_dashboard.py as a child process, with the
Python of the installation being timed (`--before` runs another one's), over objects the
parent created. Imports only what the dashboard needs, so its launch is the dashboard's.

Prints one JSON line: when the interpreter had imported the app, when the first screen was
drawn (the first refresh of the screen after the first snapshot was applied), when the first
leak verdicts were shown (time.monotonic(), which the parent compares with its own clock from
before the launch), the app's time to its first screen after import (what bench_dashboard.py
reports in-process), and the worst event-loop stall from the first screen until the verdicts
were shown.
"""

from __future__ import annotations

import time

launched = time.monotonic()

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from shmtop.tui.app import ShmtopApp  # noqa: E402
from shmtop.tui.poller import SnapshotDiff  # noqa: E402

SIZE = (180, 50)


class TimedApp(ShmtopApp):
    """The real app, noting when the screen was first drawn with objects (after the first
    snapshot was applied, the next refresh of the screen)."""

    drawn: float | None = None

    def apply_snapshot(self, diff: SnapshotDiff) -> None:
        super().apply_snapshot(diff)
        if diff.first:
            self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        self.drawn = time.monotonic()


async def first_screen() -> dict[str, float]:
    imported = time.monotonic()
    app = TimedApp(interval=2.0)
    started = time.monotonic()
    worst = 0.0
    async with app.run_test(size=SIZE) as pilot:
        while app.drawn is None:
            await asyncio.sleep(0.005)
        shown = app.drawn
        while app.model.context.verdicts is None:  # a 5 ms probe: how late a key would be
            probe = time.monotonic()
            await asyncio.sleep(0.005)
            worst = max(worst, time.monotonic() - probe - 0.005)
        await pilot.pause()
        judged = time.monotonic()
    return {
        "started": launched,
        "imported": imported,
        "first_screen": shown,
        "verdicts_shown": judged,
        "app_to_first_screen": shown - started,
        "stall_until_verdicts": worst,
        "objects": len(app.model.objects),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(first_screen())))
    sys.exit(0)
