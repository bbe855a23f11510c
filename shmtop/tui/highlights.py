"""Rows and cells highlighted for a moment after they change (no Textual here)."""

from __future__ import annotations

from dataclasses import dataclass

from shmtop.model import IpcObject

HIGHLIGHT_SECONDS = 3.0


@dataclass
class Highlight:
    until: float
    columns: frozenset[str] | None  # None: the whole row (a new object)
    previous: IpcObject | None = None  # changed rows: compared with the new one when drawn


class Highlights(dict[str, Highlight]):
    """Highlights by reference: new rows, changed objects, and cells of unchanged objects."""

    def new_row(self, ref: str, now: float) -> None:
        self[ref] = Highlight(now + HIGHLIGHT_SECONDS, None)

    def changed(self, ref: str, previous: IpcObject, now: float) -> None:
        """Which cells changed is worked out when the row is drawn (few rows are)."""
        self[ref] = Highlight(now + HIGHLIGHT_SECONDS, frozenset(), previous)

    def cells(self, ref: str, columns: frozenset[str], now: float) -> None:
        """Some cells of an unchanged object (another process attached, a verdict turned),
        added to any highlight the row has."""
        mark = self.get(ref)
        if mark is None:
            self[ref] = Highlight(now + HIGHLIGHT_SECONDS, columns)
        elif mark.columns is not None:  # None: the whole row is new, highlighted already
            mark.columns |= columns
            mark.until = now + HIGHLIGHT_SECONDS

    def expire(self, now: float) -> list[str]:
        """Drop highlights that ended; returns their references (rows to redraw)."""
        ended = [ref for ref, mark in self.items() if mark.until <= now]
        for ref in ended:
            del self[ref]
        return ended
