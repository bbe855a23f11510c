"""At most one collection per interval, however often it is asked for: concurrent callers
wait for the one collection under way and share its result."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class OncePerInterval:
    """`get()` gives what `produce()` gave last, making it again only when that began at
    least `interval` seconds ago. One lock: a caller that finds it stale produces while the
    others wait, then they all have the fresh value."""

    def __init__(
        self,
        produce: Callable[[], bytes],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._produce = produce
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._value: bytes | None = None
        self._began = 0.0

    def get(self) -> bytes:
        with self._lock:
            now = self._clock()
            if self._value is None or now - self._began >= self._interval:
                self._began = now
                self._value = self._produce()
            return self._value
