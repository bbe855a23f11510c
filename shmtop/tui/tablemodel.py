"""What the object table shows, independent of any widget: rows in order, cursor, highlights.

Rows are keyed by reference. A snapshot is applied as a diff (added, changed, removed), the
order is recomputed from cached sort keys, and the cursor stays on its object; if that object
vanished it moves to the row that followed it (or, at the end, preceded it). Cell text is
computed only for rows that are drawn, and cached per object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shmtop.columns import Column, Context, namespace_of, ref_key, search_text
from shmtop.model import ALL_KINDS, IpcObject, Kind, Verdict
from shmtop.tui.cellcache import CellCache
from shmtop.tui.emptytable import nothing_shown
from shmtop.tui.highlights import Highlight, Highlights
from shmtop.tui.ordering import follow, insertion_point
from shmtop.tui.views import VIEW_BY_ID, VIEWS, View, with_namespaces


@dataclass
class TableModel:
    view: View = VIEWS[0]
    filter: str = ""
    sort_column: str = "ref"
    reverse: bool = False
    objects: Mapping[str, IpcObject] = field(default_factory=dict)
    context: Context = field(default_factory=lambda: Context({}))
    order: list[str] = field(default_factory=list)
    cursor: str | None = None
    highlights: Highlights = field(default_factory=Highlights)
    selected: set[str] = field(default_factory=set)  # rows marked for removal
    unavailable: Mapping[Kind, str] = field(default_factory=dict)  # kinds that were not read
    loaded: bool = False  # a snapshot has been applied
    namespaced: bool = False  # more than one namespace shown: a NAMESPACE column
    namespace: str | None = None  # only this namespace's rows (its name), else every one's
    _sorts: dict[str, tuple[str, bool]] = field(default_factory=dict)  # by view: column, reverse
    _index: dict[str, int] = field(default_factory=dict)
    _sort_keys: dict[str, Any] = field(default_factory=dict)
    _searchable: dict[str, str] = field(default_factory=dict)
    _cells: CellCache = field(default_factory=CellCache)
    _in_view_count: int | None = None  # objects the view holds, shown or not (None: count)

    # Reading ----------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.view.columns

    @property
    def cursor_index(self) -> int | None:
        return None if self.cursor is None else self._index.get(self.cursor)

    @property
    def total_in_view(self) -> int:
        if self._every_object:
            return len(self.objects)
        if self._in_view_count is None:  # counted once per view, then kept up by each diff
            self._in_view_count = sum(1 for obj in self.objects.values() if self.view.holds(obj))
        return self._in_view_count

    def empty_lines(self) -> list[str]:
        """What an empty table shows: that there is nothing, and what could not be read."""
        return nothing_shown(self.loaded, self.view, self.filter, self.total_in_view,
                             self.unavailable)  # fmt: skip

    def cells(self, ref: str) -> tuple[str, ...]:
        """The escaped text of each column for one row (cached while the object is unchanged)."""
        obj = self.objects[ref]
        return self._cells.get(
            ref, obj, lambda: tuple(column.cell(obj, self.context) for column in self.columns)
        )

    def highlighted(self, ref: str, now: float) -> Highlight | None:
        mark = self.highlights.get(ref)
        if mark is None or mark.until <= now:
            return None
        if mark.previous is not None:  # which cells changed is worked out for drawn rows only
            mark.columns = (mark.columns or frozenset()) | self._changed_columns(
                mark.previous, self.objects[ref]
            )
            mark.previous = None
        return mark

    # Changing ---------------------------------------------------------------------------

    def apply(
        self,
        objects: Mapping[str, IpcObject],
        context: Context,
        changes: tuple[Iterable[str], Iterable[str], Iterable[str]] | None,
        now: float,
        used_differently: Iterable[str] = (),
        *,
        judged: Iterable[str] = (),
    ) -> None:
        """Take a new set of objects. `changes` (added, changed, removed) may be given when
        known; without it every object is treated as new (the first snapshot).
        `used_differently`: objects whose attachers changed, though the objects did not.
        `judged`: objects whose leak verdict is new or turned, though the objects did not.
        Objects that come with the first walk over /proc, after a first screen without it (as
        the kinds found in processes), are not new, only known; their users are no change."""
        previous, verdicts_before = self.objects, self.context.verdicts
        first_walk = self.context.attach is None and context.attach is not None
        self.objects = objects  # the poller's fresh mapping, never changed after delivery
        self.context = context
        if changes is None:
            self._in_view_count = None
            self._sort_keys.clear()
            self._searchable.clear()
            self._reorder()
            return
        added, changed, removed = (tuple(refs) for refs in changes)
        self._count_in_view(previous, added, changed, removed)
        known = {*added, *changed}  # drawn afresh anyway: a new object's attachers are new too
        attached = tuple(ref for ref in used_differently if ref in objects and ref not in known)
        rejudged = tuple(ref for ref in judged if ref in objects and ref not in known)
        # A mark is for the object as it was when marked (a POSIX name may now be another
        # object): a change drops it. A verdict is no change to the object: it keeps it.
        self.selected.difference_update((*changed, *attached, *removed))
        if first_walk:  # what the walk brought was there before it, unknown: nothing to mark
            self._cells.drop((*changed, *attached))
        else:
            self._mark_rows(previous, added, changed, attached, now)
        self._take_verdicts(rejudged, verdicts_before, now)
        resorted = rejudged if self._sorted_by_verdict else ()
        # Who uses a row seldom moves it (only a sort by PROCS or the mark): rows whose sort
        # key stands keep their place, so the first walk's thousands of users cost no sort.
        # The reference alone cannot change with them: no key to compute again for that sort.
        turned = () if self.sort_column == "ref" else tuple(
            ref for ref in attached if self._sort_key_turned(ref)
        )  # fmt: skip
        moved = changed + turned + resorted
        if not (added or moved or removed):
            return  # the same rows: order and cursor stand
        if len(added) + len(moved) + len(removed) > max(64, len(self.order) // 20):
            for ref in (*changed, *turned, *removed):  # who uses a row is not searched
                self._forget(ref)
            self._forget_sort_keys(resorted)  # their search text stands
            self._reorder()
        else:
            self._update_rows(added, moved, removed)

    def set_namespaced(self, namespaced: bool) -> None:
        """Show (or stop showing) the NAMESPACE column: more than one namespace is read."""
        if namespaced != self.namespaced:
            self.namespaced = namespaced
            self.set_view(self.view.id)

    def narrow_to(self, namespace: str | None) -> None:
        """Only one namespace's rows (by name), or (None) every one's."""
        self.namespace = namespace
        self._reorder()

    def set_view(self, view_id: str) -> None:
        """Show another view, sorted as it was when last shown (at first, its default)."""
        self._sorts[self.view.id] = (self.sort_column, self.reverse)
        self.view = VIEW_BY_ID[view_id]
        if self.namespaced:
            self.view = with_namespaces(self.view)
        self.sort_column, self.reverse = self._sorts.get(view_id, (self.view.default_sort, False))
        self._in_view_count = None
        self._sort_keys.clear()
        self._cells.clear()
        self._reorder()

    def set_filter(self, text: str) -> None:
        self.filter = text.strip().lower()
        self._reorder()

    def sort_by(self, column_id: str) -> None:
        """Sort by a column; asking for the current sort column again reverses it."""
        if column_id == self.sort_column:
            self.reverse = not self.reverse
        else:
            self.sort_column, self.reverse = column_id, False
        self._sort_keys.clear()
        self._reorder()

    def cycle_sort(self) -> None:
        ids = [column.id for column in self.columns]
        position = ids.index(self.sort_column) if self.sort_column in ids else -1
        self.sort_column, self.reverse = ids[(position + 1) % len(ids)], False
        self._sort_keys.clear()
        self._reorder()

    def move_cursor(self, index: int) -> None:
        if self.order:
            self.cursor = self.order[max(0, min(index, len(self.order) - 1))]

    def expire_highlights(self, now: float) -> list[str]:
        """Drop highlights that ended; returns their references (rows to redraw)."""
        return self.highlights.expire(now)

    # Internals --------------------------------------------------------------------------

    def toggle_selected(self, ref: str) -> None:
        self.selected ^= {ref}

    def _forget(self, ref: str) -> None:
        """Drop a row's cached sort key and search text (computed again when needed)."""
        self._sort_keys.pop(ref, None)
        self._searchable.pop(ref, None)

    def _count_in_view(
        self,
        previous: Mapping[str, IpcObject],
        added: tuple[str, ...],
        changed: tuple[str, ...],
        removed: tuple[str, ...],
    ) -> None:
        """Keep the count of objects the view holds by the diff (a change may move an object
        in or out of a view by its rule, as a pipe that fills), not by checking every one."""
        if self._in_view_count is None:
            return
        holds, objects = self.view.holds, self.objects
        self._in_view_count += (
            sum(1 for ref in added if holds(objects[ref]))
            - sum(1 for ref in removed if holds(previous[ref]))
            + sum(holds(objects[ref]) - holds(previous[ref]) for ref in changed)
        )

    def _sort_key_turned(self, ref: str) -> bool:
        """Whether a row's sort key differs from its cached one (kept, for the caller to
        move the row by); True when none was cached."""
        old = self._sort_keys.pop(ref, None)
        if old is None:
            return True
        if self._key_of(ref) == old:
            return False
        self._sort_keys[ref] = old  # the row is placed by it: forgotten when moved
        return True

    def _forget_sort_keys(self, refs: tuple[str, ...]) -> None:
        if len(refs) >= len(self._sort_keys):
            self._sort_keys.clear()
        else:
            for ref in refs:
                self._sort_keys.pop(ref, None)

    @property
    def _sorted_by_verdict(self) -> bool:
        return any(c.verdict for c in self.columns if c.id == self.sort_column)

    def _mark_rows(
        self,
        previous: Mapping[str, IpcObject],
        added: tuple[str, ...],
        changed: tuple[str, ...],
        attached: tuple[str, ...],
        now: float,
    ) -> None:
        """Highlight new rows and changed cells; their cached cells are stale."""
        self._cells.drop((*changed, *attached))
        for ref in changed:
            if self._in_view(ref):  # else not on screen in this view
                self.highlights.changed(ref, previous[ref], now)
        for ref in attached:  # another process attached or let go: the PROCS cell changed
            if self._in_view(ref):
                self.highlights.cells(ref, frozenset({"procs"}), now)
        for ref in added:
            self.highlights.new_row(ref, now)

    def _take_verdicts(
        self, refs: tuple[str, ...], before: Mapping[str, Verdict] | None, now: float
    ) -> None:
        """Rows judged anew draw their LEAK cell again; one whose verdict turned (stale to in
        use, or back) is highlighted. The first verdicts, for every row at once, empty the
        cell cache (only drawn rows are computed again) and highlight nothing."""
        self._cells.drop(refs)
        after = self.context.verdicts
        if before is None or after is None:
            return
        for ref in refs:
            old, new = before.get(ref), after.get(ref)
            if (
                old is not None
                and new is not None
                and old.state != new.state
                and self._in_view(ref)
            ):
                self.highlights.cells(ref, frozenset({"leak"}), now)

    @property
    def _every_object(self) -> bool:
        return len(self.view.kinds) == len(ALL_KINDS) and self.view.shows is None

    def _in_view(self, ref: str) -> bool:
        return self.view.holds(self.objects[ref])

    def _changed_columns(self, old: IpcObject, new: IpcObject) -> frozenset[str]:
        return frozenset(
            column.id
            for column in self.columns
            if column.cell(old, self.context) != column.cell(new, self.context)
        )

    def _visible(self, ref: str, obj: IpcObject) -> bool:
        if not self.view.holds(obj):
            return False
        if self.namespace is not None and namespace_of(obj, self.context) != self.namespace:
            return False
        if not self.filter:
            return True
        text = self._searchable.get(ref)
        if text is None:
            text = self._searchable[ref] = search_text(obj, self.context)
        return self.filter in text

    def _shown(self) -> list[str]:
        if self.filter or self.namespace is not None:
            return [ref for ref, obj in self.objects.items() if self._visible(ref, obj)]
        if self._every_object:
            return list(self.objects)
        return [ref for ref, obj in self.objects.items() if self.view.holds(obj)]

    def _fill_sort_keys(self, refs: list[str]) -> None:
        """Sort keys for rows that have none yet (new, changed, or after a sort change)."""
        keys = self._sort_keys
        column = next(c for c in self.columns if c.id == self.sort_column)
        objects, context = self.objects, self.context
        if column.order is ref_key:  # by reference: its key once, not once more to break ties
            for ref in refs:
                if ref not in keys:
                    key = ref_key(objects[ref])
                    keys[ref] = (key, key)
            return
        for ref in refs:
            if ref not in keys:
                obj = objects[ref]
                keys[ref] = (column.sort(obj, context), ref_key(obj))

    def _key_of(self, ref: str) -> Any:
        self._fill_sort_keys([ref])
        return self._sort_keys[ref]

    def _update_rows(
        self, added: tuple[str, ...], changed: tuple[str, ...], removed: tuple[str, ...]
    ) -> None:
        """Place a few changed rows without sorting them all: a row whose sort key and
        visibility did not change stays where it is; others leave and are inserted anew."""
        old_order, old_cursor = self.order, self.cursor
        leaving = {ref for ref in removed if ref in self._index}
        for ref in removed:
            self._forget(ref)
        arriving = [ref for ref in added if self._visible(ref, self.objects[ref])]
        for ref in changed:
            old_key = self._sort_keys.get(ref)
            self._forget(ref)
            shown = self._visible(ref, self.objects[ref])
            if ref in self._index and shown and self._key_of(ref) == old_key:
                continue
            if ref in self._index:
                leaving.add(ref)
            if shown:
                arriving.append(ref)
        if not (leaving or arriving):
            return  # every row kept its place
        order = [ref for ref in old_order if ref not in leaving] if leaving else old_order[:]
        keys = self._sort_keys
        for ref in arriving:
            order.insert(insertion_point(order, keys, self._key_of(ref), self.reverse), ref)
        self.order = order
        self._index = {ref: i for i, ref in enumerate(order)}
        self.cursor = follow(old_cursor, old_order, self._index, order)

    def _reorder(self) -> None:
        old_order, old_cursor = self.order, self.cursor
        shown = self._shown()
        self._fill_sort_keys(shown)
        shown.sort(key=self._sort_keys.__getitem__, reverse=self.reverse)
        self.order = shown
        self._index = {ref: i for i, ref in enumerate(shown)}
        self.cursor = follow(old_cursor, old_order, self._index, shown)
