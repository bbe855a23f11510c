"""One background thread that collects snapshots and hands each to the UI as a diff.

Polls never overlap and never run on the event loop: the thread collects, computes what was
added, changed and removed against the previous snapshot (objects a Collector reused are
identical, so unchanged ones cost an identity check), delivers the result, and waits until
the UI has taken it before polling again. The UI only ever signals the thread (wake, pause,
new interval, "scan attachers now").

Who attaches what comes from a /proc scan that costs more than the rest; it runs with a poll
at most every interval, and no more often than keeps it under a tenth of the time.

The first screen waits for that scan only on a host where listing the objects was quick: where
it took FIRST_SCREEN_WAIT or more (tens of thousands of objects), the listed objects are shown
at once (who uses them, and their verdicts, pending: "?"), and the poll with the scan follows
straight away, without waiting an interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from shmtop.clean.stale import verdicts
from shmtop.collect import NOT_SCANNED
from shmtop.model import AttachMap, IpcObject, Snapshot, Verdict

INTERVALS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
SCAN_SHARE = 10  # wait at least ten times what the last attach scan took before the next
FIRST_SCREEN_WAIT = 0.2  # s: a first listing slower than this is shown before the first scan
WALK_UNDER_WAY = "the walk over /proc that finds them is under way"

Source = Callable[[bool], Snapshot]  # source(attachers) -> snapshot


@dataclass(frozen=True)
class SnapshotDiff:
    snapshot: Snapshot
    objects: Mapping[str, IpcObject]  # by reference
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    first: bool
    attach: AttachMap | None = None  # the latest scan (maybe from an earlier poll)
    attach_changed: tuple[str, ...] = ()  # objects whose attachers changed with this poll
    users: Mapping[int, str | None] = field(default_factory=dict)  # objects' and attachers'
    verdicts: Mapping[str, Verdict] | None = None  # leak verdicts, judged with each attach scan
    judged: tuple[str, ...] = ()  # objects whose verdict is new or turned with this delivery


def attach_changes(before: AttachMap | None, after: AttachMap) -> tuple[str, ...]:
    """References whose attachers or unknown count differ between two scans."""
    if before is None:
        return tuple(after.attachers)
    refs = set(before.attachers) | set(after.attachers) | set(after.unknown)
    return tuple(
        ref
        for ref in refs
        if before.attachers.get(ref) != after.attachers.get(ref)
        or before.unknown.get(ref) != after.unknown.get(ref)
    )


def judged_anew(before: Mapping[str, Verdict], after: Mapping[str, Verdict]) -> tuple[str, ...]:
    """References whose verdict is new, or turned (between leaked, in use, unknown). Reasons alone
    (an age that grew) change no LEAK cell; the detail view shows them with each delivery."""
    return tuple(
        ref
        for ref, verdict in after.items()
        if (old := before.get(ref)) is None or old.state != verdict.state
    )


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
        source: Source,
        deliver: Callable[[SnapshotDiff], None],
        on_error: Callable[[BaseException], None],
        interval: float = 2.0,
    ) -> None:
        self._source = source
        self._attach: AttachMap | None = None
        self._attach_users: Mapping[int, str | None] = {}
        self._verdicts: Mapping[str, Verdict] | None = None
        self._unjudged: Snapshot | None = None
        self._next_scan = 0.0
        self._scan_wanted = True
        self._deliver = deliver
        self._on_error = on_error
        self.interval = interval
        self.first_screen_wait = FIRST_SCREEN_WAIT
        self._first = True  # no poll made yet
        self._scan_at_once = False  # the first screen came without a scan: scan next, now
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

    def scan_attachers_now(self) -> None:
        """Poll now, with a fresh attach scan (a detail view wants current attachers)."""
        self._scan_wanted = True
        self._wake.set()

    def taken(self) -> None:
        """The UI has applied the last diff: the next poll may be delivered."""
        self._taken.set()

    def _run(self) -> None:
        previous: Mapping[str, IpcObject] | None = None
        while not self._stop.is_set():
            if not self.paused:
                previous = self._poll_once(previous)
            if self._scan_at_once:  # once the first screen is drawn (the app says taken)
                self._scan_at_once = False
                self._taken.wait()
                continue
            self._wake.wait(self.interval)
            self._wake.clear()

    def _poll_once(
        self, previous: Mapping[str, IpcObject] | None
    ) -> Mapping[str, IpcObject] | None:
        try:
            diff = self._with_attachers(diff_snapshots(previous, self._collect()))
        except Exception as exc:  # a bug must show, and polling must go on
            self._on_error(exc)
            return previous
        self._taken.wait()
        if self._stop.is_set():
            return previous
        self._taken.clear()
        self._deliver(diff)
        if self._unjudged is not None:
            self._deliver_verdicts(diff)
        return diff.objects

    def _deliver_verdicts(self, delivered: SnapshotDiff) -> None:
        """Judge the new scan's objects once the app has shown them (the first screen does not
        wait for it), then deliver the verdicts alone, with the rows whose LEAK cell they
        change: every row at the first verdicts, then new objects and verdicts that turned."""
        snapshot, self._unjudged = self._unjudged, None
        assert snapshot is not None
        self._taken.wait()
        if self._stop.is_set():
            return
        self._taken.clear()
        before = self._verdicts or {}
        self._verdicts = verdicts(snapshot)
        diff = replace(
            delivered,
            added=(),
            changed=(),
            removed=(),
            first=False,
            attach_changed=(),
            verdicts=self._verdicts,
            judged=judged_anew(before, self._verdicts),
        )
        self._deliver(diff)

    def _collect(self) -> Snapshot:
        scan = self._scan_wanted or time.monotonic() >= self._next_scan
        if self._first:
            self._first = False
            listed = self._first_listing()
            if listed is not None:
                return listed
        started = time.monotonic()
        snapshot = self._source(scan)
        if scan:
            took = time.monotonic() - started
            self._scan_wanted = False
            self._next_scan = time.monotonic() + max(self.interval, SCAN_SHARE * took) - 0.05
        return snapshot

    def _first_listing(self) -> Snapshot | None:
        """The objects listed, without a scan, when listing them took long enough that the
        scan should not hold the first screen back (then the next poll scans, at once)."""
        started = time.monotonic()
        listed = self._source(False)
        if time.monotonic() - started < self.first_screen_wait:
            return None
        self._scan_at_once = True
        pending = {kind: WALK_UNDER_WAY if reason == NOT_SCANNED else reason
                   for kind, reason in listed.unavailable.items()}  # fmt: skip
        return replace(listed, unavailable=pending)

    def _with_attachers(self, diff: SnapshotDiff) -> SnapshotDiff:
        """The latest scan travels with every diff; a new one says what it changed."""
        found = diff.snapshot.attach
        changed: tuple[str, ...] = ()
        if found is not None:
            changed = attach_changes(self._attach, found)
            self._attach, self._attach_users = found, diff.snapshot.users
            self._unjudged = diff.snapshot  # judged once this diff is delivered
        users = {**self._attach_users, **diff.snapshot.users}
        return replace(
            diff, attach=self._attach, attach_changed=changed, users=users, verdicts=self._verdicts
        )
