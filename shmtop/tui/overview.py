"""Limits against usage for every resource, as bars, in the manner of `lsipc -g`."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from shmtop.humanize import human_bytes
from shmtop.model import Kind, UsageItem

ITEMS: tuple[tuple[str, str, Kind | None], ...] = (
    ("SysV segments", "sysv-shm.segments", Kind.SYSV_SHM),
    ("SysV shm pages", "sysv-shm.pages", Kind.SYSV_SHM),
    ("SysV shm in RAM", "sysv-shm.rss", Kind.SYSV_SHM),
    ("SysV queues", "sysv-msg.queues", Kind.SYSV_MSG),
    ("SysV sem sets", "sysv-sem.sets", Kind.SYSV_SEM),
    ("SysV semaphores", "sysv-sem.semaphores", Kind.SYSV_SEM),
    ("POSIX shm", "posix-shm.objects", Kind.POSIX_SHM),
    ("POSIX sems", "posix-sem.objects", Kind.POSIX_SEM),
    ("POSIX queues", "posix-mq.queues", Kind.POSIX_MQ),
    ("/dev/shm space", "dev-shm.bytes", None),
    ("/dev/shm inodes", "dev-shm.inodes", None),
)
BAR_WIDTH = 10
PER_ROW = 3


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
        & > .overview--bar { color: $success; }
        & > .overview--bar-empty { color: $panel-lighten-2; }
        & > .overview--warn { color: $warning; }
        & > .overview--full { color: $error; text-style: bold; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._usage: Mapping[str, UsageItem] = {}
        self._unavailable: Mapping[Kind, str] = {}

    def show(self, usage: Mapping[str, UsageItem], unavailable: Mapping[Kind, str]) -> None:
        self._usage, self._unavailable = usage, unavailable
        self.refresh()

    def render(self) -> Table:
        grid = Table.grid(padding=(0, 3), expand=False)
        for _ in range(PER_ROW):
            grid.add_column()
        cells = [self._item(label, key, kind) for label, key, kind in ITEMS]
        for start in range(0, len(cells), PER_ROW):
            grid.add_row(*cells[start : start + PER_ROW])
        return grid

    def _item(self, label: str, key: str, kind: Kind | None) -> Text:
        text = Text(f"{label:<16}", style=self.get_component_rich_style("overview--label"))
        item = self._usage.get(key)
        if item is None:
            reason = "not mounted" if kind is Kind.POSIX_MQ else "unavailable"
            text.append("-" if kind not in self._unavailable else reason)
            return text
        if item.limit is None or item.unlimited:
            text.append(_amount(item.used, item.unit))
            if item.unlimited:
                text.append(" (no limit)", style=self.get_component_rich_style("overview--label"))
            return text
        text.append_text(self._bar(item.percent or 0.0))
        text.append(f" {item.percent or 0:5.1f}% {_amount(item.used, item.unit)}")
        text.append(f"/{_amount(item.limit, item.unit)}")
        return text

    def _bar(self, percent: float) -> Text:
        filled = min(BAR_WIDTH, round(percent * BAR_WIDTH / 100))
        if percent > 0 and filled == 0:
            filled = 1
        level = "overview--bar" if percent < 80 else "overview--warn"
        if percent >= 95:
            level = "overview--full"
        bar = Text("█" * filled, style=self.get_component_rich_style(level))
        bar.append(
            "░" * (BAR_WIDTH - filled), style=self.get_component_rich_style("overview--bar-empty")
        )
        return bar


def _amount(value: int, unit: str) -> str:
    return human_bytes(value) if unit == "bytes" else str(value)
