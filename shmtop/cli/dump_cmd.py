"""`shmtop dump REF`: an object's bytes exactly as `hexdump -C` shows them."""

from __future__ import annotations

import argparse
import sys

from shmtop.clean.permission import denied
from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.objects import find_object
from shmtop.cli.options import roots_of
from shmtop.collect.everywhere import places_of
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.inspect import ContentReader, hexdump_lines, open_reader
from shmtop.model import SysvShm


def run(args: argparse.Namespace) -> int:
    snapshot, obj = find_object(args, args.ref, attachers=False)
    if isinstance(obj, SysvShm) and obj.nattch:  # a mapper lets root read without attaching
        snapshot, obj = find_object(args, args.ref, attachers=True)
    try:
        roots = roots_of(args)
        reader = open_reader(
            obj, snapshot.attach, places_of(roots, snapshot.namespaces).get(obj.ns, roots)
        )
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
