"""The detail view: every field of one object, with what it means, who uses it and what it
holds (a set's members, a queue's messages); live while open. `x` or Enter opens its bytes."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from shmtop.clean.permission import denied
from shmtop.columns import Context, waiting_of
from shmtop.describe import Field, describe, describe_use
from shmtop.errors import NotPermitted, Unsupported, Vanished
from shmtop.inspect import (
    MESSAGE_LIMIT,
    Member,
    Message,
    has_bytes,
    open_reader,
    peek_messages,
    set_members,
)
from shmtop.model import AttachMap, IpcObject, PosixMq, SysvMsg, SysvSem, Verdict
from shmtop.model.roots import Roots
from shmtop.names import escape_name
from shmtop.severity import flags
from shmtop.tui.footer import KeyFooter
from shmtop.tui.hexscreen import HexScreen
from shmtop.tui.safe import plain, plain_line, tell

POSIX_MQ_NOTE = "a POSIX queue's messages cannot be read without taking them off it"
Contents = list[Member] | list[Message] | str | None  # str: why they cannot be shown


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding(
            "x,enter",
            "contents",
            "Hex view",
            id="detail.contents",
            tooltip="The object's bytes in a hex view",
        ),
    ]
    DEFAULT_CSS = """
    DetailScreen #title { height: 1; background: $primary; padding: 0 1; }
    DetailScreen #fields { padding: 0 1; }
    """

    def __init__(self, ref: str, places: Mapping[str, Roots] | None = None) -> None:
        super().__init__()
        self.ref = ref
        self.places = places or {}  # where each namespace's objects are read, by label
        self.obj: IpcObject | None = None
        self.users: Mapping[int, str | None] = {}
        self.attach: AttachMap | None = None
        self.contents: Contents = None
        self.verdict: Verdict | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(self.ref), id="title")
        with VerticalScroll():
            yield Static(id="fields")
        yield KeyFooter()

    def show(self, obj: IpcObject | None, context: Context) -> None:
        """The object as of the latest snapshot, with the table's context: user names, who
        attaches what, and the leak verdicts the poller judged with the latest scan."""
        self.obj, self.users, self.attach = obj, context.users, context.attach
        verdicts = context.verdicts or {}
        self.verdict = verdicts.get(obj.ref) if obj is not None else None
        if obj is None:
            self._fields.update(
                plain("gone: this object no longer exists (removed since it was listed)")
            )
            return
        self._draw()
        if isinstance(obj, SysvSem | SysvMsg):
            self._read_contents(obj)

    @property
    def _fields(self) -> Static:
        return self.query_one("#fields", Static)

    def _draw(self) -> None:
        if self.obj is None:
            return
        grid = _grid(
            describe(self.obj, self.users),
            describe_use(self.obj, self.attach, self.users)
            + _verdict_fields(self.verdict)
            + [self._flags_field()],
        )
        self._fields.update(Group(grid, *_contents(self.obj, self.contents)))

    def _flags_field(self) -> Field:
        """What the table's mark says, in words."""
        assert self.obj is not None
        waiting = waiting_of(self.obj, Context(self.users, self.attach))
        found = flags(self.obj, self.verdict, waiting)
        words = "; ".join(f"{flag.mark} {flag.word}" for flag in found)
        return Field("marks", words or "none", "the table's first column (? in the help)")

    @work(thread=True, exclusive=True, group="contents")
    def _read_contents(self, obj: SysvSem | SysvMsg) -> None:
        contents: Contents
        try:
            contents = set_members(obj) if isinstance(obj, SysvSem) else peek_messages(obj)
        except NotPermitted:
            contents = denied(obj, self.users, "reading the contents of")
        except (Vanished, Unsupported) as exc:
            contents = str(exc)
        self.app.call_from_thread(self._contents_read, obj.ref, contents)

    def _contents_read(self, ref: str, contents: Contents) -> None:
        if self.obj is not None and self.obj.ref == ref:
            self.contents = contents
            self._draw()

    def action_contents(self) -> None:
        obj = self.obj
        if obj is None or not has_bytes(obj):
            tell(self.app, "this object holds no bytes to show; its contents are listed here")
            return
        if obj.ns and obj.ns not in self.places:
            tell(self.app, f"{obj.ref}: its namespace is no longer read", "error")
            return
        try:
            reader = open_reader(obj, self.attach, self.places.get(obj.ns))
        except NotPermitted:
            tell(self.app, denied(obj, self.users, "reading"), "error")
        except (Vanished, Unsupported) as exc:
            tell(self.app, str(exc), "error")
        else:
            self.app.push_screen(HexScreen(reader))


def _verdict_fields(verdict: Verdict | None) -> list[Field]:
    """Whether it looks leaked (as `shmtop clean` judges, --min-age 10m), and why."""
    if verdict is None:
        return [Field("leaked?", "not judged yet", "judged with each scan of /proc")]
    value = {"leaked": "looks leaked (C cleans)", "in use": "in use",
             "unknown": "cannot tell: kept as in use"}[verdict.state]  # fmt: skip
    return [Field("leaked?", value, "; ".join(verdict.reasons))]


def _grid(fields: list[Field], used_by: list[Field]) -> Table:
    """One grid, so values and explanations line up under the "Used by" heading too."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_column(style="italic")
    for field in fields:
        table.add_row(plain(field.name), plain(field.value), plain(field.meaning))
    table.add_row("", "", "")
    table.add_row(plain("Used by", "underline"), "", "")
    for field in used_by:
        table.add_row(plain(field.name), plain(field.value), plain(field.meaning))
    return table


def _contents(obj: IpcObject, contents: Contents) -> list[RenderableType]:
    """The "Contents" section under the fields."""
    heading = Group(plain_line(""), plain_line("Contents", "underline"))
    if has_bytes(obj):
        return [heading, plain_line("x or Enter: the bytes in a hex view (read-only)", "italic")]
    if isinstance(obj, PosixMq):
        return [heading, plain_line(POSIX_MQ_NOTE, "italic")]
    if contents is None:
        return [heading, plain_line("reading…", "italic")]
    if isinstance(contents, str):
        return [heading, plain_line(contents, "italic")]
    if isinstance(obj, SysvSem):
        return [heading, _members(obj, [m for m in contents if isinstance(m, Member)])]
    return [heading, _messages([m for m in contents if isinstance(m, Message)])]


def _members(semset: SysvSem, members: list[Member]) -> Group:
    shown = "" if len(members) == semset.nsems else f", the first {len(members)} of {semset.nsems}"
    table = Table(box=None, pad_edge=False)
    for title in ("NUM", "VALUE", "NCNT", "ZCNT", "PID"):
        table.add_column(title, justify="right")
    for m in members:
        table.add_row(str(m.num), str(m.value), str(m.ncnt), str(m.zcnt), str(m.pid))
    return _titled(f"members{shown}", table)


def _messages(messages: list[Message]) -> Group:
    title = f"{len(messages)} messages, copied and left on the queue (at most {MESSAGE_LIMIT})"
    table = Table(box=None, pad_edge=False)
    for heading, justify in (("INDEX", "right"), ("MTYPE", "right"), ("SIZE", "right"),
                             ("FIRST BYTES", "left"), ("AS TEXT", "left")):  # fmt: skip
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for m in messages:
        table.add_row(str(m.index), str(m.mtype), str(m.size), plain(m.head.hex(" ")),
                      plain(escape_name(m.head)))  # fmt: skip
    return _titled(title, table)


def _titled(title: str, table: Table) -> Group:
    """A table under a title line of its own. Not Table(title=...): Rich renders a Text title
    as it is, and plain() Text has no line end (to sit in a grid cell), so the header row
    followed the title on its line, offset from its columns by the title's width; and Rich
    cuts a title to the table's width."""
    return Group(plain_line(title), table)
