"""Removing from the dashboard: a question that says what will happen, then the results.

All are modal, and nothing is removed without the `y`. Delete asks about the marked rows (or
the cursor's) with what to know first; C lists what looks leaked, each object with its
size, key and owner beside its reasons, and lets the operator pick which to remove. The
removal itself (identity check, backup, audit log) is shmtop.clean's Remover, in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from shmtop.clean.remove import NOT_REMOVABLE, Outcome
from shmtop.columns import COLUMN_BY_ID, Context, Users
from shmtop.model import IpcObject
from shmtop.tui.safe import plain, plain_line

NO_WARNINGS = "no warnings: no process is known to use it"


class Planned(NamedTuple):
    """One object in a question: what it is, and what to know (warnings, or reasons)."""

    ref: str
    summary: str  # size, key, owner
    notes: Sequence[str]


def summary(obj: IpcObject, users: Users) -> str:
    """ "256K  key 0x5eed0001  owner postgres": what tells objects apart at a glance."""
    context = Context(users)
    size, key, owner = (COLUMN_BY_ID[c].cell(obj, context) for c in ("size", "key", "owner"))
    return f"{size}  key {key}  owner {owner}"


def planned(obj: IpcObject, users: Users, notes: Sequence[str]) -> Planned:
    return Planned(obj.ref, summary(obj, users), notes)


_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; max-width: 130; height: auto; max-height: 90%;
    border: thick $error; background: $surface; padding: 0 1; }}
{name} VerticalScroll {{ height: auto; max-height: 30; }}
{name} OptionList {{ height: auto; max-height: 30; }}
{name} #keys {{ color: $text-muted; }}
"""


class ConfirmRemoval(ModalScreen[bool]):
    """What will be removed, with what to know first; y removes, n or Escape keeps."""

    BINDINGS = [
        Binding("y", "dismiss(True)", "Remove", id="remove.yes"),
        Binding("n,escape", "dismiss(False)", "Keep", id="remove.no"),
    ]
    DEFAULT_CSS = _CSS.format(name="ConfirmRemoval")

    def __init__(self, title: str, plan: Sequence[Planned]) -> None:
        super().__init__()
        self.title_text = title
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain_line(self.title_text, "bold"))
            with VerticalScroll():
                yield Static(Group(*_plan_lines(self.plan)), id="plan")
            yield Static(plain_line("y: remove   n or Escape: keep everything"), id="keys")


def _plan_lines(plan: Sequence[Planned]) -> list[Text]:
    lines = []
    for item in plan:
        lines.append(_heading(item))
        notes = [f"warning: {note}" for note in item.notes] or [NO_WARNINGS]
        lines.extend(plain_line(f"  {note}") for note in notes)
    return lines


def _heading(item: Planned) -> Text:
    line = plain(item.ref, "bold")
    line.append_text(plain(f"  {item.summary}", "dim"))
    line.end = "\n"
    return line


class CleanChoice(ModalScreen[list[str] | None]):
    """What looks leaked, each with its reasons; the operator picks what to remove (all at
    first), and y removes the picked ones."""

    BINDINGS = [
        Binding("space", "pick", "Pick", id="clean.pick", tooltip="Pick or unpick the object"),
        Binding("a", "pick_all", "All/none", id="clean.all", tooltip="Pick all, or none"),
        Binding("y", "remove", "Remove picked", id="clean.yes"),
        Binding("n,escape", "dismiss(None)", "Keep all", id="clean.no"),
    ]
    DEFAULT_CSS = _CSS.format(name="CleanChoice")

    def __init__(self, title: str, plan: Sequence[Planned]) -> None:
        super().__init__()
        self.title_text = title
        self.plan = plan
        self.picked = {item.ref for item in plan}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain_line(self.title_text, "bold"))
            options = [Option(self._prompt(item), id=item.ref) for item in self.plan]
            yield OptionList(*options, id="plan")
            yield Static(id="keys")

    def on_mount(self) -> None:
        self._show_keys()

    def _prompt(self, item: Planned) -> Text:
        box = "[x] " if item.ref in self.picked else "[ ] "
        text = plain(box)
        text.append_text(_heading(item))
        for reason in item.notes:
            text.append("\n")
            text.append_text(plain(f"      why: {reason}"))
        return text

    def text(self) -> str:
        """Every object and reason as the list shows them (scrolled out of sight or not)."""
        return "\n".join(self._prompt(item).plain for item in self.plan)

    def _show_keys(self) -> None:
        keys = (
            f"y: remove the {len(self.picked)} picked   space: pick or unpick   "
            "a: all or none   n or Escape: keep everything"
        )
        self.query_one("#keys", Static).update(plain(keys))

    def _redraw(self, refs: Sequence[str]) -> None:
        options = self.query_one(OptionList)
        for item in self.plan:
            if item.ref in refs:
                options.replace_option_prompt(item.ref, self._prompt(item))
        self._show_keys()

    def action_pick(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id is not None:
            self.picked ^= {option.id}
            self._redraw([option.id])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_pick()  # Enter or a click picks too

    def action_pick_all(self) -> None:
        every = [item.ref for item in self.plan]
        self.picked = set() if len(self.picked) == len(every) else set(every)
        self._redraw(every)

    def action_remove(self) -> None:
        self.dismiss([item.ref for item in self.plan if item.ref in self.picked])


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


def outcome_text(outcome: Outcome) -> str:
    """ "removed posix-shm:/x", with what else the remover said ("; saved to DIR"); "refused
    posix-shm:/x: it was replaced a moment ago" (the reference said once)."""
    detail = outcome.detail
    if outcome.result == "removed":
        said = f"{outcome.ref} removed"
        rest = detail[len(said) :].lstrip("; ") if detail.startswith(said) else detail
        return f"removed {outcome.ref}" + (f": {rest}" if rest else "")
    return f"{outcome.result} {outcome.ref}: {detail}"


def _outcome_line(outcome: Outcome) -> Text:
    style = {"removed": "green", "refused": "yellow"}.get(outcome.result, "red")
    return plain_line(outcome_text(outcome), style)


def not_removable(objects: list[IpcObject]) -> str:
    """Why pipes, memfd objects, mappings and deleted files are not offered for removal."""
    which = objects[0].ref if len(objects) == 1 else f"{len(objects)} objects"
    return f"{which} not offered for removal: {NOT_REMOVABLE}"
