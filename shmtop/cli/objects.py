"""Finding the object a reference names, and saying plainly why something cannot be done."""

from __future__ import annotations

import argparse
from dataclasses import replace

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.scope import collect_labelled, label_for
from shmtop.model import FoundObject, IpcObject, Pipe, PosixEntry, PosixShm, Snapshot
from shmtop.model.found import Fifo, SharedMemory
from shmtop.model.kinds import KINDS
from shmtop.model.refs import Ref, parse_ref


def find_object(args: argparse.Namespace, text: str, attachers: bool) -> tuple[Snapshot, IpcObject]:
    """The snapshot (of the reference's kind) and the object; CliError if there is none."""
    ref = reference(args, text)
    found_in_processes = KINDS[ref.kind].found or ref.deleted  # only a walk finds them
    attachers = attachers or found_in_processes
    snapshot = collect_labelled(args, [ref.ns], [ref.kind], attachers=attachers)
    return snapshot, find_in(snapshot, ref, text)


def reference(args: argparse.Namespace, text: str) -> Ref:
    """The reference text names, in the namespace --ns names if it names none itself."""
    try:
        ref = parse_ref(text)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return replace(ref, ns=label_for(args, ref.ns, ref.kind))


def find_in(snapshot: Snapshot, ref: Ref, text: str) -> IpcObject:
    """The object `ref` names in snapshot; CliError if there is none."""
    unavailable = snapshot.unavailable
    if ref.ns:
        places = [ns for ns in snapshot.namespaces if ref.ns in (ns.ipc_label, ns.shm_label)]
        if not places:
            raise CliError(f"{text}: no namespace {ref.ns} on this host (it may have ended)")
        unavailable = places[0].unavailable
    if ref.kind in unavailable:
        raise CliError(unavailable[ref.kind])
    for obj in snapshot.objects:
        if _is(obj, ref):
            return obj
    raise CliError(f"{text}: no such object (it may have been removed)")


def _is(obj: IpcObject, ref: Ref) -> bool:
    if obj.kind is not ref.kind or obj.ns != ref.ns:
        return False
    if isinstance(obj, Pipe | Fifo | SharedMemory):
        return _is_found(obj, ref)
    if isinstance(obj, PosixShm) and (obj.deleted or ref.deleted):
        return obj.deleted and ref.deleted and (obj.name, obj.inode) == (ref.name, ref.id)
    if isinstance(obj, PosixEntry):
        return obj.name == ref.name
    return obj.id == ref.id


def _is_found(obj: FoundObject, ref: Ref) -> bool:
    return obj.inode == ref.id and (ref.dev is None or obj.dev == ref.dev)
