"""`shmtop metrics`: the Prometheus exposition once, on stdout or written atomically to a file
for node_exporter's textfile collector."""

from __future__ import annotations

import argparse
import sys

from shmtop.cli.errors import EXIT_FAILURE, EXIT_OK, CliError
from shmtop.cli.options import roots_of
from shmtop.metrics.scrape import MetricsSource, Settings
from shmtop.metrics.textfile import write_atomically
from shmtop.names import escape_text


def run(args: argparse.Namespace) -> int:
    source = MetricsSource(settings_of(args), report=note)
    text = source.scrape()
    if args.output is None:
        sys.stdout.buffer.write(text)
        sys.stdout.buffer.flush()
    else:
        _write(args.output, text)
    return EXIT_FAILURE if source.errors else EXIT_OK


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        roots=roots_of(args),
        min_age=args.min_age,
        ignore=frozenset(args.ignore_unreadable),
        leak_series=args.leak_series,
        everywhere=args.all_namespaces,
    )


def note(line: str) -> None:
    print(f"shmtop: {line}", file=sys.stderr, flush=True)


def _write(path: str, text: bytes) -> None:
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise CliError(f"--output {escape_text(path)}: {exc.strerror or exc}") from None
