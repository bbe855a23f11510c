"""Benchmark: what one Prometheus scrape costs beside `shmtop list --json`, in the same run.

    sudo .venv/bin/python bench/bench_metrics.py --scale empty|small|large [--repeat N]

In a private IPC and mount namespace (tests/sandbox.py: its own System V objects, /dev/shm
and mqueue, the host's processes), creates the chosen mix of objects, so that nothing else on
the host ever sees them (they are removed at the end, and die with the namespace anyway), then
times, N times each: `shmtop list --json` (the reference: the same collection, /proc scan and
verdicts, as JSON), `shmtop metrics` (the same, as the exposition), and a scrape of a running
`shmtop exporter` whose interval has passed, so that each scrape collects anew (the exporter
says how many collections it made: checked). Prints best and median wall times and the
ratios; the target is a scrape within 1.5x of list --json.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tests.sandbox

from bench_collect import SHMTOP, command, machine
from population import MIXES, Mix, populated

from tests.sandbox import run_in_sandbox

INTERVAL = 0.1  # the exporter's shortest: every scrape spaced wider than it collects anew
COLLECTIONS = re.compile(rb"^shmtop_collections_total (\d+)$", re.MULTILINE)


@contextmanager
def exporter() -> Iterator[str]:
    process = subprocess.Popen(
        [*SHMTOP, "exporter", "--listen", "127.0.0.1:0", "--interval", str(INTERVAL)],
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        found = re.search(r"serving (http://\S+/metrics)", line)
        assert found is not None, line
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def scraper(url: str) -> tuple[Callable[[], object], list[int]]:
    """A cold scrape (the interval waited out first, not timed), and the collections seen."""
    seen: list[int] = []

    def scrape() -> None:
        with urllib.request.urlopen(url, timeout=300) as answer:
            found = COLLECTIONS.search(answer.read())
        assert found is not None
        seen.append(int(found.group(1)))

    return scrape, seen


def timed(fn: Callable[[], object], repeat: int, pause: float = 0.0) -> list[float]:
    fn()  # warm the page cache (and the exporter's Collector) alike for every contender
    times = []
    for _ in range(repeat):
        time.sleep(pause)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(repeat: int) -> dict[str, list[float]]:
    results = {
        "shmtop list --json": timed(command([*SHMTOP, "list", "--json"]), repeat),
        "shmtop metrics": timed(command([*SHMTOP, "metrics"]), repeat),
    }
    with exporter() as url:
        scrape, seen = scraper(url)
        results["exporter scrape, collecting"] = timed(scrape, repeat, pause=INTERVAL * 2)
    assert seen == list(range(1, repeat + 2)), f"a scrape did not collect: {seen}"
    return results


def report(mix: Mix, results: dict[str, list[float]]) -> None:
    print(f"\n{machine()}")
    runs = len(next(iter(results.values())))
    print(f"mix: {vars(mix)} = {mix.total} objects, best and median of {runs} runs\n")
    print(f"| {'what':30} | {'best ms':>8} | {'median ms':>9} |")
    print(f"| {'-' * 30} | {'-' * 8}: | {'-' * 9}: |")
    for name, times in results.items():
        print(f"| {name:30} | {min(times) * 1000:8.1f} | {statistics.median(times) * 1000:9.1f} |")
    listed = results["shmtop list --json"]
    print("\nratios to shmtop list --json (best / median), target <= 1.5:")
    for name in ("shmtop metrics", "exporter scrape, collecting"):
        best = min(results[name]) / min(listed)
        median = statistics.median(results[name]) / statistics.median(listed)
        print(f"  {name}: {best:.2f} / {median:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(MIXES), default="small")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run_in_sandbox(measured, args.scale, args.repeat)
    return 0


def measured(scale: str, repeat: int) -> None:
    signal.alarm(0)  # the sandbox ends a hanging test after two minutes: a large run is longer
    with populated(scale) as (mix, _):
        report(mix, measure(repeat))


if __name__ == "__main__":
    sys.exit(main())
