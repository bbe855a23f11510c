"""Benchmark: shmtop's collector and `shmtop list --json` beside ipcs, lsipc and cat, same run.

    sudo .venv/bin/python bench/bench_collect.py --scale empty|small|large [--repeat N]
        [--before OTHER/.venv/bin/python]

Creates the chosen mix of objects (removed again at the end, also on Ctrl-C or SIGTERM), then
times each command N times and prints best and median wall times and the ratios the project
targets. Needs root (mounting /dev/mqueue, raising fs.mqueue.queues_max for the large mix).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from population import MIXES, Mix, populated

import shmtop
from shmtop.collect import Collector, collect_snapshot
from shmtop.model import Kind

SYSV = (Kind.SYSV_SHM, Kind.SYSV_MSG, Kind.SYSV_SEM)
SHMTOP = [str(Path(sys.executable).with_name("shmtop"))]  # the installed command people run


def command(argv: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)


def measure(repeat: int, before: str | None) -> dict[str, list[float]]:
    polling = Collector()
    polling_sysv = Collector(kinds=SYSV)
    polling.collect()
    polling_sysv.collect()
    sysv = ["--kind", "sysv-shm,sysv-msg,sysv-sem"]
    cases: dict[str, Callable[[], object]] = {
        "cat /proc/sysvipc/* (floor)": command(
            ["cat", "/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem"]
        ),
        "ipcs -a": command(["ipcs", "-a"]),
        "lsipc --json -m": command(["lsipc", "--json", "-m"]),
        "lsipc --json -q": command(["lsipc", "--json", "-q"]),
        "lsipc --json -s": command(["lsipc", "--json", "-s"]),
        "python -c pass (this interpreter)": command([sys.executable, "-c", "pass"]),
        "shmtop list --json (all six kinds)": command([*SHMTOP, "list", "--json"]),
        "shmtop list --json --kind sysv-*": command([*SHMTOP, "list", "--json", *sysv]),
        "collect() all kinds, cold": collect_snapshot,
        "collect() System V, cold": lambda: collect_snapshot(kinds=SYSV),
        "Collector.collect() System V, polling": polling_sysv.collect,
        "Collector.collect() all kinds, polling": polling.collect,
    }
    if before is not None:
        other = str(Path(before).with_name("shmtop"))
        cases["before: shmtop list --json (all six kinds)"] = command([other, "list", "--json"])
        cases["before: shmtop list --json --kind sysv-*"] = command(
            [other, "list", "--json", *sysv]
        )
    return interleaved(cases, repeat)


def interleaved(cases: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each case once per round, `repeat` rounds: a shared machine's drift (another job
    starting) then weighs on every contender alike, before and after included."""
    for fn in cases.values():
        fn()  # warm the page cache and the interpreter's imports alike for every contender
    results: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeat):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            results[name].append(time.perf_counter() - start)
        print(f"  round {round_ + 1} of {repeat}", file=sys.stderr)
    return results


def report(mix: Mix, results: dict[str, list[float]]) -> None:
    print(f"\n{machine()}")
    runs = len(next(iter(results.values())))
    print(f"mix: {vars(mix)} = {mix.total} objects, best and median of {runs} runs\n")
    print(f"| {'what':40} | {'best ms':>8} | {'median ms':>9} |")
    print(f"| {'-' * 40} | {'-' * 8}: | {'-' * 9}: |")
    for name, times in results.items():
        print(f"| {name:40} | {min(times) * 1000:8.1f} | {statistics.median(times) * 1000:9.1f} |")
    best = {name: min(times) for name, times in results.items()}
    lsipc = sum(best[f"lsipc --json -{k}"] for k in "mqs")
    bare = best["python -c pass (this interpreter)"]
    print("\nratios (best times):")
    for who in ("", "before: "):
        every = best.get(f"{who}shmtop list --json (all six kinds)")
        if every is None:
            continue
        sysv = best[f"{who}shmtop list --json --kind sysv-*"]
        ratio(f"{who}list --json --kind sysv-* / three lsipc --json", sysv, lsipc, "target <= 1.0")
        ratio(
            f"{who}list --json, all six kinds / three lsipc --json", every, lsipc, "target <= 2.0"
        )
        if mix.total == 0:
            ratio(f"{who}list --json on an empty host / python -c pass", every, bare,
                  "target <= 2.0")  # fmt: skip
    floor = best["cat /proc/sysvipc/* (floor)"]
    ratio("collect() System V, cold / cat floor", best["collect() System V, cold"], floor, "")
    ratio(
        "Collector.collect() System V, polling / cat floor",
        best["Collector.collect() System V, polling"],
        floor,
        "target <= 3",
    )


def ratio(label: str, mine: float, theirs: float, target: str) -> None:
    print(f"  {label}: {mine / theirs:.2f}  {target}")


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, shmtop from {Path(shmtop.__file__).parent}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(MIXES), default="small")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before",
        metavar="PYTHON",
        help="also time `PYTHON -m shmtop` (another installation) in the same run",
    )
    args = parser.parse_args()
    with populated(args.scale) as (mix, _):
        report(mix, measure(args.repeat, args.before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
