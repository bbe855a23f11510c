"""Every action by name: the help screen and the command palette (Ctrl+P), both made from
the key bindings, so that the palette finds an action by the name the help and the key bar
give it, and neither can go stale."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input

from shmtop.tui.detail import DetailScreen
from shmtop.tui.filter import FilterInput
from shmtop.tui.help import HelpScreen
from shmtop.tui.hexscreen import HexScreen
from shmtop.tui.hexview import HexView
from shmtop.tui.processes import KeyedTable, ProcessesScreen
from shmtop.tui.table import ObjectTable


class CommandActions(App[None]):
    """Mixed into ShmtopApp, which provides these."""

    keymap: Mapping[str, str]
    MAIN_SCREEN_ACTIONS: frozenset[str] = frozenset()

    def on_main_screen(self) -> bool:
        """Whether the table's screen is the one in use (the palette may be open over it)."""
        return len([s for s in self.screen_stack if not isinstance(s, CommandPalette)]) == 1

    def many_namespaces(self) -> bool:
        """Whether the snapshot shown holds more than one namespace (containers')."""
        snapshot = getattr(self, "snapshot", None)
        return snapshot is not None and len(snapshot.namespaces) > 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Table actions belong to the table: hidden and inert on the detail or help screens.
        The filter's key is a priority binding: in a line being typed it is just a "/"."""
        if action == "filter" and isinstance(self.focused, Input):
            return False
        if action == "next_namespace" and not self.many_namespaces():
            return False
        return not (action in self.MAIN_SCREEN_ACTIONS and not self.on_main_screen())

    def action_help(self) -> None:
        groups: list[tuple[str, Iterable[BindingType]]] = [
            ("Dashboard", self._effective(self.BINDINGS)),
            ("Table", self._effective(ObjectTable.BINDINGS)),
            ("Filter line", self._effective(FilterInput.BINDINGS[:1])),
            ("Detail view", self._effective(DetailScreen.BINDINGS)),
            ("Hex view", self._effective([*HexScreen.BINDINGS, *HexView.BINDINGS])),
            ("Processes", self._effective([*ProcessesScreen.BINDINGS, *KeyedTable.BINDINGS])),
        ]
        self.push_screen(HelpScreen(groups))

    def _effective(self, bindings: Iterable[BindingType]) -> list[Binding]:
        """Bindings as the keymap has them (a remapped key shows its new key)."""
        found = []
        for binding in bindings:
            if isinstance(binding, Binding):
                remapped = self.keymap.get(binding.id or "")
                found.append(binding if remapped is None else replace(binding, key=remapped))
        return found

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every action the screen's keys offer, by the name the
        key bar and the help give it (its description), explained by its tooltip."""
        own = list(super().get_system_commands(screen))
        yield from own
        titles = {command.title for command in own}
        for title, meaning, action, node in _actions(screen):
            if title not in titles:
                titles.add(title)
                yield SystemCommand(title, meaning, partial(self.run_action, action, node))


def _actions(screen: Screen[object]) -> Iterator[tuple[str, str, str, DOMNode]]:
    """(title, meaning, action, where it runs) of each binding active on the screen, shown in
    the key bar or not, once each."""
    seen: set[tuple[str, int]] = set()
    for active in screen.active_bindings.values():
        binding, node = active.binding, active.node
        if not active.enabled or (binding.action, id(node)) in seen:
            continue
        seen.add((binding.action, id(node)))
        yield binding.description, binding.tooltip or binding.description, binding.action, node
