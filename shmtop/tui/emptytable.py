"""What an empty table says: that there is nothing (or what the filter hides), and which of
its kinds could not be read. No Textual here."""

from __future__ import annotations

from collections.abc import Mapping

from shmtop.model import ALL_KINDS, Kind
from shmtop.tui.views import View


def nothing_shown(
    loaded: bool, view: View, filter: str, total: int, unavailable: Mapping[Kind, str]
) -> list[str]:
    """The lines an empty table shows; `total`: objects of the view, shown or not."""
    if not loaded:
        return ["reading…"]
    every = len(view.kinds) == len(ALL_KINDS)
    title = "IPC objects" if every else f"{view.title} objects"
    if filter and total:
        lines = [
            f"nothing matches the filter {filter!r}",
            f"{total} {title} hidden: / then Escape clears the filter",
        ]
    else:
        lines = [f"no {title}: there is nothing {'' if every else 'of this kind '}here"]
        if view.note:
            lines.append(view.note)
    unread = [kind for kind in ALL_KINDS if kind in view.kinds and kind in unavailable]
    return lines + [f"{kind} could not be read: {unavailable[kind]}" for kind in unread]
