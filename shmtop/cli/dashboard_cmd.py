"""`shmtop` with no command: the live dashboard (the only command that imports Textual)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.keymap import load_keymap
from shmtop.cli.options import roots_of
from shmtop.cli.scope import namespace_named, same_place
from shmtop.model import Snapshot
from shmtop.model.roots import Roots


def run(args: argparse.Namespace) -> int:
    # The keymap first: a file that cannot be a keymap is a usage error with or without a
    # terminal.
    keymap = load_keymap(args.keymap)
    roots = roots_of(args)
    sources = _sources(roots, args.ns)
    return run_dashboard(roots, args.interval, keymap, args.backup, theme=args.theme,
                         sources=sources)  # fmt: skip


Sources = tuple[Callable[[bool], Snapshot], Callable[[], Snapshot]]


def _sources(roots: Roots, target: str | None) -> Sources | None:
    """Every namespace as root (each container's objects too), or the one --ns names; None:
    shmtop's own, as for any other user, or for crafted roots (tests)."""
    within = None
    if target is not None:
        chosen = namespace_named(target, roots.procfs)
        if chosen.own:
            return None
        within = same_place(chosen)
    elif os.geteuid() != 0 or roots != Roots():
        return None
    from shmtop.collect.everywhere import Everywhere, collect_everywhere  # noqa: PLC0415

    poller = Everywhere(roots, within)
    return poller.collect, lambda: collect_everywhere(roots, attachers=True, within=within)


def run_dashboard(
    roots: Roots,
    interval: float,
    keymap: dict[str, str],
    backup_dir: str | None = None,
    *,
    theme: str | None = None,
    sources: Sources | None = None,
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

    source, fresh = sources or (None, None)
    app = ShmtopApp(source, interval=interval, roots=roots, keymap=keymap,
                    backup_dir=backup_dir, fresh=fresh)  # fmt: skip
    if theme is not None:
        app.theme = theme
    app.run()
    return 0
