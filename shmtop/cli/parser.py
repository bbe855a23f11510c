"""The argument parser. Usage errors print one line and exit with status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from shmtop import __version__
from shmtop.cli import (
    clean_cmd,
    dashboard_cmd,
    demo_cmd,
    dump_cmd,
    limits_cmd,
    list_cmd,
    rm_cmd,
    show_cmd,
)
from shmtop.cli.errors import EXIT_USAGE
from shmtop.cli.options import add_root_options


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="shmtop",
        description="See, understand and safely clean up IPC objects (System V and POSIX). "
        "Without a command: the live dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"shmtop {__version__}")
    add_root_options(parser, inherit=False)
    dashboard_cmd.add_options(parser)
    parser.set_defaults(command=None, run=dashboard_cmd.run)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module in (list_cmd, show_cmd, dump_cmd, rm_cmd, clean_cmd, limits_cmd, demo_cmd):
        sub = module.add_parser(commands)
        add_root_options(sub, inherit=True)
    return parser
