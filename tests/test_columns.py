"""One vocabulary of columns for `shmtop list` and the dashboard: what a cell shows and how
its column sorts come from one raw value, and both front ends say the same thing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shmtop.cli.list_table import LISTED, render_list
from shmtop.columns import ALL_COLUMNS, COLUMN_BY_ID, NONE, Context, known
from shmtop.model import FileType
from shmtop.tui.tablemodel import TableModel
from tests.tui.fakes import attach_map, mixed, pshm, snapshot

UNSORTED_ALIKE = {"leak"}  # not judged and unknown both read "?" and sort last


def test_an_entry_that_is_not_a_file_shows_and_sorts_without_a_size() -> None:
    """It sorted by its lstat size while showing '-'."""
    link = replace(pshm(b"/link", size=4096), type=FileType.SYMLINK)
    size, ctx = COLUMN_BY_ID["size"], Context({})
    assert size.cell(link, ctx) == NONE
    assert size.sort(link, ctx) == known(None)
    assert size.sort(pshm(b"/big", size=1 << 30), ctx) < size.sort(link, ctx)


@pytest.mark.parametrize("column", [c for c in ALL_COLUMNS if c.id not in UNSORTED_ALIKE],
                         ids=lambda c: c.id)  # fmt: skip
def test_a_cell_shows_nothing_exactly_when_its_value_sorts_as_unknown(column) -> None:
    snap = replace(snapshot(mixed()), attach=attach_map())
    ctx = Context(snap.users, snap.attach)
    for obj in snap.objects:
        shown_empty = column.cell(obj, ctx) == NONE
        assert shown_empty == (column.sort(obj, ctx) == known(None)), (column.id, obj.ref)


def test_list_shows_the_cells_the_dashboard_shows() -> None:
    snap = replace(snapshot(mixed()), attach=attach_map())
    listed = render_list(snap).splitlines()[1:]
    model = TableModel()
    model.apply({o.ref: o for o in snap.objects}, Context(snap.users, snap.attach), None, 0.0)
    shared = [i for i, column in enumerate(model.columns) if column in LISTED]
    assert len(shared) == len(LISTED)
    for line, obj in zip(listed, snap.objects, strict=True):
        cells = model.cells(obj.ref)
        assert line.startswith(obj.ref + " ")
        for i in shared:
            assert cells[i] in line, (obj.ref, model.columns[i].id, cells[i])
