"""The key bar does not keep the keys it rebuilt (Textual's Footer does: shmtop/tui/footer.py)."""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from tests.tui.test_app import make_app, started


def live_footer_keys() -> int:
    gc.collect()
    return sum(isinstance(o, FooterKey) for o in gc.get_objects())


async def test_focus_changes_rebuild_the_keys_without_keeping_the_old_ones() -> None:
    app, _ = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await started(pilot)
        for _ in range(3):  # the filter line takes focus, then gives it back: two rebuilds
            await pilot.press("slash", "escape")
            await pilot.pause()
        settled = live_footer_keys()
        for _ in range(8):
            await pilot.press("slash", "escape")
            await pilot.pause()
        assert live_footer_keys() <= settled
        mounted = len(app.screen.query(FooterKey))
        assert mounted > 5 and settled <= mounted + 5
