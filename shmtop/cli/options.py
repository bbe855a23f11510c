"""Options shared by several commands."""

from __future__ import annotations

import argparse
import os

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.model import Kind
from shmtop.model.roots import Roots
from shmtop.names import escape_text


def kind_list(text: str) -> list[Kind]:
    """`sysv-shm,posix-shm` -> [Kind.SYSV_SHM, Kind.POSIX_SHM]."""
    kinds = []
    for word in text.split(","):
        try:
            kinds.append(Kind(word.strip()))
        except ValueError:
            known = ", ".join(kind.value for kind in Kind)
            raise argparse.ArgumentTypeError(f"unknown kind {word!r} (one of: {known})") from None
    return kinds


def add_kind_option(parser: argparse.ArgumentParser) -> None:
    """--kind, repeatable or comma-separated, into args.kinds (None: every kind)."""
    parser.add_argument(
        "--kind",
        dest="kinds",
        action="extend",
        type=kind_list,
        metavar="KIND",
        help="only these kinds (repeat or separate with commas): "
        + ", ".join(kind.value for kind in Kind),
    )


def add_root_options(parser: argparse.ArgumentParser, *, inherit: bool) -> None:
    """Where to read from; `inherit` keeps a subcommand from resetting top-level values."""
    default = Roots()
    group = parser.add_argument_group("sources (for containers and tests)")
    for option, dest, value in (
        ("--procfs", "procfs", default.procfs),
        ("--dev-shm", "dev_shm", default.dev_shm),
        ("--dev-mqueue", "dev_mqueue", default.dev_mqueue),
    ):
        group.add_argument(
            option,
            dest=dest,
            metavar="DIR",
            default=argparse.SUPPRESS if inherit else value,
            help=f"read from DIR instead of {value}",
        )


def roots_of(args: argparse.Namespace) -> Roots:
    """Where to read; a directory named on the command line must exist (CliError, status 2).
    /proc always must: without it nothing can be known of who uses what."""
    roots = Roots(procfs=args.procfs, dev_shm=args.dev_shm, dev_mqueue=args.dev_mqueue)
    default = Roots()
    for option, path, usual in (
        ("--procfs", roots.procfs, None),
        ("--dev-shm", roots.dev_shm, default.dev_shm),
        ("--dev-mqueue", roots.dev_mqueue, default.dev_mqueue),
    ):
        if path != usual and not os.path.isdir(path):
            raise CliError(f"{option} {escape_text(path)}: no such directory", EXIT_USAGE)
    return roots
