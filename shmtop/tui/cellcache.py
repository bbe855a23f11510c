"""The text of the cells of rows drawn lately, kept while their object stays the same.

Only drawn rows have cells computed, so a table of 39,000 rows keeps a few thousand at most.
What a cell reads besides its object (attachers, leak verdicts) is the model's to invalidate.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection

from shmtop.model import IpcObject

Cells = tuple[str, ...]


class CellCache:
    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._rows: OrderedDict[str, tuple[IpcObject, Cells]] = OrderedDict()

    def get(self, ref: str, obj: IpcObject, compute: Callable[[], Cells]) -> Cells:
        cached = self._rows.get(ref)
        if cached is not None and cached[0] is obj:
            self._rows.move_to_end(ref)
            return cached[1]
        cells = compute()
        self._rows[ref] = (obj, cells)
        if len(self._rows) > self._size:
            self._rows.popitem(last=False)
        return cells

    def drop(self, refs: Collection[str]) -> None:
        """Forget these rows' cells (all of them at once when that is cheaper)."""
        if len(refs) >= len(self._rows):
            self._rows.clear()
            return
        for ref in refs:
            self._rows.pop(ref, None)

    def clear(self) -> None:
        self._rows.clear()
