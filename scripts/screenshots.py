"""Render the real dashboard over `shmtop demo` into screenshots/ (SVG, and PNG if possible).

    sudo .venv/bin/python scripts/screenshots.py

Runs as root to mount /dev/mqueue for the duration (so POSIX queues show), starts the demo
workload, lets it run, drives the app headless and saves each view. PNGs need rsvg-convert
(Debian: librsvg2-bin). Everything the demo made is removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shmtop.demo import DemoWorkload
from shmtop.tui.app import ShmtopApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (170, 44)
VIEWS = (  # file name, keys pressed before the shot, seconds to wait after them
    ("dashboard", (), 0.3),
    ("sysv-shm-view", ("2",), 0.3),
    ("detail-leaked-segment", ("2", "end", "enter"), 1.0),
    ("filter", ("slash", *"leak", "enter"), 0.3),
    ("hex-view", ("5", "end", "enter", "x"), 1.0),
    ("clean", ("C",), 3.0),
    ("help", ("question_mark",), 0.3),
)


@contextmanager
def mqueue_mounted() -> Iterator[None]:
    mounted = subprocess.run(["mountpoint", "-q", "/dev/mqueue"], check=False).returncode == 0
    if not mounted and os.geteuid() == 0:
        os.makedirs("/dev/mqueue", exist_ok=True)
        subprocess.run(["mount", "-t", "mqueue", "none", "/dev/mqueue"], check=True)
    try:
        yield
    finally:
        if not mounted and os.geteuid() == 0:
            subprocess.run(["umount", "/dev/mqueue"], check=True)


async def shoot(name: str, keys: tuple[str, ...], wait: float) -> Path:
    app = ShmtopApp(interval=1.0)
    async with app.run_test(size=SIZE) as pilot:
        while app.snapshot is None:
            await pilot.pause(0.05)
        await pilot.pause(1.5)  # a refresh or two, so changes show highlighted
        await pilot.press(*keys)
        await pilot.pause(wait)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


def to_png(svg: Path) -> Path | None:
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return None
    png = svg.with_suffix(".png")
    subprocess.run([converter, "-w", "1600", str(svg), "-o", str(png)], check=True)
    return png


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with mqueue_mounted(), DemoWorkload() as demo:
        print(f"demo running with {len(demo.made)} objects", file=sys.stderr)
        time.sleep(2)
        for name, keys, wait in VIEWS:
            svg = asyncio.run(shoot(name, keys, wait))
            png = to_png(svg)
            print(f"wrote {svg.name}" + (f" and {png.name}" if png else ""), file=sys.stderr)
    if shutil.which("rsvg-convert") is None:
        print("no rsvg-convert: SVG only (apt-get install librsvg2-bin for PNG)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
