"""`shmtop exporter`: serve the Prometheus metrics over HTTP until SIGTERM or Ctrl-C.

Read-only; at most one collection per --interval, shared by every scrape in it (see
shmtop.metrics.server for how it bears many, slow or broken clients)."""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import types

from shmtop.cli.errors import EXIT_OK, CliError
from shmtop.cli.metrics_cmd import note, settings_of
from shmtop.metrics.cache import OncePerInterval
from shmtop.metrics.scrape import MetricsSource
from shmtop.metrics.server import MetricsServer

WHY = {
    errno.EADDRINUSE: "the address is in use (another exporter?)",
    errno.EADDRNOTAVAIL: "no interface of this host has that address",
    errno.EACCES: "ports under 1024 need privileges",
}


class _Stopped(Exception):
    """SIGTERM: stop serving and exit 0, as systemd expects."""


def run(args: argparse.Namespace) -> int:
    source = MetricsSource(settings_of(args), report=note)
    cache = OncePerInterval(source.scrape, args.collect_interval)
    # A client that goes away mid-answer must cost its connection, not the process: the CLI
    # restores SIGPIPE's default (ending quietly in a pipeline), which a socket must not meet.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    server = _server(args.listen, cache.get)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]:{port}" if server.address_family == socket.AF_INET6 else f"{host}:{port}"
    note(f"exporter: serving http://{shown}/metrics, collecting at most every "
         f"{args.collect_interval:g}s")  # fmt: skip
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.5)
    except _Stopped:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def _server(listen: tuple[str, int], metrics: MetricsServer.Metrics) -> MetricsServer:
    host, port = listen
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return MetricsServer((host, port), family, metrics, report=note)
    except OSError as exc:
        why = WHY.get(exc.errno or 0, exc.strerror or str(exc))
        raise CliError(f"cannot listen on {host}:{port}: {why}") from None


def _stop(signum: int, frame: types.FrameType | None) -> None:
    raise _Stopped
