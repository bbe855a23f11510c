"""Removing from the dashboard: a confirmation that says what will happen, then the results.

Both are modal: `y` removes, `n` or Escape keeps; nothing is removed without the `y`. The
removal itself (identity check, backup, audit log) is shmtop.clean's Remover, run in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from shmtop.clean.remove import Outcome
from shmtop.tui.safe import plain_line

Planned = tuple[str, Sequence[str]]  # (reference, warnings or reasons)
_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; max-width: 130; height: auto; max-height: 80%;
    border: thick $error; background: $surface; padding: 0 1; }}
{name} VerticalScroll {{ height: auto; max-height: 30; }}
{name} #keys {{ color: $text-muted; }}
"""


class ConfirmRemoval(ModalScreen[bool]):
    """What will be removed, with warnings or reasons; y removes, n or Escape keeps."""

    BINDINGS = [
        Binding("y", "dismiss(True)", "Remove", id="remove.yes"),
        Binding("n,escape", "dismiss(False)", "Keep", id="remove.no"),
    ]
    DEFAULT_CSS = _CSS.format(name="ConfirmRemoval")

    def __init__(self, title: str, plan: Sequence[Planned], label: str = "warning") -> None:
        super().__init__()
        self.title_text = title
        self.plan = plan
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain_line(self.title_text, "bold"))
            with VerticalScroll():
                yield Static(Group(*_plan_lines(self.plan, self.label)), id="plan")
            yield Static(plain_line("y: remove   n or Escape: keep everything"), id="keys")


class RemovalResults(ModalScreen[None]):
    """What happened to each object."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="remove.close")]
    DEFAULT_CSS = _CSS.format(name="RemovalResults")

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes

    def compose(self) -> ComposeResult:
        removed = sum(o.result == "removed" for o in self.outcomes)
        with Vertical():
            yield Static(plain_line(f"{removed} of {len(self.outcomes)} removed", "bold"))
            with VerticalScroll():
                yield Static(Group(*(_outcome_line(o) for o in self.outcomes)), id="results")
            yield Static(plain_line("Escape or Enter: close"), id="keys")


def _plan_lines(plan: Sequence[Planned], label: str) -> list[Text]:
    lines = []
    for ref, notes in plan:
        lines.append(plain_line(ref, "bold"))
        lines.extend(plain_line(f"  {label}: {note}") for note in notes)
    return lines


def _outcome_line(outcome: Outcome) -> Text:
    style = {"removed": "green", "refused": "yellow"}.get(outcome.result, "red")
    return plain_line(f"{outcome.result}: {outcome.detail}", style)
