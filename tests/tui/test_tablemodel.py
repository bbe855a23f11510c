"""The table model alone: order, cursor that follows its object, highlights, filter, sort."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shmtop.columns import Context
from shmtop.model import Endpoint, IpcObject, Kind, Pipe, Verdict
from shmtop.tui.highlights import HIGHLIGHT_SECONDS
from shmtop.tui.poller import diff_snapshots
from shmtop.tui.tablemodel import TableModel
from tests.tui.fakes import mixed, msg, pshm, shm, snapshot

ROOT = Context({0: "root"})


def by_ref(objects: list[IpcObject]) -> dict[str, IpcObject]:
    return {obj.ref: obj for obj in objects}


def loaded(objects: list[IpcObject]) -> TableModel:
    model = TableModel()
    model.apply(by_ref(objects), ROOT, None, now=0.0)
    return model


def test_all_view_lists_every_kind_sorted_by_reference() -> None:
    model = loaded(mixed())
    assert model.order[:3] == ["sysv-shm:1", "sysv-shm:2", "sysv-shm:3"]
    assert model.order[-1] == "posix-mq:/jobs"
    assert len(model.order) == len(mixed())
    assert model.cursor == "sysv-shm:1"


def test_ids_sort_as_numbers_not_text() -> None:
    model = loaded([shm(100), shm(9), shm(10)])
    assert model.order == ["sysv-shm:9", "sysv-shm:10", "sysv-shm:100"]


def test_cursor_stays_on_its_object_when_rows_are_inserted_above() -> None:
    model = loaded([shm(5), shm(6), shm(7)])
    model.move_cursor(1)
    assert model.cursor == "sysv-shm:6"
    objects = by_ref([shm(1), shm(2), shm(5), shm(6), shm(7)])
    model.apply(objects, ROOT, (["sysv-shm:1", "sysv-shm:2"], [], []), now=1.0)
    assert (model.cursor, model.cursor_index) == ("sysv-shm:6", 3)


def test_cursor_moves_to_the_next_row_when_its_object_vanishes() -> None:
    model = loaded([shm(5), shm(6), shm(7)])
    model.move_cursor(1)
    model.apply(by_ref([shm(5), shm(7)]), ROOT, ([], [], ["sysv-shm:6"]), now=1.0)
    assert model.cursor == "sysv-shm:7"


def test_cursor_moves_to_the_previous_row_when_the_last_row_vanishes() -> None:
    model = loaded([shm(5), shm(6), shm(7)])
    model.move_cursor(2)
    model.apply(by_ref([shm(5), shm(6)]), ROOT, ([], [], ["sysv-shm:7"]), now=1.0)
    assert model.cursor == "sysv-shm:6"


def test_cursor_follows_its_object_across_a_resort() -> None:
    model = loaded([shm(1, size=300), shm(2, size=100), shm(3, size=200)])
    model.move_cursor(0)
    model.sort_by("size")
    assert model.order == ["sysv-shm:2", "sysv-shm:3", "sysv-shm:1"]
    assert model.cursor == "sysv-shm:1"
    model.sort_by("size")  # the same column again reverses
    assert model.order == ["sysv-shm:1", "sysv-shm:3", "sysv-shm:2"]
    assert model.reverse


def test_unknown_values_sort_after_known_ones_across_kinds() -> None:
    model = loaded([msg(1, cbytes=5), shm(2, size=50), pshm(b"/a", 7)])
    model.sort_by("use")
    assert model.order[-1] == "posix-shm:/a"  # no use figure for a POSIX shm object


def test_changed_cells_and_new_rows_are_highlighted_for_a_moment() -> None:
    model = loaded([shm(1), shm(2)])
    objects = by_ref([shm(1, nattch=4), shm(2), shm(3)])
    model.apply(objects, ROOT, (["sysv-shm:3"], ["sysv-shm:1"], []), now=10.0)
    changed = model.highlighted("sysv-shm:1", now=10.5)
    assert changed is not None and changed.columns == frozenset({"use"})
    new = model.highlighted("sysv-shm:3", now=10.5)
    assert new is not None and new.columns is None
    assert model.highlighted("sysv-shm:2", now=10.5) is None
    later = 10.0 + HIGHLIGHT_SECONDS + 0.1
    assert sorted(model.expire_highlights(later)) == ["sysv-shm:1", "sysv-shm:3"]
    assert model.highlighted("sysv-shm:1", later) is None


def test_a_change_outside_the_view_is_not_highlighted_and_does_not_fail() -> None:
    model = loaded([shm(1), msg(2)])
    model.set_view("sysv-shm")
    model.apply(by_ref([shm(1), msg(2, qnum=9)]), ROOT, ([], ["sysv-msg:2"], []), now=1.0)
    assert model.order == ["sysv-shm:1"]
    assert model.highlighted("sysv-msg:2", 1.5) is None


def test_filter_matches_reference_name_key_in_hex_and_decimal_and_owner() -> None:
    model = loaded(mixed())
    model.set_filter("RING")
    assert model.order == ["posix-shm:/ring0"]
    model.set_filter(f"{0x5EED0002:x}")
    assert model.order == ["sysv-shm:2"]
    model.set_filter(str(0x5EED0002))
    assert model.order == ["sysv-shm:2"]
    model.set_filter("root")
    assert len(model.order) == len(mixed())
    model.set_filter("")
    assert len(model.order) == len(mixed())


def test_kind_views_show_only_their_kind_with_their_columns() -> None:
    model = loaded(mixed())
    model.set_view("posix-mq")
    assert model.order == ["posix-mq:/jobs"]
    assert [c.id for c in model.columns][:3] == ["mark", "name", "owner"]
    columns = [column.id for column in model.columns]
    assert model.cells("posix-mq:/jobs")[columns.index("curmsgs")] == "3"
    assert model.total_in_view == 1


def test_cells_are_escaped_text() -> None:
    model = loaded([pshm(b"/bad\xff\x1b]0;x\x07")])
    assert model.cells("posix-shm:/bad\\xff\\x1b]0;x\\x07")[1].isprintable()


segment_sets = st.dictionaries(
    st.integers(1, 60),
    st.tuples(st.integers(0, 5), st.integers(0, 3)),  # size in pages, nattch
    max_size=40,
)


def segments(spec: dict[int, tuple[int, int]]) -> list[IpcObject]:
    return [shm(i, size=4096 * pages, nattch=n) for i, (pages, n) in spec.items()]


@given(
    segment_sets,
    segment_sets,
    st.sampled_from(["ref", "size", "use", "lpid"]),
    st.booleans(),
    st.sampled_from(["", "sysv-shm:1", "0x5eed"]),
    st.sets(st.integers(1, 60)),
)
def test_applying_changes_in_place_orders_rows_as_a_full_sort_would(
    before: dict[int, tuple[int, int]],
    after: dict[int, tuple[int, int]],
    column: str,
    reverse: bool,
    text: str,
    attached: set[int],
) -> None:
    def prepared(objects: list[IpcObject]) -> TableModel:
        model = loaded(objects)
        model.set_filter(text)
        model.sort_by(column)
        if reverse != model.reverse:
            model.sort_by(column)
        return model

    model = prepared(segments(before))
    diff = diff_snapshots(by_ref(segments(before)), snapshot(segments(after)))
    used_differently = [f"sysv-shm:{i}" for i in attached]  # attachers changed (any of them)
    changes = (diff.added, diff.changed, diff.removed)
    model.apply(diff.objects, ROOT, changes, 1.0, used_differently)
    assert model.order == prepared(segments(after)).order
    assert model.cursor in model.order or not model.order


def test_an_object_new_in_the_same_poll_as_an_attach_scan_is_listed_once() -> None:
    model = loaded([shm(1)])
    objects = by_ref([shm(1), shm(2)])
    model.apply(objects, ROOT, (["sysv-shm:2"], [], []), 1.0, used_differently=["sysv-shm:2"])
    assert model.order == ["sysv-shm:1", "sysv-shm:2"]


# Leak verdicts: they arrive after the objects, for rows drawn (and sorted) without them ------


def judged_context(stale: set[str], refs: list[str]) -> Context:
    return Context({0: "root"}, None, {ref: Verdict(ref in stale, ("why",)) for ref in refs})


def with_verdicts(model: TableModel, stale: set[str], judged: list[str], now: float) -> None:
    """What the poller delivers: the same objects, new verdicts, the rows they change."""
    context = judged_context(stale, list(model.objects))
    model.apply(model.objects, context, ((), (), ()), now, judged=judged)


def leak_cell(model: TableModel, ref: str) -> str:
    return model.cells(ref)[[c.id for c in model.columns].index("leak")]


def test_the_first_verdicts_reach_rows_drawn_without_them_and_highlight_nothing() -> None:
    model = loaded(mixed())
    assert leak_cell(model, "sysv-shm:2") == leak_cell(model, "posix-shm:/ring0") == "?"
    order = model.order
    with_verdicts(model, {"sysv-shm:2"}, list(model.objects), now=1.0)
    assert (leak_cell(model, "sysv-shm:2"), leak_cell(model, "posix-shm:/ring0")) == ("yes", "")
    assert not model.highlights
    assert model.order is order  # not sorted by LEAK: the order was not even rebuilt


def test_39000_first_verdicts_rebuild_nothing_when_not_sorted_by_leak() -> None:
    model = loaded([shm(i) for i in range(39_000)])
    drawn = model.order[:30]
    assert {leak_cell(model, ref) for ref in drawn} == {"?"}
    order = model.order
    with_verdicts(model, set(drawn[::2]), list(model.objects), now=1.0)
    assert model.order is order and not model.highlights
    assert [leak_cell(model, ref) for ref in drawn[:4]] == ["yes", "", "yes", ""]


def test_a_verdict_that_turns_highlights_its_leak_cell_and_keeps_the_mark() -> None:
    model = loaded([shm(1), shm(2)])
    with_verdicts(model, set(), list(model.objects), now=1.0)
    model.toggle_selected("sysv-shm:1")
    model.sort_by("leak")
    with_verdicts(model, {"sysv-shm:2"}, ["sysv-shm:2"], now=2.0)
    assert leak_cell(model, "sysv-shm:2") == "yes"
    mark = model.highlighted("sysv-shm:2", 2.5)
    assert mark is not None and mark.columns == frozenset({"leak"})
    assert model.highlighted("sysv-shm:1", 2.5) is None
    assert model.order == ["sysv-shm:2", "sysv-shm:1"]
    assert model.selected == {"sysv-shm:1"}  # a verdict is no change to the marked object


@given(
    st.sets(st.integers(1, 80)),
    st.sets(st.integers(1, 80)),
    st.booleans(),
    st.booleans(),
    st.integers(0, 79),
)
def test_verdicts_applied_in_place_order_rows_as_a_full_sort_would(
    stale_before: set[int], stale_after: set[int], first: bool, reverse: bool, cursor: int
) -> None:
    objects = [shm(i) for i in range(1, 81)]
    refs = [f"sysv-shm:{i}" for i in range(1, 81)]

    def sorted_by_leak(stale: set[int] | None) -> TableModel:
        model = loaded(objects)
        if stale is not None:
            with_verdicts(model, {f"sysv-shm:{i}" for i in stale}, refs, now=1.0)
        model.sort_by("leak")
        if reverse:
            model.sort_by("leak")
        return model

    model = sorted_by_leak(None if first else stale_before)
    model.move_cursor(cursor)
    followed = model.cursor
    turned = refs if first else [f"sysv-shm:{i}" for i in stale_before ^ stale_after]
    with_verdicts(model, {f"sysv-shm:{i}" for i in stale_after}, turned, now=2.0)
    assert model.order == sorted_by_leak(stale_after).order
    assert model.cursor == followed


def test_each_view_keeps_its_own_sort_across_switches() -> None:
    model = loaded([shm(1, size=300), shm(2, size=100), shm(3, size=200), *mixed()[3:]])
    model.sort_by("owner")
    model.sort_by("owner")
    model.set_view("sysv-shm")
    assert (model.sort_column, model.reverse) == ("id", False)  # its default, at first
    model.sort_by("size")
    model.sort_by("size")
    model.set_view("sysv-sem")  # no SIZE column here
    assert model.sort_column == "id"
    model.set_view("sysv-shm")
    assert (model.sort_column, model.reverse) == ("size", True)
    assert model.order == ["sysv-shm:1", "sysv-shm:3", "sysv-shm:2"]
    model.set_view("all")
    assert (model.sort_column, model.reverse) == ("owner", True)


def test_an_empty_table_says_there_is_nothing_and_what_could_not_be_read() -> None:
    model = TableModel()
    assert model.empty_lines() == ["reading…"]  # no snapshot yet
    model = loaded([shm(1)])
    model.loaded, model.unavailable = True, {Kind.POSIX_MQ: "/dev/mqueue is not mounted"}
    model.set_view("posix-mq")
    assert model.empty_lines() == [
        "no POSIX mq objects: there is nothing of this kind here",
        "posix-mq could not be read: /dev/mqueue is not mounted",
    ]
    model.set_view("sysv-shm")
    model.set_filter("nothing")
    assert model.empty_lines() == [
        "nothing matches the filter 'nothing'",
        "1 SysV shm objects hidden: / then Escape clears the filter",
    ]


# The count of objects a view holds, kept by each diff rather than counted each refresh -----

_ASLEEP = Endpoint(7001, "producer", 0, 1, "w", True, "write")
_WRITER = Endpoint(7001, "producer", 0, 1, "w")
_READER = Endpoint(7002, "consumer", 0, 0, "r")


def pipes(spec: dict[int, bool]) -> list[IpcObject]:
    """Pipes by inode, stuck (full, its writer asleep: in the All view) or idle (not)."""
    made = []
    for inode, stuck in spec.items():
        ends, filled = ((_ASLEEP, _READER), 65536) if stuck else ((_WRITER, _READER), 0)
        made.append(Pipe(0x10, inode, 0, 0, 0o600, ends, filled, 65536, None))
    return made


pipe_sets = st.dictionaries(st.integers(1, 40), st.booleans(), max_size=30)


@given(segment_sets, pipe_sets, pipe_sets, st.sampled_from(["all", "pipes", "sysv-shm"]))
def test_the_count_in_view_kept_by_diffs_is_the_count_made_afresh(
    segments_before: dict[int, tuple[int, int]],
    before: dict[int, bool],
    after: dict[int, bool],
    view: str,
) -> None:
    kept = [*segments(segments_before)]
    model = loaded([*kept, *pipes(before)])
    model.set_view(view)
    assert model.total_in_view == sum(1 for o in model.objects.values() if model.view.holds(o))
    diff = diff_snapshots(model.objects, snapshot([*kept, *pipes(after)]))
    model.apply(diff.objects, ROOT, (diff.added, diff.changed, diff.removed), 1.0)
    fresh = loaded([*kept, *pipes(after)])
    fresh.set_view(view)
    assert model.total_in_view == fresh.total_in_view
