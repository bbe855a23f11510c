"""Finding bytes in an object of any size: chunked, cancellable, with progress.

Chunks overlap by the pattern's length less one byte, so a match that straddles two chunks
is found; memory use is one chunk whatever the object's size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from shmtop.inspect.pages import Read

CHUNK = 1 << 20

Progress = Callable[[int, int], None]  # (bytes searched, bytes to search)


class Cancelled(Exception):
    """The search was stopped before it finished."""


@dataclass
class Search:
    """One pattern over one object; `find` may be called again for the next match."""

    read: Read
    size: int
    pattern: bytes
    progress: Progress | None = None
    chunk: int = CHUNK
    cancel: threading.Event = field(default_factory=threading.Event)
    _done: int = 0

    def find(self, start: int) -> int | None:
        """Offset of the first match at or after `start`, wrapping round to the beginning."""
        start = min(max(start, 0), self.size)
        self._done = 0
        for low, high in ((start, self.size), (0, start)):
            hit = self._find_in(low, high)
            if hit is not None:
                return hit
        return None

    def _find_in(self, low: int, high: int) -> int | None:
        """First match starting in [low, high) (it may end past high)."""
        overlap = len(self.pattern) - 1
        position = low
        while position < high:
            if self.cancel.is_set():
                raise Cancelled
            step = min(self.chunk, high - position)
            data = self.read(position, min(step + overlap, self.size - position))
            hit = data.find(self.pattern, 0, step + overlap)
            if 0 <= hit < step:
                return position + hit
            if len(data) < step:
                return None  # the object shrank
            position += step
            self._searched(step)
        return None

    def _searched(self, count: int) -> None:
        self._done += count
        if self.progress is not None:
            self.progress(self._done, self.size)
