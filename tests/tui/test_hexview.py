"""The hex view and the detail view's contents, driven with Pilot over real objects."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sysv_ipc
from textual import events
from textual.geometry import Region
from textual.pilot import Pilot

from shmtop.libc import sem_set_value
from shmtop.tui.app import ShmtopApp
from shmtop.tui.detail import DetailScreen
from shmtop.tui.hexscreen import HexScreen
from shmtop.tui.hexview import HexView
from tests.holders import holders, waiting_for_zero
from tests.ipcfactory import IpcFactory, unique
from tests.privileges import run_as_nobody
from tests.tui.screen import until

SIZE = (120, 40)
MiB = 1 << 20


@pytest.fixture
def hold() -> Iterator[object]:
    with holders() as hold:
        yield hold


async def open_detail(pilot: Pilot, ref: str) -> DetailScreen:
    """As a user: filter down to the object (its name pasted), Enter for its detail view."""
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    await until(pilot, lambda: app.snapshot is not None)
    await pilot.press("slash")
    focused = app.focused
    assert focused is not None
    focused.post_message(events.Paste(ref.split(":", 1)[1]))  # pasted: typing is slow
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: app.model.order == [ref])
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DetailScreen))
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    await until(pilot, lambda: screen.obj is not None)
    return screen


async def open_hex(pilot: Pilot, ref: str) -> HexScreen:
    await open_detail(pilot, ref)
    await pilot.press("x")
    await until(pilot, lambda: isinstance(pilot.app.screen, HexScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HexScreen)
    await pilot.pause()
    return screen


def lines(screen: HexScreen) -> list[str]:
    """The hex view's lines as drawn, without the padding."""
    view = screen.query_one(HexView)
    drawn = [view.render_line(y).text.strip() for y in range(view.scrollable_content_region.height)]
    return [line for line in drawn if line]


def field_lines(screen: DetailScreen) -> list[str]:
    """The detail view's fields and contents as drawn, line by line (also below the fold)."""
    fields = screen.query_one("#fields")
    size = fields.size
    return [strip.text for strip in fields.render_lines(Region(0, 0, size.width, size.height))]


def status(screen: HexScreen) -> str:
    return str(screen.query_one("#status").render())


async def answer(pilot: Pilot, key: str, text: str) -> None:
    """Press a key that asks a question, replace the suggested answer with `text`, Enter."""
    await pilot.press(key)
    screen = pilot.app.screen
    assert isinstance(screen, HexScreen)
    screen.prompt.value = text
    await pilot.press("enter")
    await pilot.pause()


def app() -> ShmtopApp:
    return ShmtopApp(interval=60)


# Bytes where they were written ------------------------------------------------------------


async def test_x_in_the_detail_view_shows_bytes_at_their_offsets(ipc: IpcFactory) -> None:
    marks = {0: b"HEAD", 0x12345: b"MIDDLE", MiB - 4: b"TAIL"}
    name, _ = ipc.posix_shm_holding(b"", MiB, marks)
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        shown = lines(screen)
        assert (
            shown[0]
            == "00000000  48 45 41 44 00 00 00 00  00 00 00 00 00 00 00 00  |HEAD............|"
        )
        assert shown[1].startswith("00000010  00 00")
        assert "1048576 bytes" in str(screen.query_one("#title").render())
        await answer(pilot, "g", "0x12345")
        middle = "00012340  00 00 00 00 00 4d 49 44  44 4c 45 00 00 00 00 00  |.....MIDDLE.....|"
        assert middle in lines(screen)
        assert "at 0x12345" in status(screen)
        await pilot.press("end")
        await pilot.pause()
        tail = "000ffff0  00 00 00 00 00 00 00 00  00 00 00 00 54 41 49 4c  |............TAIL|"
        assert lines(screen)[-1] == tail
        await pilot.press("home")
        await pilot.pause()
        assert lines(screen)[0].startswith("00000000  48 45 41 44")
        await pilot.press("pagedown")
        await pilot.pause()
        page = screen.query_one(HexView).lines_on_screen
        assert lines(screen)[0].startswith(f"{page * 16:08x}  ")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))


async def test_goto_refuses_nonsense_and_offsets_past_the_end(ipc: IpcFactory) -> None:
    name, _ = ipc.posix_shm_holding(b"", 4096, {0: b"x"})
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        await answer(pilot, "g", "lots")
        assert "'lots' is not an offset" in status(screen)
        await answer(pilot, "g", "4k")
        assert "0x1000 is past the end" in status(screen)
        await answer(pilot, "g", "4095")
        assert "at 0xfff" in status(screen)


async def test_control_bytes_and_markup_are_dots_in_the_ascii_column(ipc: IpcFactory) -> None:
    data = b"\x1b]0;t\x07[b]x[/b]\x9b\xff\x00ok"
    name, _ = ipc.posix_shm_holding(b"", len(data), {0: data})
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        assert lines(screen)[0].endswith("|.]0;t.[b]x[/b]..|")
        assert lines(screen)[1] == "00000010  00 6f 6b" + " " * 40 + "  |.ok|"


# Search -----------------------------------------------------------------------------------


async def test_search_finds_hex_bytes_across_a_chunk_boundary_then_n_finds_the_next(
    ipc: IpcFactory,
) -> None:
    marks = {MiB - 2: b"\xde\xad\xbe\xef", 2 * MiB + 0x100: b"\xde\xad\xbe\xef"}
    name, _ = ipc.posix_shm_holding(b"", 3 * MiB, marks)
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        view = screen.query_one(HexView)
        await answer(pilot, "slash", "0x de ad be ef")
        await until(pilot, lambda: "0xde ad be ef at" in status(screen))
        assert view.mark == (MiB - 2, 4)
        boundary = "000ffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 de ad  |................|"
        assert boundary in lines(screen)
        await pilot.press("n")
        await until(pilot, lambda: "at 0x200100" in status(screen))
        assert view.mark == (2 * MiB + 0x100, 4)
        await pilot.press("n")
        await until(pilot, lambda: "at 0xffffe (wrapped to the start)" in status(screen))


async def test_text_search_says_when_nothing_matches(ipc: IpcFactory) -> None:
    name, _ = ipc.posix_shm_holding(b"", 64 * 1024, {40_000: b"needle"})
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        await answer(pilot, "slash", "needle")
        await until(pilot, lambda: "'needle' at 0x9c40" in status(screen))
        assert any(line.endswith("|needle..........|") for line in lines(screen))
        await answer(pilot, "slash", "haystack")
        await until(pilot, lambda: "'haystack' not found" in status(screen))


async def test_escape_stops_a_long_search_and_keeps_the_view_open(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"", 8 << 30, {})  # 8 GiB of holes: seconds to search
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        await answer(pilot, "slash", "absent")
        await until(pilot, lambda: "searching" in status(screen))
        await pilot.press("escape")
        await until(pilot, lambda: "search stopped" in status(screen))
        assert pilot.app.screen is screen
        assert os.stat(path).st_blocks == 0  # searching allocated nothing


# Write a range, re-read -------------------------------------------------------------------


async def test_w_writes_exactly_the_range_and_never_over_a_file(
    ipc: IpcFactory, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    name, _ = ipc.posix_shm_holding(b"", len(data), {0: data})
    target = tmp_path / "range.bin"
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        await pilot.press("w")
        assert screen.prompt.value.startswith("0x0 200000 ")  # from the top line to the end
        await pilot.press("escape")
        await answer(pilot, "w", f"0x100 100k {target}")
        await until(pilot, lambda: "wrote" in status(screen))
        assert f"wrote 102400 bytes from 0x100 to {target}" in status(screen)
        assert target.read_bytes() == data[0x100 : 0x100 + 100 * 1024]
        await answer(pilot, "w", f"0 10 {target}")
        await until(pilot, lambda: "exists" in status(screen))
        assert target.read_bytes() == data[0x100 : 0x100 + 100 * 1024]


async def test_an_object_truncated_while_viewed_then_r_reads_its_new_size(
    ipc: IpcFactory,
) -> None:
    name, path = ipc.posix_shm_holding(b"", 4 * MiB, {0: b"start", 3 * MiB: b"later"})
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        os.truncate(path, 100)
        await answer(pilot, "g", "0x300000")  # never read before: the bytes are gone
        assert any("no bytes here: the object is shorter now" in line for line in lines(screen))
        await pilot.press("r")
        await pilot.pause()
        assert screen.query_one(HexView).byte_size == 100
        assert "100 bytes" in str(screen.query_one("#title").render())
        await pilot.press("home")
        await pilot.pause()
        shown = lines(screen)
        assert len(shown) == 7 and shown[-1].startswith("00000060  00 00 00 00  ")
        assert shown[0].endswith("|start...........|")


async def test_r_shows_bytes_that_changed_live(ipc: IpcFactory) -> None:
    name, path = ipc.posix_shm_holding(b"", 4096, {0: b"before"})
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"posix-shm:{name}")
        with open(path, "r+b") as f:
            f.write(b"after!")
        await pilot.press("r")
        await pilot.pause()
        assert lines(screen)[0].endswith("|after!..........|")


# Segments, sets, queues and permissions ---------------------------------------------------


async def test_a_mapped_sysv_segment_opens_without_attaching(ipc: IpcFactory, hold) -> None:
    segment = ipc.sysv_shm(size=8192)
    segment.attach()
    segment.write(b"segment bytes", 4096)
    segment.detach()
    holder = hold(lambda: sysv_ipc.attach(segment.id))
    time.sleep(1.1)  # a later attach would show in atime, which counts seconds
    before = segment.number_attached, segment.last_pid, segment.last_attach_time
    async with app().run_test(size=SIZE) as pilot:
        screen = await open_hex(pilot, f"sysv-shm:{segment.id}")
        await answer(pilot, "g", "4096")
        assert any(line.endswith("|segment bytes   |") for line in lines(screen))
        assert screen.reader.note is None  # read through the holder's mapping: no attach note
    assert (segment.number_attached, segment.last_pid, segment.last_attach_time) == before
    holder.release()


async def test_detail_shows_each_member_of_a_set_and_who_waits(ipc: IpcFactory) -> None:
    semid = ipc.sysv_sem(nsems=5)
    for num, value in enumerate((3, 0, 1, 7, 0)):
        sem_set_value(semid, num, value)
    with waiting_for_zero(semid, 2):
        async with app().run_test(size=(160, 60)) as pilot:
            screen = await open_detail(pilot, f"sysv-sem:{semid}")
            await until(pilot, lambda: screen.contents is not None)
            await pilot.pause()
            text = "\n".join(field_lines(screen))
            rows = re.findall(r"^\s*(\d) +(\d+) +(\d+) +(\d+) +(\d+)\s*$", text, re.M)
            values = [(int(num), int(value), int(zcnt)) for num, value, _, zcnt, _ in rows]
            assert values == [(0, 3, 0), (1, 0, 0), (2, 1, 1), (3, 7, 0), (4, 0, 0)]
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(pilot.app.screen, DetailScreen)  # a set has no bytes to show
            notes = [n.message for n in pilot.app._notifications]
            assert any("holds no bytes" in note for note in notes)


async def test_detail_lists_a_queues_messages_and_leaves_them_there(ipc: IpcFactory) -> None:
    queue = ipc.sysv_msg()
    for mtype, text in ((1, b"first"), (7, b"second \x1b[2J"), (2, b"third")):
        queue.send(text, type=mtype)
    async with app().run_test(size=(160, 60)) as pilot:
        screen = await open_detail(pilot, f"sysv-msg:{queue.id}")
        await until(pilot, lambda: screen.contents is not None)
        await pilot.pause()
        text = "\n".join(field_lines(screen))
        assert "Contents" in [line.strip() for line in field_lines(screen)]  # its own line
        assert "\\n" not in text
        assert "3 messages, copied and left on the queue" in text
        assert re.search(r"0 +1 +5 +66 69 72 73 74 +first", text)
        assert re.search(r"1 +7 +11 +73 65 63 6f 6e 64 20 1b 5b 32 4a +second \\x1b\[2J", text)
        assert re.search(r"2 +2 +5 +74 68 69 72 64 +third", text)
    assert queue.current_messages == 3
    assert [queue.receive()[0] for _ in range(3)] == [b"first", b"second \x1b[2J", b"third"]


def test_opening_contents_as_nobody_says_who_may(ipc: IpcFactory) -> None:
    name, _ = ipc.posix_shm_holding(b"", 4096, {0: b"private"})
    ref = f"posix-shm:{name}"

    async def as_nobody() -> tuple[str, list[str]]:
        shmtop = app()
        async with shmtop.run_test(size=SIZE) as pilot:
            await open_detail(pilot, ref)
            await pilot.press("x")
            await pilot.pause()
            return type(shmtop.screen).__name__, [n.message for n in shmtop._notifications]

    screen, notes = run_as_nobody(lambda: asyncio.run(as_nobody()))
    assert screen == "DetailScreen"
    assert f"{ref} belongs to root (uid 0), mode 0600: reading it needs root" in notes


async def test_a_notification_about_a_hostile_name_is_text_not_markup(ipc: IpcFactory) -> None:
    raw = unique("gone").encode() + b"[@click=app.quit]x[b]"
    path = ipc.file(raw, b"bytes")
    ref = "posix-shm:/" + raw.decode()
    async with app().run_test(size=SIZE) as pilot:
        await open_detail(pilot, ref)
        os.unlink(path)  # gone between the detail view and x
        await pilot.press("x")
        await pilot.pause()
        [note] = [n for n in pilot.app._notifications if ref in n.message]
        assert note.message == f"{ref} no longer exists" and note.markup is False
        assert pilot.app.is_running  # the [@click=app.quit] in the name did nothing
