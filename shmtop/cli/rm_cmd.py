"""`shmtop rm`: remove named objects, each checked to be the object seen, after asking."""

from __future__ import annotations

import argparse

from shmtop.clean.stale import verdicts
from shmtop.clean.warnings import warnings
from shmtop.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from shmtop.cli.objects import find_in, reference
from shmtop.cli.output import write_json
from shmtop.cli.removal import (
    confirmed,
    exit_status,
    remove_all,
    results_json,
    say,
)
from shmtop.cli.scope import collect_labelled
from shmtop.model import IpcObject
from shmtop.model.identity import changes
from shmtop.model.kinds import identity_fields, identity_from


def run(args: argparse.Namespace) -> int:
    refs = [reference(args, text) for text in args.refs]
    try:
        expected = dict(identity_from(i) for i in args.identity)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    unmatched = set(expected) - set(args.refs)
    if unmatched:
        raise CliError(
            f"--identity names {', '.join(sorted(unmatched))}, not a REF given", EXIT_USAGE
        )
    kinds = {r.kind for r in refs}
    snapshot = collect_labelled(args, [r.ns for r in refs], kinds, attachers=True)
    objects = [find_in(snapshot, ref, text) for ref, text in zip(refs, args.refs, strict=True)]
    for obj in objects:
        if obj.ref in expected:
            _check_identity(obj, expected[obj.ref])
    judged = verdicts(snapshot, objects=objects)
    for obj in objects:
        say(args, f"{obj.ref}")
        for warning in warnings(obj, snapshot, judged[obj.ref]):
            say(args, f"  warning: {warning}")
    if not confirmed(args, f"Remove {len(objects)} object{'s' * (len(objects) > 1)}?"):
        raise CliError("nothing removed", EXIT_FAILURE)
    outcomes = remove_all(args, snapshot, objects)
    if args.json:
        write_json({"results": results_json(outcomes)})
    return exit_status(outcomes)


def _check_identity(obj: IpcObject, fields: dict[str, int | None]) -> None:
    changed = changes(fields, identity_fields(obj))
    if changed:
        raise CliError(
            f"{obj.ref} is not the object that identity names ({'; '.join(changed)}): "
            "nothing removed"
        )
