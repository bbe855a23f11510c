"""The arguments of the fleet commands, `shmtop metrics` and `shmtop exporter` (no command's
code: see arguments.py)."""

from __future__ import annotations

import argparse
from typing import Any

from shmtop.cli.durations import duration
from shmtop.metrics import MAX_LEAK_SERIES
from shmtop.model.verdict import DEFAULT_MIN_AGE

DEFAULT_LISTEN = "127.0.0.1:10143"  # loopback; outside 9100-9999, which exporters have filled
SHORTEST_INTERVAL, LONGEST_INTERVAL = 0.1, 3600.0


def add_metrics_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="every IPC namespace and /dev/shm on the host, each container's figures under "
        'its name in the namespace label (default: shmtop\'s own, as "host")',
    )
    parser.add_argument(
        "--min-age",
        type=duration,
        default=DEFAULT_MIN_AGE,
        metavar="DURATION",
        help="leak verdicts as `shmtop clean --min-age` gives them (default 10m)",
    )
    parser.add_argument(
        "--ignore-unreadable",
        type=int,
        action="append",
        default=[],
        metavar="PID",
        help="vouch that process PID, whose /proc cannot be read, uses no IPC object, as "
        "`shmtop clean --ignore-unreadable` does (otherwise objects it may use are unjudged)",
    )
    parser.add_argument(
        "--leak-series",
        type=leak_series,
        default=0,
        metavar="N",
        help="also one series per leaked object (its reference as a label), the N oldest "
        f"(at most {MAX_LEAK_SERIES}; default 0: none)",
    )


def leak_series(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_LEAK_SERIES:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_LEAK_SERIES}")
    return value


def add_metrics(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "metrics",
        help="the Prometheus metrics, once (stdout, or a file for node_exporter)",
        description="Print the Prometheus text exposition of this host's IPC objects, limits "
        "and leaks, or write it atomically to FILE for node_exporter's textfile collector.",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to FILE instead (a temporary file in its directory, then renamed)",
    )
    add_metrics_options(parser)
    parser.set_defaults(command="metrics")
    return parser


def add_exporter(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "exporter",
        help="serve the Prometheus metrics over HTTP (read-only)",
        description="Serve GET /metrics over HTTP until stopped. Read-only: nothing it serves "
        "removes or changes anything. Collects at most once per interval, however often it "
        "is scraped; concurrent scrapes share one collection.",
    )
    parser.add_argument(
        "--listen",
        type=listen_address,
        default=DEFAULT_LISTEN,  # parsed by argparse only when the exporter runs
        metavar="HOST:PORT",
        help=f"address to serve on (default {DEFAULT_LISTEN}, loopback only; [::1]:PORT "
        "for IPv6; port 0 picks a free one)",
    )
    parser.add_argument(
        "--interval",
        dest="collect_interval",
        type=collect_interval,
        default=15.0,
        metavar="DURATION",
        help="collect at most once per DURATION (default 15s; 0.5, 30s, 1m)",
    )
    add_metrics_options(parser)
    parser.set_defaults(command="exporter")
    return parser


def listen_address(text: str) -> tuple[str, int]:
    """`127.0.0.1:10143` or `[::1]:10143` -> (host, port); the host must be an IP address
    (or localhost), so that nothing is resolved and the address is the one written."""
    host, sep, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address must be bracketed, or its port is ambiguous
    host = "127.0.0.1" if host == "localhost" else host
    if not (sep and port_text.isdigit() and int(port_text) <= 65535 and _is_ip(host)):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST:PORT with an IP address (127.0.0.1:10143, [::1]:10143)"
        )
    return host, int(port_text)


def _is_ip(host: str) -> bool:
    import ipaddress  # noqa: PLC0415 (parsed only when the exporter runs: start-up cost)

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def collect_interval(text: str) -> float:
    value = duration(text)
    if not SHORTEST_INTERVAL <= value <= LONGEST_INTERVAL:
        raise argparse.ArgumentTypeError("the interval must be between 0.1s and 1h")
    return value
