"""What `shmtop rm` and `shmtop clean` share: asking before removing, removing, reporting."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from shmtop.clean.audit import AuditLog, AuditUnavailable
from shmtop.clean.lifetime import refusals
from shmtop.clean.remove import Outcome, Remover
from shmtop.cli.errors import EXIT_FAILURE, EXIT_OK, CliError
from shmtop.cli.options import roots_of
from shmtop.collect.everywhere import places_of
from shmtop.model import IpcObject, Snapshot
from shmtop.names import escape_controls


def confirmed(args: argparse.Namespace, question: str) -> bool:
    """--yes, or the person at the terminal said yes; CliError without either."""
    if args.yes:
        return True
    try:
        tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        raise CliError("nothing removed: no terminal to confirm on; add --yes") from None
    try:
        os.write(tty, f"{question} [y/N] ".encode())
        answer = b""
        while not answer.endswith(b"\n") and (chunk := os.read(tty, 256)):
            answer += chunk
    finally:
        os.close(tty)
    return answer.strip().lower() in (b"y", b"yes")


def remove_all(
    args: argparse.Namespace,
    snapshot: Snapshot,
    objects: Sequence[IpcObject],
    by_policy: bool = False,
) -> list[Outcome]:
    """Remove each (identity checked); one failure never stops the others. `by_policy`: they
    were chosen as leaked, so any use since refuses them too."""
    audit = _audit()
    roots = roots_of(args)
    places = places_of(roots, snapshot.namespaces)
    remover = Remover(roots, snapshot.users, args.backup, audit, by_policy=by_policy,
                      places=places, refused=refusals(snapshot.namespaces))  # fmt: skip
    outcomes = []
    for obj in objects:
        outcome = remover.remove(obj)
        outcomes.append(outcome)
        if not args.json:
            print(f"{outcome.result}: {escape_controls(outcome.detail)}")
    return outcomes


def results_json(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    return [{"ref": o.ref, "result": o.result, "detail": o.detail} for o in outcomes]


def exit_status(outcomes: Sequence[Outcome]) -> int:
    return EXIT_OK if all(o.result == "removed" for o in outcomes) else EXIT_FAILURE


def say(args: argparse.Namespace, text: str) -> None:
    """Plans and warnings: stdout for people, stderr when stdout carries JSON. Their parts
    are already escaped (references, names): only what slipped through is escaped here."""
    print(escape_controls(text), file=sys.stderr if args.json else sys.stdout)


def _audit() -> AuditLog | None:
    """The audit log, opened once for the run; without it, one line says why."""
    log = AuditLog()
    try:
        log.open()
    except AuditUnavailable as exc:
        print(f"shmtop: note: no audit log ({escape_controls(str(exc))})", file=sys.stderr)
        return None
    return log
