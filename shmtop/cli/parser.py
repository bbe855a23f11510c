"""The argument parser. Usage errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from shmtop import __version__
from shmtop.cli.arguments import COMMANDS, add_command_parsers, add_dashboard_options
from shmtop.cli.errors import EXIT_USAGE
from shmtop.cli.options import add_root_options

DASHBOARD_KEYS = (
    "In the dashboard, ? (or F1) lists every key, Ctrl+P finds every action by name, "
    "and q quits. `shmtop demo --dashboard` shows it over a small living workload."
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (`only`) the root's options and that one command's:
    what parses a command line that starts with the command's name exactly as the whole
    parser does, at a fraction of the cost of building them all."""
    parser = _Parser(
        prog="shmtop",
        description="See, understand and safely clean up IPC objects (System V and POSIX). "
        "Without a command: the live dashboard.",
        epilog=DASHBOARD_KEYS,
    )
    parser.add_argument("--version", action="version", version=f"shmtop {__version__}")
    add_root_options(parser, inherit=False)
    add_dashboard_options(parser)
    parser.add_argument(
        "--ns",
        metavar="TARGET",
        help="the dashboard shows only this namespace: a pid, a container's name or id "
        "prefix, an IPC namespace's inode, or host (as root it shows every one, each "
        "container's objects too; as another user, its own)",
    )
    parser.set_defaults(command=None)
    # prog given: else argparse builds a help formatter (and imports shutil) to work it out.
    commands = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, prog="shmtop"
    )
    for sub in add_command_parsers(commands, only):
        add_root_options(sub, inherit=True)
    return parser


def command_named_first(argv: Sequence[str]) -> str | None:
    """The command a command line starts with, if it does: then everything after it is that
    command's, and no other command's parser is needed (an option first, or no command: the
    whole parser, for the root's help and its errors, which list every command)."""
    return argv[0] if argv and argv[0] in COMMANDS else None
