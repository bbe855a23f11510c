"""`shmtop list`: every object, as an aligned table or as JSON."""

from __future__ import annotations

import argparse
import os
import sys

from shmtop.attach import used_by
from shmtop.cli.errors import CliError
from shmtop.cli.output import note_unavailable, write_json
from shmtop.cli.scope import collect_for
from shmtop.export import snapshot_json
from shmtop.model import ALL_KINDS, IpcObject, Snapshot, Verdict
from shmtop.model.kinds import spec_of


def run(args: argparse.Namespace) -> int:
    kinds = args.kinds or ALL_KINDS
    snapshot = collect_for(args, kinds, attachers=True)
    if args.kinds and set(snapshot.unavailable) >= set(kinds):
        raise CliError("; ".join(dict.fromkeys(snapshot.unavailable.values())))
    only = None if args.pid is None else _used_by(snapshot, args.pid, args.procfs)
    if not args.kinds:
        shown = worth_listing(snapshot)
        only = shown if only is None else only & shown
    if args.json:
        chosen = [o for o in snapshot.objects if only is None or o.ref in only]
        judged = _judged(snapshot, chosen) if chosen and snapshot.attach is not None else {}
        write_json(snapshot_json(snapshot, judged, only))
        return 0
    from shmtop.cli.list_table import render_list  # noqa: PLC0415 (the table's columns)

    sys.stdout.write(render_list(snapshot, only))
    note_unavailable(snapshot.unavailable)
    return 0


def _judged(snapshot: Snapshot, chosen: list[IpcObject]) -> dict[str, Verdict]:
    # The judge (with ctypes and the namespace threads it may need) is imported only when
    # there is something to judge: an empty host's `list --json` starts without it.
    from shmtop.clean.stale import verdicts  # noqa: PLC0415

    return verdicts(snapshot, objects=chosen)


def _used_by(snapshot: Snapshot, pid: int, procfs: str) -> set[str]:
    if not os.path.exists(f"{procfs}/{pid}"):
        raise CliError(f"no process {pid}")
    return used_by(snapshot, pid)


def worth_listing(snapshot: Snapshot) -> set[str]:
    """What `list` shows without --kind: every object, but idle pipes (a host has hundreds,
    each with its reader and writer present and nothing waiting); `--kind pipe` lists them."""
    return {obj.ref for obj in snapshot.objects if spec_of(obj).listed_by_default(obj)}
