"""`shmtop demo [--dashboard]`: a living workload to look at, removed again on exit."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import NoReturn

from shmtop.cli import dashboard_cmd
from shmtop.cli.errors import CliError
from shmtop.cli.keymap import load_keymap
from shmtop.cli.options import roots_of
from shmtop.demo import DemoWorkload, StartFailed


class _Terminated(Exception):
    pass


def _terminate(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def run(args: argparse.Namespace) -> int:
    if args.dashboard and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("--dashboard needs a terminal")
    keymap = load_keymap(args.keymap) if args.dashboard else {}
    signal.signal(signal.SIGTERM, _terminate)
    workload = DemoWorkload()
    try:
        _start(workload)
        if args.dashboard:
            dashboard_cmd.run_dashboard(roots_of(args), args.interval, keymap, theme=args.theme)
        else:
            _report(workload)
            _wait_for_signal()
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        made = len(workload.made)
        problems = workload.stop()
        for problem in problems:
            print(f"shmtop demo: {problem}", file=sys.stderr)
        print(f"shmtop demo: stopped; removed {made - len(problems)} of {made} objects")
    return 1 if problems else 0


def _start(workload: DemoWorkload) -> None:
    try:
        workload.start()  # removes what it made if it fails part way
    except StartFailed as exc:
        raise CliError(f"could not start the demo: {exc}") from None


def _report(workload: DemoWorkload) -> None:
    print(f"shmtop demo: running; Ctrl-C stops it and removes all {len(workload.made)} objects")
    for made in workload.made:
        leaked = "  (leaked: its creator has exited)" if made.leaked else ""
        print(f"  {made.ref:<40} {made.role}{leaked}")
    print("shmtop demo: watch it with `shmtop` in another terminal", flush=True)


def _wait_for_signal() -> None:
    while True:
        signal.pause()
