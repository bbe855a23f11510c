"""The installed dashboard in tmux at the sizes terminals have (an ssh session's 80x24, 120x30,
200x60), in the dark and the light theme: what an operator needs is on the first screen,
and the reference stays when the table scrolls sideways."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from tests.ipcfactory import IpcFactory
from tests.tui.test_terminal import SHMTOP, tmux, wait_for  # noqa: F401 (tmux: a fixture)

OBJECTS = 12  # more than the 10 rows the smallest terminal must show
_BACKGROUND = re.compile(r"[\[;]48;(2;\d+;\d+;\d+|5;\d+)")
_CUBE = (0, 95, 135, 175, 215, 255)  # xterm's 256 colours: a 6x6x6 cube, then greys


def _brightness(colour: str) -> int:
    """0-255, of a truecolor "2;R;G;B" or an xterm "5;N" (tmux hands on either)."""
    kind, *values = (int(v) for v in colour.split(";"))
    if kind == 2:
        return sum(values) // 3
    n = values[0]
    if n < 16:
        return 255 if n in (7, 15) else 128 if n == 8 else 0
    if n >= 232:
        return 8 + 10 * (n - 232)
    n -= 16
    return (_CUBE[n // 36] + _CUBE[n // 6 % 6] + _CUBE[n % 6]) // 3


def backgrounds(screen: str) -> list[int]:
    """The brightness of every background colour the screen sets."""
    return [_brightness(colour) for colour in _BACKGROUND.findall(screen)]


@pytest.mark.parametrize(
    ("columns", "rows", "theme"),
    [
        (80, 24, "textual-dark"),
        (80, 24, "textual-light"),
        (120, 30, "textual-light"),
        (200, 60, "textual-dark"),
    ],
    ids=str,
)
def test_the_first_screen_at_the_usual_sizes(
    tmux: Callable[..., str],  # noqa: F811
    ipc: IpcFactory,
    columns: int,
    rows: int,
    theme: str,
) -> None:
    tag = f"sz{secrets.token_hex(3)}"  # short: a narrow REF cuts long names in the middle
    for i in range(OBJECTS):
        ipc.posix_shm(size=4096 * (i + 1), tag=f"{tag}-{i:02}")
    command = f"{SHMTOP} --interval 0.5 --theme {theme}; echo shmtop-exited-$?; sleep 60"
    tmux("new-session", "-d", "-s", "sizes", "-x", str(columns), "-y", str(rows), "sleep 60")
    tmux("respawn-pane", "-k", "-t", "sizes", command)

    def pane(*options: str) -> str:
        return tmux("capture-pane", "-t", "sizes", "-p", *options)

    wait_for(lambda: " shown" in pane(), seen=pane)  # as a user would: the table is there
    # (not our rows: other objects of the host may come first on the first screen)
    tmux("send-keys", "-t", "sizes", "/")
    wait_for(lambda: "Clear filter" in pane(), seen=pane)  # the filter line has the keys
    tmux("send-keys", "-t", "sizes", "-l", tag)
    tmux("send-keys", "-t", "sizes", "Enter")
    wait_for(lambda: f"{OBJECTS} of " in pane() and "⏎ Detail" in pane(), seen=pane)
    lines = pane().splitlines()
    heading = next(i for i, line in enumerate(lines) if " REF " in line)
    assert heading <= 5, "the header, at most three lines of meters and the tabs come first"
    assert re.search(r"REF .* SIZE +ALLOC USE +LEAK", lines[heading])
    assert f"{OBJECTS} of " in lines[0] and f"filter: {tag}" in lines[0]
    shown = [line for line in lines if tag in line and "posix-shm:" in line]
    assert len(shown) == OBJECTS >= 10  # every row on the first screen
    assert all(re.search(r"posix-shm:/\S+ +\d+K +\d+\w? ", line) for line in shown), shown
    assert all(len(line) <= columns for line in lines)  # nothing wraps

    brightness = backgrounds(pane("-e"))
    light = sum(1 for b in brightness if b > 128) > len(brightness) / 2
    assert light == (theme == "textual-light"), brightness[:20]

    if "CHANGED" in lines[heading]:  # every column fits: nothing to scroll
        assert columns >= 200
    else:
        tmux("send-keys", "-t", "sizes", "Right", "Right", "Right", "Right", "Right", "Right")
        wait_for(lambda: " SIZE " not in pane() and " MODE " in pane(), seen=pane)
        lines = pane().splitlines()
        assert any(line.startswith(" ! REF ") for line in lines)  # the reference stays
        assert sum(1 for line in lines if tag in line and "posix-shm:" in line) == OBJECTS
    tmux("send-keys", "-t", "sizes", "q")
    wait_for(lambda: "shmtop-exited-0" in pane(), seen=pane)
