"""One background thread that collects snapshots and hands each to the UI as a diff.

Polls never overlap and never run on the event loop: the thread collects, computes what was
added, changed and removed against the previous snapshot (objects a Collector reused are
identical, so unchanged ones cost an identity check), delivers the result, and waits until
the UI has taken it before polling again. The UI only ever signals the thread (wake, pause,
new interval).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shmtop.model import IpcObject, Snapshot

INTERVALS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class SnapshotDiff:
    snapshot: Snapshot
    objects: Mapping[str, IpcObject]  # by reference
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    first: bool


def diff_snapshots(previous: Mapping[str, IpcObject] | None, snapshot: Snapshot) -> SnapshotDiff:
    objects = {obj.ref: obj for obj in snapshot.objects}
    if previous is None:
        return SnapshotDiff(snapshot, objects, tuple(objects), (), (), True)
    added, changed = [], []
    for ref, obj in objects.items():
        old = previous.get(ref)
        if old is None:
            added.append(ref)
        elif old is not obj and old != obj:
            changed.append(ref)
    removed = tuple(previous.keys() - objects.keys())
    return SnapshotDiff(snapshot, objects, tuple(added), tuple(changed), removed, False)


class Poller:
    """Calls `source()` every `interval` seconds in its own thread and `deliver`s diffs."""

    def __init__(
        self,
        source: Callable[[], Snapshot],
        deliver: Callable[[SnapshotDiff], None],
        on_error: Callable[[BaseException], None],
        interval: float = 2.0,
    ) -> None:
        self._source = source
        self._deliver = deliver
        self._on_error = on_error
        self.interval = interval
        self.paused = False
        self._wake = threading.Event()
        self._taken = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shmtop-poller", daemon=True)

    def start(self) -> None:
        self._taken.set()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._taken.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def wake(self) -> None:
        """Poll now (after an interval change, or on demand)."""
        self._wake.set()

    def taken(self) -> None:
        """The UI has applied the last diff: the next poll may be delivered."""
        self._taken.set()

    def _run(self) -> None:
        previous: Mapping[str, IpcObject] | None = None
        while not self._stop.is_set():
            if not self.paused:
                previous = self._poll_once(previous)
            self._wake.wait(self.interval)
            self._wake.clear()

    def _poll_once(
        self, previous: Mapping[str, IpcObject] | None
    ) -> Mapping[str, IpcObject] | None:
        try:
            diff = diff_snapshots(previous, self._source())
        except Exception as exc:  # a bug must show, and polling must go on
            self._on_error(exc)
            return previous
        self._taken.wait()
        if self._stop.is_set():
            return previous
        self._taken.clear()
        self._deliver(diff)
        return diff.objects
