"""Benchmark: the dashboard over the large mix (about 40,000 objects).

    sudo .venv/bin/python bench/bench_dashboard.py [--scale large] [--polls 6]
        [--busy-polls 100] [--tracemalloc]
    sudo .venv/bin/python bench/bench_dashboard.py --starts 7 [--before OTHER/.venv/bin/python]

Runs the real app headless over the real collector and reports: time to first screen,
event-loop time spent applying each refresh with 0% and with 1% of objects changing, the
worst event-loop stall seen meanwhile (how late a key would be handled), and resident memory,
sampled every tenth busy refresh so growth shows as a series (`--busy-polls 100` is the
target's "after 100 busy refreshes"). `--tracemalloc` also prints where Python memory grew
between the twentieth and the last busy refresh (it slows everything: its timings are not
figures). Everything created is removed at the end, also on Ctrl-C.

`--starts N` instead starts the dashboard N times, each in a process of its own
(bench/first_screen.py), and reports its first screen from the launch of the interpreter (imports
included) and from the app's start (after imports, as above), when the first leak verdicts
were shown, and the worst stall until then; `--before OTHER/.venv/bin/python` starts another
installation as often, interleaved with this one (one of each per round), over the same
objects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import posix_ipc
import psutil
import sysv_ipc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collect import machine
from population import MIXES, Population, populated

from shmtop.demo.processes import spawn, stop_all
from shmtop.tui.app import ShmtopApp
from shmtop.tui.poller import SnapshotDiff

SIZE = (180, 50)


class TimedApp(ShmtopApp):
    """The real app, recording how long each snapshot takes to apply on the event loop."""

    def __init__(self, interval: float) -> None:
        super().__init__(interval=interval)
        self.apply_times: list[float] = []
        self.changed_counts: list[int] = []
        self.drawn: float | None = None  # when the first snapshot was first drawn

    def apply_snapshot(self, diff: SnapshotDiff) -> None:
        start = time.perf_counter()
        super().apply_snapshot(diff)
        self.apply_times.append(time.perf_counter() - start)
        self.changed_counts.append(len(diff.added) + len(diff.changed) + len(diff.removed))
        if diff.first:
            self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        self.drawn = time.perf_counter()


class LoopLag:
    """How late a 5 ms sleep wakes up: the delay a key press would see."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _probe(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - start - 0.005)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._probe())

    def reset(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


class Changer:
    """Changes a fraction of the objects every interval, from another process (as real
    programs do; a thread here would compete with the dashboard for the GIL)."""

    def __init__(self, population: Population, fraction: float, every: float) -> None:
        self.queues = [q for q in population.handles if isinstance(q, sysv_ipc.MessageQueue)]
        self.sems = [s for s in population.handles if isinstance(s, posix_ipc.Semaphore)]
        self.count = int(population.total * fraction)
        self.every = every
        self.pid: int | None = None

    def start(self) -> None:
        self.pid = spawn(self._run)

    def stop(self) -> None:
        if self.pid is not None:
            stop_all([self.pid])

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            for queue in random.sample(self.queues, min(self.count // 2, len(self.queues))):
                queue.send(b"x", block=False)
            for sem in random.sample(self.sems, min(self.count - self.count // 2, len(self.sems))):
                sem.release()


RSS_EVERY = 10  # busy refreshes between resident-memory samples
TRACE_FROM = 10  # busy refreshes before tracemalloc starts (caches warm by then)


async def measure(
    population: Population, polls: int, busy_polls: int, interval: float, trace: bool
) -> dict[str, object]:
    process = psutil.Process()
    baseline = process.memory_info().rss
    app = TimedApp(interval)
    lag = LoopLag()
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        lag.start()
        while app.drawn is None:  # not pilot.pause(): it waits for the poller's thread too
            await asyncio.sleep(0.005)
        first_screen = app.drawn - started
        lag.reset()
        while app.model.context.verdicts is None:  # the first verdicts (pending until then)
            await asyncio.sleep(0.005)
        verdicts_shown = time.perf_counter() - started
        first_lag = lag.reset()
        await pilot.pause()
        lag.reset()
        first_memory = process.memory_info().rss
        quiet = await _refreshes(pilot, app, polls, interval)
        quiet_lag = lag.reset()
        quiet_memory = process.memory_info().rss
        changer = Changer(population, 0.01, interval)
        changer.start()
        try:
            busy, busy_rss, growth = await _busy(app, busy_polls, interval, process, trace)
        finally:
            changer.stop()
        busy_lag = lag.reset()
        key_delay = await _key_delay(pilot, app)
        end_memory = process.memory_info().rss
    return {
        "objects": len(app.model.objects),
        "first screen s": first_screen,
        "first verdicts shown s": verdicts_shown,
        "worst loop stall ms, first screen to verdicts": first_lag * 1000,
        "apply ms, nothing changed": quiet,
        "apply ms, 1% changed": busy,
        "worst loop stall ms, nothing changed": quiet_lag * 1000,
        "worst loop stall ms, 1% changed": busy_lag * 1000,
        "key press to cursor moved ms": key_delay * 1000,
        "rss MiB: before app / first screen / after quiet / after 1% changing": (
            baseline / 2**20, first_memory / 2**20, quiet_memory / 2**20, end_memory / 2**20,
        ),
        f"rss MiB every {RSS_EVERY} busy refreshes": tuple(busy_rss),
        "python memory growth (tracemalloc)": growth,
    }  # fmt: skip


async def _busy(
    app: TimedApp, polls: int, interval: float, process: psutil.Process, trace: bool
) -> tuple[list[float], list[float], str]:
    """`polls` refreshes with 1% changing; resident memory every RSS_EVERY of them."""
    times: list[float] = []
    rss: list[float] = []
    first: tracemalloc.Snapshot | None = None
    while len(times) < polls:
        step = min(RSS_EVERY, polls - len(times))
        times += await _refreshes(None, app, step, interval)
        rss.append(process.memory_info().rss / 2**20)
        if trace and not tracemalloc.is_tracing() and len(times) >= TRACE_FROM:
            tracemalloc.start(8)
        elif trace and first is None and tracemalloc.is_tracing():
            # A picture one sample after tracing began: what a refresh replaces is traced in
            # both, so the difference is what stayed (the first picture would hold nothing).
            first = tracemalloc.take_snapshot()
    growth = "not traced (--tracemalloc)"
    if first is not None:
        last = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = _growth(first, last)
    return times, rss, growth


def _growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot) -> str:
    stats = last.compare_to(first, "traceback")
    total = sum(s.size_diff for s in stats)
    lines = [f"{total / 2**20:+.1f} MiB in all; the largest:"]
    for stat in stats[:8]:
        where = " < ".join(
            f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback[::-1][:4]
        )
        lines.append(f"    {stat.size_diff / 2**10:+.0f} KiB ({stat.count_diff:+d}) {where}")
    return "\n".join(lines)


async def _refreshes(pilot: object, app: TimedApp, polls: int, interval: float) -> list[float]:
    done = len(app.apply_times)
    while len(app.apply_times) < done + polls:
        await asyncio.sleep(interval / 4)
    return [t * 1000 for t in app.apply_times[done : done + polls]]


async def _key_delay(pilot: object, app: TimedApp) -> float:
    before = app.model.cursor_index or 0
    start = time.perf_counter()
    app.table.action_cursor_down()
    await asyncio.sleep(0)
    while (app.model.cursor_index or 0) == before:
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


def report(results: dict[str, object]) -> None:
    print(f"\n{machine()}")
    for name, value in results.items():
        if isinstance(value, list):
            print(f"  {name}: median {statistics.median(value):.1f}, max {max(value):.1f} "
                  f"over {len(value)} refreshes")  # fmt: skip
        elif isinstance(value, tuple):
            print(f"  {name}: " + " / ".join(f"{v:.0f}" for v in value))
        elif isinstance(value, float):
            print(f"  {name}: {value:.2f}")
        else:
            print(f"  {name}: {value}")


FIRST_SCREEN = Path(__file__).resolve().with_name("first_screen.py")


def start_once(python: str) -> dict[str, float]:
    """One start of the dashboard by `python`, timed from just before its launch."""
    before = time.monotonic()
    out = subprocess.run([python, str(FIRST_SCREEN)], check=True, capture_output=True, text=True)
    found = json.loads(out.stdout.splitlines()[-1])
    return {
        "first screen from launch s": found["first_screen"] - before,
        "first screen from the app's start s": found["app_to_first_screen"],
        "interpreter and imports s": found["imported"] - before,
        "verdicts shown from launch s": found["verdicts_shown"] - before,
        "worst stall from first screen to verdicts ms": found["stall_until_verdicts"] * 1000,
        "objects": found["objects"],
    }


def starts(rounds: int, before: str | None) -> dict[str, dict[str, list[float]]]:
    """Interleaved starts: one of each contender per round."""
    contenders = {"this": sys.executable, **({"before": before} if before else {})}
    results: dict[str, dict[str, list[float]]] = {who: {} for who in contenders}
    for _ in range(rounds):
        for who, python in contenders.items():
            for name, value in start_once(python).items():
                results[who].setdefault(name, []).append(value)
    return results


def report_starts(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{machine()}")
    for who, figures in results.items():
        print(f"  {who}:")
        for name, values in figures.items():
            print(f"    {name}: best {min(values):.3f}, median {statistics.median(values):.3f}, "
                  f"worst {max(values):.3f} over {len(values)} starts")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(MIXES), default="large")
    parser.add_argument("--polls", type=int, default=6)
    parser.add_argument("--busy-polls", type=int, help="refreshes with 1%% changing (--polls)")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--tracemalloc", action="store_true", help="where memory grew (slow)")
    parser.add_argument("--starts", type=int, help="time N starts in processes of their own")
    parser.add_argument("--before", metavar="PYTHON", help="with --starts: another install's")
    args = parser.parse_args()
    if args.starts:
        with populated(args.scale):
            report_starts(starts(args.starts, args.before))
        return 0
    busy_polls = args.busy_polls or args.polls
    with populated(args.scale) as (_, population):
        results = asyncio.run(
            measure(population, args.polls, busy_polls, args.interval, args.tracemalloc)
        )
        report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
