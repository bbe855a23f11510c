"""`shmtop dump REF`: an object's bytes exactly as `hexdump -C` shows them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shmtop.clean.permission import denied
from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.objects import find_object
from shmtop.cli.options import roots_of
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.inspect import ContentReader, hexdump_lines, open_reader
from shmtop.model import SysvShm


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "dump",
        help="an object's bytes, as hexdump -C prints them",
        description="Print a segment's or POSIX object's bytes exactly as `hexdump -C -s OFFSET "
        "-n LENGTH` would, with absolute offsets. Nothing is changed by reading (see README).",
    )
    parser.add_argument("ref", metavar="REF", help="e.g. sysv-shm:32769 or posix-shm:/ring0")
    parser.add_argument("--offset", type=size_argument, default=0, metavar="N",
                        help="start at byte N (decimal, or hex as 0x...)")  # fmt: skip
    parser.add_argument("--length", type=size_argument, default=None, metavar="N",
                        help="at most N bytes (default: to the end)")  # fmt: skip
    parser.set_defaults(command="dump", run=run)
    return parser


def size_argument(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (decimal or 0x...)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def run(args: argparse.Namespace) -> int:
    snapshot, obj = find_object(args, args.ref, attachers=False)
    if isinstance(obj, SysvShm) and obj.nattch:  # a mapper lets root read without attaching
        snapshot, obj = find_object(args, args.ref, attachers=True)
    try:
        reader = open_reader(obj, snapshot.attach, roots_of(args))
    except Unsupported as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except NotPermitted:
        raise CliError(denied(obj, snapshot.users, "reading")) from None
    except Vanished as exc:
        raise CliError(str(exc)) from None
    try:
        _dump(reader, args.offset, args.length)
    except NotPermitted:
        raise CliError(denied(obj, snapshot.users, "reading")) from None
    except Vanished as exc:
        raise CliError(str(exc)) from None
    finally:
        reader.close()
    if reader.note:
        print(f"shmtop: note: {obj.ref}: {reader.note}", file=sys.stderr)
    return 0


def _dump(reader: ContentReader, offset: int, length: int | None) -> None:
    out = sys.stdout
    for line in hexdump_lines(reader.read, reader.size, offset, length):
        out.write(line + "\n")
