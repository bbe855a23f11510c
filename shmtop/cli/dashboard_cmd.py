"""`shmtop` with no command: the live dashboard (the only command that imports Textual)."""

from __future__ import annotations

import argparse
import os
import sys

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.keymap import load_keymap
from shmtop.cli.options import roots_of
from shmtop.model.roots import Roots


def run(args: argparse.Namespace) -> int:
    # The keymap first: a file that cannot be a keymap is a usage error with or without a
    # terminal.
    keymap = load_keymap(args.keymap)
    return run_dashboard(roots_of(args), args.interval, keymap, args.backup, args.theme)


def run_dashboard(
    roots: Roots,
    interval: float,
    keymap: dict[str, str],
    backup_dir: str | None = None,
    theme: str | None = None,
) -> int:
    if theme is not None:  # a usage error, with or without a terminal
        from textual.theme import BUILTIN_THEMES  # noqa: PLC0415 (Textual loads only here)

        if theme not in BUILTIN_THEMES:
            known = ", ".join(sorted(BUILTIN_THEMES))
            raise CliError(f"no theme {theme!r}; the themes are: {known}", EXIT_USAGE)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("the dashboard needs a terminal; in scripts use `shmtop list --json`")
    from shmtop.tui.app import ShmtopApp  # noqa: PLC0415 (Textual loads only for the dashboard)

    # Textual believes COLUMNS/LINES over the terminal, and keeps believing them after a
    # resize; exported by a shell or a library they go stale. The terminal knows its size.
    for variable in ("COLUMNS", "LINES"):
        os.environ.pop(variable, None)

    app = ShmtopApp(interval=interval, roots=roots, keymap=keymap, backup_dir=backup_dir)
    if theme is not None:
        app.theme = theme
    app.run()
    return 0
