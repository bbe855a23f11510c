"""Limits against usage for every resource, as bars, in the manner of `lsipc -g`.

The meters fold into at most three lines whatever the width: each gets an equal share of a
line, and says less where it has less room (a shorter bar, then no amounts), never wrapping.
The percentage always shows, so a nearly full resource reads as such without its colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from shmtop.humanize import human_bytes
from shmtop.model import Kind, UsageItem
from shmtop.names import escape_text as plain_name


class Meter(NamedTuple):
    label: str  # where there is room
    short: str  # where there is not
    key: str  # in the snapshot's usage
    kind: Kind | None  # whose unavailability explains a missing figure


ITEMS: tuple[Meter, ...] = (
    Meter("SysV segments", "segments", "sysv-shm.segments", Kind.SYSV_SHM),
    Meter("SysV shm pages", "shm pages", "sysv-shm.pages", Kind.SYSV_SHM),
    Meter("SysV shm in RAM", "shm RAM", "sysv-shm.rss", Kind.SYSV_SHM),
    Meter("SysV queues", "queues", "sysv-msg.queues", Kind.SYSV_MSG),
    Meter("SysV sem sets", "sem sets", "sysv-sem.sets", Kind.SYSV_SEM),
    Meter("SysV semaphores", "sems", "sysv-sem.semaphores", Kind.SYSV_SEM),
    Meter("POSIX shm", "POSIX shm", "posix-shm.objects", Kind.POSIX_SHM),
    Meter("POSIX sems", "POSIX sem", "posix-sem.objects", Kind.POSIX_SEM),
    Meter("POSIX queues", "POSIX mq", "posix-mq.queues", Kind.POSIX_MQ),
    Meter("/dev/shm space", "/dev/shm", "dev-shm.bytes", None),
    Meter("/dev/shm inodes", "inodes", "dev-shm.inodes", None),
)
LINES = 3
GAP = 2
WARN_AT, FULL_AT = 80.0, 95.0


class Layout(NamedTuple):
    """How much one meter shows in `width` cells."""

    width: int
    label: int
    bar: int
    amounts: bool

    @classmethod
    def for_width(cls, width: int) -> Layout:
        if width >= 44:
            return cls(width, 16, 10, True)
        if width >= 26:
            return cls(width, 10, 6, True)
        return cls(width, 10, max(2, width - 15), False)


class LimitsOverview(Widget):
    COMPONENT_CLASSES = {
        "overview--label",
        "overview--bar",
        "overview--bar-empty",
        "overview--warn",
        "overview--full",
    }
    DEFAULT_CSS = """
    LimitsOverview {
        height: auto;
        padding: 0 1;
        & > .overview--label { color: $text-muted; }
        & > .overview--bar { color: $text-success; }
        & > .overview--bar-empty { color: $foreground 35%; }
        & > .overview--warn { color: $text-warning; }
        & > .overview--full { color: $text-error; text-style: bold; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._usage: dict[str, UsageItem] = {}
        self._unavailable: Mapping[Kind, str] = {}
        self._items: tuple[Meter, ...] = ITEMS

    def show(
        self,
        usage: Mapping[str, UsageItem],
        unavailable: Mapping[Kind, str],
        fullest: tuple[str, UsageItem] | None = None,
    ) -> None:
        """The meters of one namespace's usage; `fullest`: the name and /dev/shm use of the
        fullest other namespace's /dev/shm (a container's), shown as one more meter."""
        self._usage, self._unavailable = dict(usage), unavailable
        self._items = ITEMS
        if fullest is not None:
            name, item = fullest
            key = "fullest.dev-shm.bytes"
            self._usage[key] = item
            label = f"{plain_name(name)[:9]} shm"
            self._items = (*ITEMS, Meter(label, label, key, None))
        self.refresh()

    def render(self) -> Table:
        per_line = -(-len(self._items) // LINES)
        width = max(12, (self.content_size.width - GAP * (per_line - 1)) // per_line)
        layout = Layout.for_width(width)
        grid = Table.grid(padding=(0, GAP, 0, 0), expand=False)
        for _ in range(per_line):
            grid.add_column(width=width, no_wrap=True, overflow="crop")
        cells = [self._item(meter, layout) for meter in self._items]
        for start in range(0, len(cells), per_line):
            grid.add_row(*cells[start : start + per_line])
        return grid

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

    def _item(self, meter: Meter, layout: Layout) -> Text:
        label = meter.label if layout.label >= 16 else meter.short
        shown = f"{label[: layout.label - 1]:<{layout.label}}"  # a space after, always
        text = Text(shown, style=self._style("overview--label"))
        item = self._usage.get(meter.key)
        room = layout.width - layout.label
        if item is None:
            reason = "not mounted" if meter.kind is Kind.POSIX_MQ else "unavailable"
            if len(reason) > room:
                reason = "no mount" if meter.kind is Kind.POSIX_MQ else "unknown"
            text.append("-" if meter.kind not in self._unavailable else reason[:room])
            return text
        if item.limit is None or item.unlimited:
            text.append(f"{_amount(item.used, item.unit):>{min(room, 9)}}")
            if item.unlimited and room >= 20:
                text.append(" (no limit)", style=self._style("overview--label"))
            return text
        percent = item.percent or 0.0
        text.append_text(self._bar(percent, layout.bar))
        text.append(f" {int(percent):3d}%", style=self._style(_level(percent)))
        amounts = f" {_amount(item.used, item.unit)}/{_amount(item.limit, item.unit)}"
        if layout.amounts and len(text) + len(amounts) <= layout.width:
            text.append(amounts)
        return text

    def _bar(self, percent: float, width: int) -> Text:
        filled = min(width, round(percent * width / 100))
        if percent > 0 and filled == 0:
            filled = 1
        bar = Text("█" * filled, style=self._style(_level(percent)))
        bar.append("░" * (width - filled), style=self._style("overview--bar-empty"))
        return bar


def _level(percent: float) -> str:
    if percent >= FULL_AT:
        return "overview--full"
    return "overview--warn" if percent >= WARN_AT else "overview--bar"


def _amount(value: int, unit: str) -> str:
    if unit == "bytes":
        return human_bytes(value)
    return _count(value)


def _count(n: int) -> str:
    """Counts in at most five characters: 4096, 32k, 1.0G."""
    if n < 10_000:
        return str(n)
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            value = n / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(n)
