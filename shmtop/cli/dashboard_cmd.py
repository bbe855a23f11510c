"""`shmtop` with no command: the live dashboard (the only command that imports Textual)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shmtop.cli.errors import CliError
from shmtop.cli.keymap import load_keymap
from shmtop.cli.options import roots_of
from shmtop.model.roots import Roots

KEYMAP_HELP = "TOML file of binding id = key(s), e.g. 'app.quit = \"ctrl+q\"' (see the help screen)"


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=2.0,
        metavar="SECONDS",
        help="seconds between refreshes (default 2; + and - change it while running)",
    )
    parser.add_argument("--keymap", type=Path, default=None, metavar="FILE", help=KEYMAP_HELP)
    parser.add_argument(
        "--backup",
        metavar="DIR",
        help="in the dashboard, save each object's bytes and fields under DIR before removing it",
    )


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0.1 and 3600 seconds")
    return value


def run(args: argparse.Namespace) -> int:
    # The keymap first: a file that cannot be a keymap is a usage error with or without a
    # terminal.
    return run_dashboard(roots_of(args), args.interval, load_keymap(args.keymap), args.backup)


def run_dashboard(
    roots: Roots, interval: float, keymap: dict[str, str], backup_dir: str | None = None
) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("the dashboard needs a terminal; in scripts use `shmtop list --json`")
    from shmtop.tui.app import ShmtopApp  # noqa: PLC0415 (Textual loads only for the dashboard)

    # Textual believes COLUMNS/LINES over the terminal, and keeps believing them after a
    # resize; exported by a shell or a library they go stale. The terminal knows its size.
    for variable in ("COLUMNS", "LINES"):
        os.environ.pop(variable, None)

    ShmtopApp(interval=interval, roots=roots, keymap=keymap, backup_dir=backup_dir).run()
    return 0
