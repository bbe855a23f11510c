"""The command palette (Ctrl+P) finds every action of the screen it is opened over, by the
name the key bar and the help screen give it, and running it does what the key does."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.help import HelpScreen
from tests.tui.fakes import FakeSource, attach_map, mixed, snapshot
from tests.tui.screen import until

SIZE = (120, 40)


def make_app() -> ShmtopApp:
    return ShmtopApp(source=FakeSource(snapshot(mixed()), attach_map()), interval=60)


def found(app: ShmtopApp) -> list[str]:
    """The titles the palette lists now."""
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def search(pilot: Pilot, text: str, wanted: str) -> list[str]:
    """Open the palette, type text, and wait until it lists `wanted`."""
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*text)
    await until(pilot, lambda: any(wanted in title for title in found(app)))
    return found(app)


async def test_the_palette_finds_every_table_action_by_its_name() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        for word, title in (("remove", "Remove"), ("clean", "Clean"), ("mark", "Mark"),
                            ("detail", "Detail"), ("proc", "Processes"),
                            ("limits", "Limits"), ("posix mq", "View: POSIX mq")):  # fmt: skip
            assert any(title in shown for shown in await search(pilot, word, title)), word
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def test_a_command_from_the_palette_does_what_its_key_does() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await search(pilot, "mark", "Mark")
        await pilot.press("enter")
        await until(pilot, lambda: app.model.selected == {"sysv-shm:1"})
        await search(pilot, "help", "Help")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_over_the_detail_view_the_palette_finds_the_hex_view() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        detail = app.screen
        titles = {command.title for command in app.get_system_commands(detail)}
        assert "Back" in titles and not titles & {"Remove", "Clean", "Mark", "Sort"}
        assert "Hex view" in " ".join(await search(pilot, "hex", "Hex view"))
