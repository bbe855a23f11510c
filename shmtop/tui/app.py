"""ShmtopApp: the live dashboard over the collector."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Tab, Tabs

from shmtop.collect import Collector, Roots
from shmtop.collect.everywhere import places_of
from shmtop.columns import Context, namespace_names
from shmtop.model import ALL_KINDS, Snapshot
from shmtop.names import escape_text as plain_name
from shmtop.tui.commands import CommandActions
from shmtop.tui.detail import DetailScreen
from shmtop.tui.filter import FilterInput
from shmtop.tui.footer import KeyFooter
from shmtop.tui.header import HeaderBar
from shmtop.tui.overview import LimitsOverview
from shmtop.tui.poller import INTERVALS, Poller, SnapshotDiff
from shmtop.tui.processes import (
    Gathering,
    ObjectChosen,
    ProcessesScreen,
    ProcessObjectsScreen,
)
from shmtop.tui.removing import RemovalActions
from shmtop.tui.safe import tell
from shmtop.tui.spaces import fullest_dev_shm
from shmtop.tui.table import ObjectTable
from shmtop.tui.tablemodel import TableModel
from shmtop.tui.views import VIEWS, View
from shmtop.tui.waiting import WaitingScreen

Source = Callable[[bool], Snapshot]  # source(attachers) -> snapshot


def _settle_garbage_collector() -> None:
    """Keep the cyclic collector off what is already alive (the app, the first snapshot).

    Snapshots are acyclic, so reference counting frees them; but with tens of thousands of
    them (and Textual's own objects) alive, each full collection walks everything, stalling
    the event loop for tens of ms and doubling the time of the first, cold poll.
    """
    gc.collect()
    gc.freeze()


class SnapshotReady(Message):
    def __init__(self, diff: SnapshotDiff) -> None:
        super().__init__()
        self.diff = diff


class PollFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def _changes_rows(diff: SnapshotDiff) -> bool:
    """Whether a diff changes what any row shows (else the table need not be drawn again)."""
    news = (diff.added, diff.changed, diff.removed, diff.attach_changed, diff.judged)
    return diff.first or any(news)


def _view_meaning(view: View) -> str:
    if view.meaning:
        return view.meaning
    return "Every object, of all kinds" if view.title == "All" else f"Only {view.title} objects"


def _view_bindings() -> list[BindingType]:
    return [
        Binding(
            str(i),
            f"view('{view.id}')",
            f"View: {view.title}",
            show=False,
            id=f"app.view.{view.id}",
            tooltip=_view_meaning(view),
        )
        for i, view in enumerate(VIEWS, start=1)
    ]


class ShmtopApp(RemovalActions, CommandActions):
    TITLE = "shmtop"
    CSS = """
    Screen { layout: vertical; }
    #views { height: 1; }
    #views Underline { display: none; }
    #objects { height: 1fr; }
    """
    BINDINGS = [
        Binding("q,f10", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key"),
        # priority: handled as the key arrives, so the keys typed next find the filter line
        # focused (otherwise each is routed to the table while "/" waits in its queue)
        Binding("slash,f4", "filter", "Filter", id="app.filter", priority=True,
                tooltip="Show rows matching a reference, name, key or owner"),
        Binding("s,f6", "sort_next", "Sort", id="app.sort", tooltip="Sort by the next column"),
        Binding("r", "sort_reverse", "Reverse", id="app.reverse", tooltip="Reverse the order"),
        Binding("space", "pause", "Pause", id="app.pause", tooltip="Stop or resume refreshing"),
        Binding("plus", "interval(1)", "Slower", id="app.slower", tooltip="Refresh less often"),
        Binding("minus", "interval(-1)", "Faster", id="app.faster", tooltip="Refresh more often"),
        Binding("f5", "refresh_now", "Refresh", show=False, id="app.refresh",
                tooltip="Collect a snapshot now"),
        Binding("delete,f9", "remove", "Remove", id="app.remove",
                tooltip="Remove the marked rows, else the row under the cursor; asks first"),
        Binding("C", "clean", "Clean", id="app.clean",
                tooltip="Find what looks leaked, with why; pick what to remove"),
        Binding("p", "processes", "Processes", id="app.processes",
                tooltip="Processes using IPC, and what each uses"),
        Binding("w", "waiting", "Waiting", id="app.waiting",
                tooltip="Processes blocked on an object: the call each sleeps in, and on what"),
        Binding("L", "toggle_limits", "Limits", show=False, id="app.limits",
                tooltip="Show or hide the limit meters (more rows for the table)"),
        Binding("n", "next_namespace", "Namespace", id="app.namespace",
                tooltip="Only the next namespace's (container's) rows and meters, then all"),
        *_view_bindings(),
    ]  # fmt: skip
    MAIN_SCREEN_ACTIONS = frozenset(
        {"filter", "sort_next", "sort_reverse", "view", "processes", "waiting", "remove",
         "clean", "next_namespace"}
    )  # fmt: skip

    def __init__(
        self,
        source: Source | None = None,
        interval: float = 2.0,
        roots: Roots | None = None,
        keymap: Mapping[str, str] | None = None,
        kernel: str | None = None,
        *,
        backup_dir: str | None = None,
        fresh: Callable[[], Snapshot] | None = None,
    ) -> None:
        super().__init__()
        self.kernel = kernel
        self.roots = roots or Roots()
        self.backup_dir = backup_dir
        # Every kind: those found in processes (pipes, memfd, mappings) come with each walk
        # over /proc, and stay as the last walk found them between walks
        self.source: Source = source or Collector(self.roots, ALL_KINDS).collect
        # A snapshot of its own, with who uses what, for the clean window (the source's
        # Collectors belong to the poller's thread)
        self.fresh = fresh or (lambda: Collector(self.roots).collect(attachers=True))
        self.model = TableModel()
        self.keymap = dict(keymap or {})
        self.snapshot: Snapshot | None = None
        self.poller = Poller(self.source, self._deliver, self._failed, interval)

    # Layout and lifecycle ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield LimitsOverview(id="overview")
        yield Tabs(*(Tab(view.title, id=view.id) for view in VIEWS), id="views")
        yield ObjectTable(self.model, id="objects")
        yield FilterInput(placeholder="filter: reference, name, key, owner", id="filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.header.interval = self.poller.interval
        if self.kernel is not None:
            self.header.kernel = self.kernel
        self.table.focus()
        self._highlight_timer = self.set_interval(0.5, self._expire_highlights)
        _settle_garbage_collector()  # the widgets exist: the first poll should not walk them
        self.poller.start()

    def on_unmount(self) -> None:
        self._highlight_timer.stop()
        self.poller.stop()

    @property
    def header(self) -> HeaderBar:
        return self.query_one(HeaderBar)

    @property
    def table(self) -> ObjectTable:
        return self.query_one(ObjectTable)

    # Snapshots --------------------------------------------------------------------------

    def _deliver(self, diff: SnapshotDiff) -> None:  # called in the poller thread
        self.post_message(SnapshotReady(diff))

    def _failed(self, error: BaseException) -> None:  # called in the poller thread
        self.post_message(PollFailed(error))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.apply_snapshot(message.diff)

    def apply_snapshot(self, diff: SnapshotDiff) -> None:
        """Show a new snapshot (a plain method: Textual calls every class's on_* handler)."""
        self.snapshot = diff.snapshot
        changes = None if diff.first else (diff.added, diff.changed, diff.removed)
        judged_anew = diff.verdicts is not self.model.context.verdicts
        places = diff.snapshot.namespaces
        names = namespace_names(places) if len(places) > 1 else None
        context = Context(diff.users, diff.attach, diff.verdicts, names)
        columns_changed = self.model.namespaced != (names is not None)
        if columns_changed:
            self.model.set_namespaced(names is not None)
            self.refresh_bindings()  # the namespace key shows only with namespaces
        if self.model.namespace not in (None, *(ns.title for ns in places)):
            self.model.narrow_to(None)  # that namespace ended
        now = time.monotonic()
        first_walk = self.model.context.attach is None and diff.attach is not None
        self.model.unavailable, self.model.loaded = diff.snapshot.unavailable, True
        self.model.apply(
            diff.objects, context, changes, now, diff.attach_changed, judged=diff.judged
        )
        self._show_overview()
        self._show_counts(diff.snapshot.host, diff.snapshot.time)
        rows_changed = _changes_rows(diff)
        if rows_changed or columns_changed:
            self.table.sync()
        if rows_changed or judged_anew:  # a detail view shows the verdict's reasons too
            self._update_screens()
        if diff.first:
            _settle_garbage_collector()
        if diff.first or first_walk:
            # What the poller does next (the walk over /proc, if this came without it; the
            # leak verdicts) must not hold the GIL while this is drawn: once drawn, it may
            self.call_after_refresh(self.poller.taken)
        else:
            self.poller.taken()

    def on_poll_failed(self, message: PollFailed) -> None:
        tell(self, f"collecting failed: {message.error!r}", "error")
        self.poller.taken()

    def _show_counts(self, host: str | None = None, taken_at: float | None = None) -> None:
        header = self.header
        if host is not None:
            header.host, header.taken_at = host, taken_at
        header.shown, header.total = len(self.model.order), self.model.total_in_view
        header.filter, header.namespace = self.model.filter, self.model.namespace
        header.refresh()

    def _show_overview(self) -> None:
        """The meters of the namespace the table is narrowed to, else the host's with the
        fullest other /dev/shm (a container's) as one more."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        overview = self.query_one(LimitsOverview)
        chosen = [ns for ns in snapshot.namespaces if ns.title == self.model.namespace]
        if chosen and chosen[0].limits is not None:
            overview.show(chosen[0].usage, chosen[0].unavailable)
        else:
            overview.show(snapshot.usage, snapshot.unavailable, fullest_dev_shm(snapshot))

    def places(self) -> dict[str, Roots]:
        """Where the objects of each namespace shown are read, by label ("": shmtop's own)."""
        namespaces = self.snapshot.namespaces if self.snapshot is not None else ()
        return {"": self.roots, **places_of(self.roots, namespaces)}

    def action_next_namespace(self) -> None:
        """Narrow the table (and the meters) to the next namespace; after the last, all."""
        if self.snapshot is None:
            return
        names = [ns.title for ns in self.snapshot.namespaces]
        current = self.model.namespace
        following = names.index(current) + 1 if current in names else 0
        self.model.narrow_to(names[following] if following < len(names) else None)
        self._after_reorder()
        self._show_overview()
        tell(self, f"namespace: {plain_name(self.model.namespace or 'all')}")

    def _update_screens(self) -> None:
        """The screen on top, if it shows data, shows the latest."""
        screen, context = self.screen, self.model.context
        if self.snapshot is None:
            return
        if isinstance(screen, DetailScreen):
            screen.show(self.model.objects.get(screen.ref), context)
        elif isinstance(screen, Gathering):  # the Processes and Waiting views
            screen.show(context.attach, self.model.objects, context.users)

    def _expire_highlights(self) -> None:
        if self.model.expire_highlights(time.monotonic()):
            self.table.refresh()

    # Actions ----------------------------------------------------------------------------

    def action_view(self, view_id: str) -> None:
        self.query_one(Tabs).active = view_id

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id != self.model.view.id:
            self.model.set_view(event.tab.id)
            self._after_reorder()
        if self.focused is None or isinstance(self.focused, Tabs):
            self.table.focus()  # a click on a tab; never away from the filter line (the first
            # tab's activation arrives after mount, when "/" may already have opened it)

    def action_sort_next(self) -> None:
        self.model.cycle_sort()
        self._after_reorder()

    def action_sort_reverse(self) -> None:
        self.model.sort_by(self.model.sort_column)
        self._after_reorder()

    def on_object_table_header_clicked(self, event: ObjectTable.HeaderClicked) -> None:
        self.model.sort_by(event.column_id)
        self._after_reorder()

    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    @on(FilterInput.Changed, "#filter")
    def _filter_changed(self, event: FilterInput.Changed) -> None:
        """Only the filter line filters: the hex view's prompts are Inputs too, and their
        Changed messages bubble up to the app."""
        self.model.set_filter(event.value)
        self._after_reorder()

    def _after_reorder(self) -> None:
        self.table.sync()
        self._show_counts()

    def action_pause(self) -> None:
        self.poller.paused = not self.poller.paused
        self.header.paused = self.poller.paused
        self.header.refresh()
        if not self.poller.paused:
            self.poller.wake()

    def action_interval(self, step: int) -> None:
        position = min(
            range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - self.poller.interval)
        )
        self.poller.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, position + step))]
        self.header.interval = self.poller.interval
        if self.kernel is not None:
            self.header.kernel = self.kernel
        self.header.refresh()
        self.poller.wake()

    def action_refresh_now(self) -> None:
        self.poller.wake()

    def action_toggle_limits(self) -> None:
        overview = self.query_one(LimitsOverview)
        overview.display = not overview.display

    def on_object_table_opened(self, event: ObjectTable.Opened) -> None:
        self._open(DetailScreen(event.ref, self.places()))

    def on_object_chosen(self, event: ObjectChosen) -> None:
        """Enter on an object in the screens over processes (what one uses, who waits)."""
        self._open(DetailScreen(event.ref, self.places()))

    def action_processes(self) -> None:
        self._open(ProcessesScreen(self.roots.procfs))

    def action_waiting(self) -> None:
        self._open(WaitingScreen(self.roots.procfs))

    def on_processes_screen_chosen(self, event: ProcessesScreen.Chosen) -> None:
        self._open(ProcessObjectsScreen(event.pid, self.roots.procfs))

    def _open(self, screen: Screen[None]) -> None:
        """Show a screen with the data already here, and ask for current attachers."""
        self.push_screen(screen)
        self.call_after_refresh(self._update_screens)
        self.poller.scan_attachers_now()
