"""`shmtop list`: every object, as an aligned table or as JSON."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from shmtop.attach import used_by
from shmtop.clean.stale import verdicts
from shmtop.cli.errors import CliError
from shmtop.cli.options import add_kind_option, roots_of
from shmtop.cli.output import note_unavailable, write_json
from shmtop.cli.table import render_table
from shmtop.collect import collect_snapshot
from shmtop.export import snapshot_json
from shmtop.model import ALL_KINDS, Snapshot
from shmtop.present import object_row

HEADERS = ("REF", "KEY", "OWNER", "MODE", "SIZE", "USE", "PROCS", "CPID", "LPID", "CHANGED")
RIGHT_ALIGNED = frozenset({4, 6, 7, 8})


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "list", help="list IPC objects", description="List IPC objects of every kind."
    )
    add_kind_option(parser)
    parser.add_argument(
        "--pid",
        type=int,
        metavar="PID",
        help="only objects this process maps or holds open (or last used, for System V queues)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON document (schema 1)")
    parser.set_defaults(command="list", run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    kinds = args.kinds or ALL_KINDS
    snapshot = collect_snapshot(roots_of(args), kinds, attachers=True)
    if args.kinds and set(snapshot.unavailable) >= set(kinds):
        raise CliError("; ".join(dict.fromkeys(snapshot.unavailable.values())))
    only = None if args.pid is None else _used_by(snapshot, args.pid, args.procfs)
    if args.json:
        chosen = [o for o in snapshot.objects if only is None or o.ref in only]
        judged = verdicts(snapshot, objects=chosen) if snapshot.attach is not None else {}
        write_json(snapshot_json(snapshot, judged, only))
        return 0
    sys.stdout.write(render_list(snapshot, only))
    note_unavailable(snapshot.unavailable)
    return 0


def _used_by(snapshot: Snapshot, pid: int, procfs: str) -> set[str]:
    if not os.path.exists(f"{procfs}/{pid}"):
        raise CliError(f"no process {pid}")
    return used_by(snapshot, pid)


def render_list(snapshot: Snapshot, only: set[str] | None = None) -> str:
    rows = [
        object_row(obj, snapshot.users, snapshot.attach)
        for obj in snapshot.objects
        if only is None or obj.ref in only
    ]
    return render_table(HEADERS, rows, RIGHT_ALIGNED)
