"""The key bar at the bottom of every screen: Textual's Footer, without its leak.

Textual 8.2's Footer rebuilds its keys whenever the focused widget's bindings change (every
time a filter or prompt line takes or gives back focus), and each key it builds registers a
watcher on the footer that is never dropped: the old keys stay in memory forever. A dashboard
left running for days must not grow, so after each rebuild the watchers of keys that are no
longer mounted are forgotten. tests/tui/test_footer.py proves the count stays bounded.
"""

from __future__ import annotations

from textual.widgets import Footer

_WATCHERS = "__watchers"  # where textual.reactive keeps the watchers bound to an object


class KeyFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self._forget_removed_watchers()

    def _forget_removed_watchers(self) -> None:
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, _WATCHERS, {})
        for bound in watchers.values():
            bound[:] = [(node, callback) for node, callback in bound if _attached(node)]


def _attached(node: object) -> bool:
    return bool(getattr(node, "is_attached", True))
