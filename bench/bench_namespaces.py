"""Benchmark: every namespace of a host at once, beside the operator's loop of nsenter, same run.

    sudo .venv/bin/python bench/bench_namespaces.py [--boxes 50] [--repeat N]

Starts N boxes (`unshare --ipc --mount --uts --pid --fork`, an 8 MiB tmpfs on /dev/shm), each
running tests/ipcbox.c: a System V segment (attached) and queue, a /dev/shm file and a POSIX
queue. Then times `shmtop list -A --json` and `shmtop limits -A --json` against a loop of
`nsenter -t PID -i -m lsipc` over the same namespaces (what the issue names), and against a
loop that lists what shmtop lists (three `lsipc --json` and an `ls -la` of /dev/shm and
/dev/mqueue in each). The boxes are killed at the end (also on Ctrl-C or SIGTERM): their
namespaces and objects go with them. Needs root and gcc.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench_collect import SHMTOP, machine, ratio, timed

from shmtop.collect.everywhere import collect_everywhere
from shmtop.namespaces.discover import discover
from shmtop.namespaces.enter import release_all

IPCBOX = Path(__file__).resolve().parent.parent / "tests" / "ipcbox.c"
SHELL = "mount -t tmpfs -o size=8m none /dev/shm && hostname {tag} && exec {ipcbox} {tag}"


@contextlib.contextmanager
def boxes(count: int) -> Iterator[list[int]]:
    """`count` boxes, ready; the pid (on the host) of each one's ipcbox."""
    made: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-ns-") as scratch:
        ipcbox = f"{scratch}/ipcbox"
        subprocess.run(["gcc", "-O2", "-o", ipcbox, str(IPCBOX)], check=True)
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            for n in range(count):
                shell = SHELL.format(tag=f"bench-box-{n}", ipcbox=ipcbox)
                made.append(subprocess.Popen(
                    ["unshare", "--ipc", "--mount", "--uts", "--pid", "--fork", "--kill-child",
                     "sh", "-c", shell],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                ))  # fmt: skip
            for box in made:
                assert box.stdout is not None and box.stdout.readline().startswith("ready")
            yield [_child_of(box.pid) for box in made]
        finally:
            release_all()
            for box in made:
                box.kill()  # --kill-child: its ipcbox, and with it the namespaces, go too
                box.wait()
            signal.signal(signal.SIGTERM, previous)


def _child_of(pid: int) -> int:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return int(f.read().split()[0])


def loop(pids: list[int], argv: list[str]) -> Callable[[], object]:
    def run() -> None:
        for pid in pids:
            subprocess.run(["nsenter", "-t", str(pid), "-i", "-m", *argv],
                           stdout=subprocess.DEVNULL, check=True)  # fmt: skip

    return run


def measure(pids: list[int], repeat: int) -> dict[str, list[float]]:
    listing = "lsipc --json -m; lsipc --json -q; lsipc --json -s; ls -la /dev/shm /dev/mqueue"
    cases: dict[str, Callable[[], object]] = {
        f"nsenter ... lsipc (x{len(pids)})": loop(pids, ["lsipc"]),
        f"nsenter ... 3 lsipc --json + ls (x{len(pids)})": loop(pids, ["sh", "-c", listing]),
        "shmtop list -A --json": lambda: _run([*SHMTOP, "list", "-A", "--json"]),
        "shmtop limits -A --json": lambda: _run([*SHMTOP, "limits", "-A", "--json"]),
        "discover() in process": discover,
        "collect_everywhere() in process": collect_everywhere,
        "collect_everywhere(attachers) in process": lambda: collect_everywhere(attachers=True),
    }
    results = {}
    for name, fn in cases.items():
        results[name] = timed(fn, repeat)
        print(f"  measured {name}", file=sys.stderr)
    return results


def _run(argv: list[str]) -> None:
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)


def report(count: int, results: dict[str, list[float]]) -> None:
    print(f"\n{machine()}")
    runs = len(next(iter(results.values())))
    print(f"{count} boxes (IPC, mount, UTS and pid namespaces, 4 objects each), "
          f"best and median of {runs} runs\n")  # fmt: skip
    print(f"| {'what':44} | {'best ms':>8} | {'median ms':>9} |")
    print(f"| {'-' * 44} | {'-' * 8}: | {'-' * 9}: |")
    for name, times in results.items():
        print(f"| {name:44} | {min(times) * 1000:8.1f} | {statistics.median(times) * 1000:9.1f} |")
    best = {name: min(times) for name, times in results.items()}
    lsipc, listing = (best[name] for name in list(results)[:2])
    print("\nratios (best times):")
    ratio("shmtop list -A --json / nsenter lsipc loop", best["shmtop list -A --json"], lsipc,
          "target <= 1.0")  # fmt: skip
    ratio("shmtop list -A --json / nsenter listing loop", best["shmtop list -A --json"], listing,
          "")  # fmt: skip
    ratio("shmtop limits -A --json / nsenter lsipc loop", best["shmtop limits -A --json"], lsipc,
          "")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with boxes(args.boxes) as pids:
        time.sleep(0.2)
        report(args.boxes, measure(pids, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
