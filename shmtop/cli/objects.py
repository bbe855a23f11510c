"""Finding the object a reference names, and saying plainly why something cannot be done."""

from __future__ import annotations

import argparse

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.options import roots_of
from shmtop.collect import collect_snapshot
from shmtop.model import IpcObject, PosixEntry, Snapshot
from shmtop.model.refs import Ref, parse_ref


def find_object(args: argparse.Namespace, text: str, attachers: bool) -> tuple[Snapshot, IpcObject]:
    """The snapshot (of the reference's kind) and the object; CliError if there is none."""
    try:
        ref = parse_ref(text)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    snapshot = collect_snapshot(roots_of(args), [ref.kind], attachers=attachers)
    if ref.kind in snapshot.unavailable:
        raise CliError(snapshot.unavailable[ref.kind])
    for obj in snapshot.objects:
        if _is(obj, ref):
            return snapshot, obj
    raise CliError(f"{text}: no such object (it may have been removed)")


def find_in(snapshot: Snapshot, text: str) -> IpcObject:
    """The object `text` names in snapshot; CliError if there is none."""
    ref = parse_ref(text)
    if ref.kind in snapshot.unavailable:
        raise CliError(snapshot.unavailable[ref.kind])
    for obj in snapshot.objects:
        if _is(obj, ref):
            return obj
    raise CliError(f"{text}: no such object (it may have been removed)")


def _is(obj: IpcObject, ref: Ref) -> bool:
    if obj.kind is not ref.kind or obj.ns != ref.ns:
        return False
    if isinstance(obj, PosixEntry):
        return obj.name == ref.name
    return obj.id == ref.id
