"""Command line: `shmtop` starts the dashboard; subcommands are scriptable with --json."""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

from shmtop.cli.errors import EXIT_INTERRUPTED, CliError
from shmtop.cli.parser import build_parser, command_named_first


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_named_first(argv))
    args = parser.parse_args(argv)
    if args.command is not None:
        # Behave like other filters in a pipeline: `shmtop list | head` ends quietly.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        status: int = _command(args.command).run(args)
    except CliError as exc:
        print(f"shmtop: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return status


def _command(name: str | None) -> Any:
    """The module of a command, imported only now that it runs; none: the dashboard."""
    return importlib.import_module(f"shmtop.cli.{name or 'dashboard'}_cmd")
