"""Every command's arguments, with no command's code: a command's module (and what it
needs) is imported only when that command runs, so `shmtop list` never loads the removal,
backup, demo or dashboard code."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from shmtop.cli.durations import duration
from shmtop.cli.options import add_kind_option
from shmtop.model.verdict import DEFAULT_MIN_AGE

if TYPE_CHECKING:
    from pathlib import Path

COMMANDS = ("list", "show", "dump", "rm", "clean", "limits", "metrics", "exporter", "demo")


def add_command_parsers(commands: Any, only: str | None = None) -> list[argparse.ArgumentParser]:
    """Every command's parser, or only that of `only` (the command that runs)."""
    return [ADD[name](commands) for name in COMMANDS if only in (None, name)]


def add_scope_options(parser: argparse.ArgumentParser, everywhere: bool) -> None:
    """-A (every namespace on the host) where a command reads many objects; --ns for all."""
    if everywhere:
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="every IPC namespace and /dev/shm on the host: each container's objects too",
        )
    parser.add_argument(
        "--ns",
        metavar="TARGET",
        help="the namespace of TARGET: a pid, a container's name or id prefix, or an IPC "
        "namespace's inode (default: shmtop's own; qualified references name theirs)",
    )


KEYMAP_HELP = "TOML file of binding id = key(s), e.g. 'app.quit = \"ctrl+q\"' (see the help screen)"


def add_dashboard_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=2.0,
        metavar="SECONDS",
        help="seconds between refreshes (default 2; + and - change it while running)",
    )
    parser.add_argument("--keymap", type=file_path, default=None, metavar="FILE", help=KEYMAP_HELP)
    parser.add_argument(
        "--theme",
        default=None,
        metavar="NAME",
        help="the dashboard's colours: textual-dark (the default), textual-light for a light "
        "terminal, or another of Textual's themes (Ctrl+P, Theme, lists them)",
    )
    parser.add_argument(
        "--backup",
        metavar="DIR",
        help="in the dashboard, save each object's bytes and fields under DIR before removing it",
    )


def file_path(text: str) -> Path:
    from pathlib import Path  # noqa: PLC0415 (pathlib costs 4 ms of every command's start-up)

    return Path(text)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0.1 and 3600 seconds")
    return value


def add_removal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="remove (rm: without asking, as needed without a terminal)",
    )
    parser.add_argument(
        "--backup",
        metavar="DIR",
        help="first save each object's bytes (or members, messages) and fields "
        "as JSON under DIR (yours or root's all the way, no symlink, not writable by others); "
        "an object whose backup fails is not removed",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def size_argument(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (decimal or 0x...)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_list(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "list", help="list IPC objects", description="List IPC objects of every kind."
    )
    add_kind_option(parser)
    parser.add_argument(
        "--pid",
        type=int,
        metavar="PID",
        help="only objects this process maps or holds open (or last used, for System V queues)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON document (schema 1)")
    add_scope_options(parser, everywhere=True)
    parser.set_defaults(command="list")
    return parser


def add_show(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "show",
        help="every field of one object, its users, members or queued messages",
        description="Show one object: every field, who uses it, and for a System V semaphore "
        "set its members, for a System V queue its messages (copied, never taken).",
    )
    parser.add_argument("ref", metavar="REF", help="e.g. sysv-sem:65 or posix-shm:/ring0")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_scope_options(parser, everywhere=False)
    parser.set_defaults(command="show")
    return parser


def add_dump(commands: Any) -> argparse.ArgumentParser:
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
    add_scope_options(parser, everywhere=False)
    parser.set_defaults(command="dump")
    return parser


def add_rm(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "rm",
        help="remove objects (asks first; checks each is still the object you saw)",
        description="Remove objects by reference. Immediately before each removal shmtop "
        "checks the object is still the one it listed (System V: key, creator, ctime; POSIX: "
        "device, inode, ctime) and refuses otherwise.",
    )
    parser.add_argument("refs", nargs="+", metavar="REF", help="sysv-shm:ID, posix-shm:/NAME...")
    parser.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="IDENTITY",
        help="remove REF only if it still has this identity (from `shmtop list "
        "--json`); repeat for several",
    )
    add_removal_options(parser)
    add_scope_options(parser, everywhere=False)
    parser.set_defaults(command="rm")
    return parser


def add_clean(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "clean",
        help="find leaked objects and why; remove them with --yes (dry run by default)",
        description="List the objects that look leaked, each with its reasons: a dry run. "
        "With --yes, remove them; each removal first checks the object is still the one found.",
    )
    parser.add_argument(
        "--min-age",
        type=duration,
        default=DEFAULT_MIN_AGE,
        metavar="DURATION",
        help="POSIX objects, queues and sets unchanged or idle for less are in "
        "use (default 10m; 600, 90s, 10m, 2h, 1d)",
    )
    parser.add_argument(
        "--user",
        action="append",
        metavar="NAME",
        help="only objects owned by this user (name or uid; repeatable)",
    )
    add_kind_option(parser)
    parser.add_argument(
        "--ignore-unreadable",
        type=int,
        action="append",
        default=[],
        metavar="PID",
        help="vouch that process PID, whose /proc cannot be read, uses no POSIX object "
        "(otherwise it may use any, and none is stale); repeatable",
    )
    add_removal_options(parser)
    add_scope_options(parser, everywhere=True)
    parser.set_defaults(command="clean")
    return parser


def add_limits(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "limits",
        help="kernel limits and how much of each is used",
        description="Kernel IPC limits and current usage, for all six kinds.",
    )
    parser.add_argument("--json", action="store_true", help="print limits and usage as JSON")
    add_scope_options(parser, everywhere=True)
    parser.set_defaults(command="limits")
    return parser


def add_demo(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="run a small IPC workload (with leaks) until Ctrl-C, then remove it all",
        description="Start processes that use every kind of IPC object, plus a few leaked "
        "objects whose creator has exited. Ctrl-C or SIGTERM stops them and removes "
        "everything the demo made.",
    )
    parser.add_argument("--dashboard", action="store_true", help="also open the dashboard on it")
    add_dashboard_options(parser)
    parser.set_defaults(command="demo")
    return parser


def add_metrics(commands: Any) -> argparse.ArgumentParser:
    from shmtop.cli import fleet_arguments  # noqa: PLC0415 (imports shmtop.metrics: start-up)

    return fleet_arguments.add_metrics(commands)


def add_exporter(commands: Any) -> argparse.ArgumentParser:
    from shmtop.cli import fleet_arguments  # noqa: PLC0415

    return fleet_arguments.add_exporter(commands)


ADD = {
    "list": add_list,
    "show": add_show,
    "dump": add_dump,
    "rm": add_rm,
    "clean": add_clean,
    "limits": add_limits,
    "metrics": add_metrics,
    "exporter": add_exporter,
    "demo": add_demo,
}
