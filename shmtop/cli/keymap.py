"""The dashboard's keymap file: binding id = key(s), read as untrusted input.

`--keymap FILE` or ~/.config/shmtop/keymap.toml. Whatever the file is, loading it ends at
once with the keymap or one line on stderr (exit status 2): a FIFO or a device is not read
(a FIFO would block, /dev/zero never ends), at most 64 KiB are read, the text must be UTF-8
and TOML, every id must name a binding, and key strings must be printable (an ESC in one
would reach the terminal in the footer and the help screen). Every path, id and key string
in a message goes through `escape_text`.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.names import escape_text
from shmtop.safepath import describe_type

KEYMAP_LIMIT = 64 << 10
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def default_keymap_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(config) / "shmtop" / "keymap.toml"


def load_keymap(path: Path | None) -> dict[str, str]:
    """Binding id -> keys, from the file given or the default one if it exists."""
    if path is None:
        path = default_keymap_path()
        if not os.path.lexists(path):
            return {}
    shown = escape_text(str(path))
    keymap = _bindings(_parse(_read_text(path, shown), shown), shown)
    unknown = sorted(set(keymap) - known_binding_ids())
    if unknown:
        ids = ", ".join(f'"{escape_text(i)}"' for i in unknown)
        _fail(f"keymap {shown}: no binding has the id {ids} (the help screen, ?, lists them)")
    return keymap


def known_binding_ids() -> frozenset[str]:
    """Every binding id of the dashboard (imports Textual: only when a keymap is given)."""
    from textual.binding import Binding  # noqa: PLC0415
    from textual.dom import DOMNode  # noqa: PLC0415

    import shmtop.tui.app  # noqa: PLC0415, F401 (defines or imports every screen and widget)

    ids: set[str] = set()
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__module__.startswith("shmtop."):
            bindings = cls.__dict__.get("BINDINGS", ())
            ids.update(b.id for b in bindings if isinstance(b, Binding) and b.id)
    return frozenset(ids)


def _read_text(path: Path, shown: str) -> str:
    try:
        _require_file(os.stat(path), shown)  # a device is not even opened
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        _fail(f"cannot read keymap {shown}: {exc.strerror or exc}")
    try:
        _require_file(os.fstat(fd), shown)  # what was opened, whatever the name is now
        data = _read_at_most(fd, KEYMAP_LIMIT + 1)
    except OSError as exc:
        _fail(f"cannot read keymap {shown}: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > KEYMAP_LIMIT:
        _fail(f"keymap {shown} is larger than {KEYMAP_LIMIT >> 10} KiB, too large for a keymap")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(f"keymap {shown} is not UTF-8 text (byte {exc.start} cannot be decoded)")


def _require_file(st: os.stat_result, shown: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        _fail(f"keymap {shown} is {describe_type(st.st_mode)}, not a file")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks = []
    left = limit
    while left > 0 and (chunk := os.read(fd, min(left, 16 << 10))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _parse(text: str, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail(f"keymap {shown} is not valid TOML: {escape_text(str(exc))}")


def _bindings(table: Mapping[str, Any], shown: str, prefix: str = "") -> dict[str, str]:
    """id -> keys; `app.quit = "q"` written without quotes is a table: its ids are dotted."""
    keymap = {}
    for key, value in table.items():
        binding_id = prefix + key
        if isinstance(value, Mapping):
            keymap.update(_bindings(value, shown, binding_id + "."))
            continue
        text_id = escape_text(binding_id)
        if not isinstance(value, str) or not value.strip():
            _fail(f'keymap {shown}: "{text_id}" must be a key string such as "ctrl+q"')
        if not value.isprintable():
            _fail(
                f'keymap {shown}: the keys of "{text_id}", "{escape_text(value)}", hold '
                "characters that cannot be shown"
            )
        keymap[binding_id] = value
    return keymap


def _fail(message: str) -> NoReturn:
    raise CliError(message, EXIT_USAGE)
