"""`shmtop list`'s table (apart from the command, so `list --json` never imports the
columns)."""

from __future__ import annotations

from shmtop.cli.table import render_table
from shmtop.columns import COLUMN_BY_ID, NAMESPACE, Context, namespace_names
from shmtop.model import Snapshot

LISTED = tuple(
    COLUMN_BY_ID[c]
    for c in ("ref", "key", "owner", "mode", "size", "use", "procs", "cpid", "lpid", "changed")
)


def render_list(snapshot: Snapshot, only: set[str] | None = None) -> str:
    """The table of objects: the dashboard's all-objects columns, less what it adds; with the
    namespace of each object where more than shmtop's own were read."""
    ctx = Context(snapshot.users, snapshot.attach, namespaces=namespace_names(snapshot.namespaces))
    columns = (NAMESPACE, *LISTED) if len(snapshot.namespaces) > 1 else LISTED
    rows = [
        [column.cell(obj, ctx) for column in columns]
        for obj in snapshot.objects
        if only is None or obj.ref in only
    ]
    headers = [column.title for column in columns]
    right = frozenset(i for i, column in enumerate(columns) if column.right)
    return render_table(headers, rows, right)
