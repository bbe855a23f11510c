"""Why the dashboard draws its own table: Textual's DataTable against ObjectTable.

    .venv/bin/python bench/bench_table_choice.py [--rows 40000]

Loads the same rows (synthetic objects, no kernel needed) into each table headless and
times until the first screen is drawn, then a refresh touching 1% of the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shmtop.columns import Context
from shmtop.tui.tablemodel import TableModel
from tests.tui.fakes import shm

SIZE = (180, 50)
ROOT = Context({0: "root"})


class DataTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def datatable(rows: int) -> tuple[float, float]:
    model = _model(rows)
    app = DataTableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        for column in model.columns:
            table.add_column(column.title, key=column.id)
        start = time.perf_counter()
        for ref in model.order:
            table.add_row(*model.cells(ref), key=ref)
        await pilot.pause()
        first = time.perf_counter() - start
        start = time.perf_counter()
        for ref in model.order[::100]:
            table.update_cell(ref, "use", "2 attaches")
        await pilot.pause()
        return first, time.perf_counter() - start


async def objecttable(rows: int) -> tuple[float, float]:
    from shmtop.tui.table import ObjectTable

    class ObjectTableApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ObjectTable(TableModel())

    app = ObjectTableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ObjectTable)
        objects = {obj.ref: obj for obj in (shm(i) for i in range(1, rows + 1))}
        start = time.perf_counter()
        table.model.apply(objects, ROOT, None, now=0.0)
        table.sync()
        await pilot.pause()
        first = time.perf_counter() - start
        changed = {ref: shm(int(ref.split(":")[1]), nattch=2) for ref in list(objects)[::100]}
        start = time.perf_counter()
        table.model.apply({**objects, **changed}, ROOT, ((), tuple(changed), ()), 1.0)
        table.sync()
        await pilot.pause()
        return first, time.perf_counter() - start


def _model(rows: int) -> TableModel:
    model = TableModel()
    model.apply({o.ref: o for o in (shm(i) for i in range(1, rows + 1))}, ROOT, None, 0)
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40000)
    args = parser.parse_args()
    for name, run in (("ObjectTable", objecttable), ("DataTable", datatable)):
        first, update = asyncio.run(run(args.rows))
        print(f"{name:12} {args.rows} rows: first screen {first:6.2f} s, "
              f"1% of cells changed {update * 1000:7.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
