"""`shmtop show REF`: every field of one object, who uses it, and what it holds."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shmtop.clean.permission import denied
from shmtop.clean.stale import verdicts
from shmtop.cli.objects import find_object
from shmtop.cli.output import write_json
from shmtop.cli.table import render_table
from shmtop.describe import Field, describe, describe_use
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.export import SCHEMA, cleanup_json, use_json
from shmtop.inspect import MESSAGE_LIMIT, listed_contents
from shmtop.model import IpcObject, Snapshot, SysvSem
from shmtop.model.contents import Member, Message
from shmtop.model.jsonable import member_json, message_json, object_json
from shmtop.model.kinds import Contents, spec_of
from shmtop.names import escape_name


def run(args: argparse.Namespace) -> int:
    snapshot, obj = find_object(args, args.ref, attachers=True)
    contents, problem = _contents(obj, snapshot)
    if args.json:
        document = {"schema": SCHEMA, **object_json(obj, snapshot.users)}
        document.update(use_json(obj, snapshot))
        verdict = verdicts(snapshot, objects=[obj])[obj.ref] if snapshot.attach else None
        document.update(cleanup_json(obj, verdict))
        document.update(_contents_json(obj, contents, problem))
        write_json(document)
    else:
        sys.stdout.write(_render(obj, snapshot, contents, problem))
    if problem and spec_of(obj).contents_readable:  # a queue that cannot be read: as designed
        print(f"shmtop: note: {problem}", file=sys.stderr)
    return 0


def _contents(obj: IpcObject, snapshot: Snapshot) -> tuple[list[Any] | None, str | None]:
    """Members or messages, or why they cannot be had (the object itself is still shown)."""
    if spec_of(obj).contents not in LISTED:
        return None, None
    try:
        return listed_contents(obj), None
    except NotPermitted:
        return None, denied(obj, snapshot.users, "reading the contents of")
    except (Vanished, Unsupported) as exc:
        return None, str(exc)


LISTED = {Contents.MEMBERS: "semaphores", Contents.MESSAGES: "messages"}  # their JSON keys


def _contents_json(
    obj: IpcObject, contents: list[Any] | None, problem: str | None
) -> dict[str, Any]:
    key = LISTED.get(spec_of(obj).contents)
    if key is None:
        return {}
    listed = None if contents is None else [_item_json(item) for item in contents]
    return {key: listed, "problem": problem}


def _item_json(item: Member | Message) -> dict[str, Any]:
    return member_json(item) if isinstance(item, Member) else message_json(item)


def _render(
    obj: IpcObject, snapshot: Snapshot, contents: list[Any] | None, problem: str | None
) -> str:
    lines = [_fields(describe(obj, snapshot.users)), "\nUsed by\n",
             _fields(describe_use(obj, snapshot.attach, snapshot.users))]  # fmt: skip
    spec = spec_of(obj)
    if spec.contents in LISTED and contents is None:
        lines.append(f"\n{spec.contents.value.capitalize()}: {problem}\n")
    elif isinstance(obj, SysvSem) and contents is not None:
        shown = "" if len(contents) == obj.nsems else f" (the first {len(contents)} of {obj.nsems})"
        lines += [f"\nMembers{shown}\n", _members(contents)]
    elif contents is not None:
        lines += [f"\nMessages (copied, left on the queue; at most {MESSAGE_LIMIT})\n",
                  _messages(contents)]  # fmt: skip
    return "".join(lines)


def _fields(fields: list[Field]) -> str:
    rows = [(f.name, f.value, f.meaning) for f in fields]
    return render_table(("FIELD", "VALUE", "MEANING"), rows)


def _members(members: list[Member]) -> str:
    rows = [(str(m.num), str(m.value), str(m.ncnt), str(m.zcnt), str(m.pid)) for m in members]
    return render_table(("NUM", "VALUE", "NCNT", "ZCNT", "PID"), rows, frozenset(range(5)))


def _messages(messages: list[Message]) -> str:
    rows = [
        (str(m.index), str(m.mtype), str(m.size), m.head.hex(" "), escape_name(m.head))
        for m in messages
    ]
    return render_table(("INDEX", "MTYPE", "SIZE", "FIRST BYTES", "AS TEXT"), rows,
                        frozenset({0, 1, 2}))  # fmt: skip
