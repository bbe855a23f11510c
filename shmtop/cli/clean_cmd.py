"""`shmtop clean`: find leaked objects, say why each looks leaked, remove them when told."""

from __future__ import annotations

import argparse
import pwd
from typing import Any

from shmtop.clean.stale import verdicts
from shmtop.cli.doubt import vouch_lines
from shmtop.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from shmtop.cli.output import write_json
from shmtop.cli.removal import (
    exit_status,
    remove_all,
    results_json,
    say,
)
from shmtop.cli.scope import collect_for
from shmtop.export import doubt_json
from shmtop.model import ALL_KINDS


def run(args: argparse.Namespace) -> int:
    uids = {_uid(name) for name in args.user or ()}
    snapshot = collect_for(args, args.kinds or ALL_KINDS, attachers=True)
    chosen = [o for o in snapshot.objects if not uids or o.uid in uids]
    judged = verdicts(snapshot, args.min_age, chosen, frozenset(args.ignore_unreadable))
    plan = [obj for obj in chosen if judged[obj.ref].stale]
    doubtful = [obj for obj in chosen if judged[obj.ref].unknown]
    document: dict[str, Any] = {
        "plan": [{"ref": o.ref, "reasons": list(judged[o.ref].reasons)} for o in plan],
        "unjudged": [{"ref": o.ref, "reasons": list(judged[o.ref].reasons)} for o in doubtful],
        **doubt_json(snapshot.attach, frozenset(args.ignore_unreadable)),
        "results": [],
    }
    for obj in plan:
        say(args, f"{obj.ref}: " + "; ".join(judged[obj.ref].reasons))
    for obj in doubtful:
        say(args, f"not judged: {obj.ref}: " + "; ".join(judged[obj.ref].reasons))
    say(args, _summary(args, len(plan), len(doubtful)))
    if doubtful:
        for line in vouch_lines(snapshot.attach, frozenset(args.ignore_unreadable)):
            say(args, line)
    if plan and args.yes:
        outcomes = remove_all(args, snapshot, plan, by_policy=True)
        document["results"] = results_json(outcomes)
        if args.json:
            write_json(document)
        return exit_status(outcomes)
    if args.json:
        write_json(document)
    return EXIT_OK


def _summary(args: argparse.Namespace, planned: int, doubtful: int) -> str:
    left = f"; {doubtful} not judged (above), left alone" if doubtful else ""
    if not planned:
        return ("nothing looks leaked" if not doubtful else "nothing was found leaked") + left
    these = "it" if planned == 1 else f"these {planned}"
    if args.yes:
        return f"removing {these}{left}"
    return f"dry run: nothing removed; `--yes` removes {these}{left}"


def _uid(name: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise CliError(f"no user {name!r}", EXIT_USAGE) from None
