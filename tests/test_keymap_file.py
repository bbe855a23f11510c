"""The keymap file as untrusted input: a FIFO, /dev/zero, a huge file, bytes that are not
UTF-8, broken TOML, escapes in ids or keys. Each ends at once with one escaped line on stderr
and exit status 2, through the real command (the keymap is read before the dashboard asks
for a terminal)."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from shmtop.cli.errors import CliError
from shmtop.cli.keymap import KEYMAP_LIMIT, load_keymap

MEMORY_LIMIT = 1 << 30  # reading /dev/zero to the end would take all there is


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def dashboard(
    shmtop_cmd: list[str], *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`shmtop [options]` without a terminal, stopped after 15 s (a hang fails the test)."""
    return subprocess.run(
        [*shmtop_cmd, *options],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=15,
        preexec_fn=limit_memory,
        env={**os.environ, **(env or {})},
        check=False,
    )


def refused(done: subprocess.CompletedProcess[bytes], line: str) -> None:
    assert (done.returncode, done.stderr.decode()) == (2, f"shmtop: {line}\n")
    assert b"\x1b" not in done.stderr and done.stdout == b""


def keymap(tmp_path: Path, content: bytes, name: str = "keymap.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_fifo_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, shmtop_cmd: list[str]
) -> None:
    fifo = tmp_path / "key\x1b[2Jmap.toml"
    os.mkfifo(fifo)
    shown = str(fifo).replace("\x1b", "\\x1b")
    refused(dashboard(shmtop_cmd, "--keymap", str(fifo)), f"keymap {shown} is a fifo, not a file")
    default = tmp_path / "config" / "shmtop" / "keymap.toml"
    default.parent.mkdir(parents=True)
    os.mkfifo(default)
    done = dashboard(shmtop_cmd, env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    refused(done, f"keymap {default} is a fifo, not a file")


def test_a_device_is_not_read(shmtop_cmd: list[str]) -> None:
    done = dashboard(shmtop_cmd, "--keymap", "/dev/zero")
    refused(done, "keymap /dev/zero is a character device, not a file")


def test_a_file_larger_than_a_keymap_is_refused(tmp_path: Path, shmtop_cmd: list[str]) -> None:
    path = keymap(tmp_path, b"# " + b"x" * KEYMAP_LIMIT + b"\n")
    refused(
        dashboard(shmtop_cmd, "--keymap", str(path)),
        f"keymap {path} is larger than 64 KiB, too large for a keymap",
    )


def test_text_that_is_not_utf8_or_not_toml_is_one_line(
    tmp_path: Path, shmtop_cmd: list[str]
) -> None:
    path = keymap(tmp_path, b'"app.quit" = "q\xff"\n')
    done = dashboard(shmtop_cmd, "--keymap", str(path))
    refused(done, f"keymap {path} is not UTF-8 text (byte 15 cannot be decoded)")
    path = keymap(tmp_path, b'"app.quit" =\n', "broken.toml")
    done = dashboard(shmtop_cmd, "--keymap", str(path))
    refused(done, f"keymap {path} is not valid TOML: Invalid value (at line 1, column 13)")


def test_escapes_in_keys_are_refused_and_shown_escaped(
    tmp_path: Path, shmtop_cmd: list[str]
) -> None:
    path = keymap(tmp_path, b'"app.quit" = "q\\u001b]0;owned\\u0007"\n')
    done = dashboard(shmtop_cmd, "--keymap", str(path))
    refused(
        done,
        f'keymap {path}: the keys of "app.quit", "q\\x1b]0;owned\\x07", hold characters '
        "that cannot be shown",
    )


def test_ids_that_name_no_binding_are_refused_and_shown_escaped(
    tmp_path: Path, shmtop_cmd: list[str]
) -> None:
    path = keymap(tmp_path, b'"app.qiut" = "q"\n"\\u001b[2J" = "x"\n')
    done = dashboard(shmtop_cmd, "--keymap", str(path))
    refused(
        done,
        f'keymap {path}: no binding has the id "\\x1b[2J", "app.qiut" (the help screen, ?, '
        "lists them)",
    )


def test_a_good_keymap_loads_before_the_terminal_is_asked_for(
    tmp_path: Path, shmtop_cmd: list[str]
) -> None:
    path = keymap(tmp_path, b'"app.quit" = "ctrl+q"\n[table]\nmark = "space,m"\n')
    assert load_keymap(path) == {"app.quit": "ctrl+q", "table.mark": "space,m"}
    done = dashboard(shmtop_cmd, "--keymap", str(path))
    assert done.returncode == 1
    assert done.stderr.decode().startswith("shmtop: the dashboard needs a terminal")


def test_a_missing_keymap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_keymap(None) == {}  # the default one is optional
    with pytest.raises(CliError) as caught:
        load_keymap(tmp_path / "absent.toml")
    assert caught.value.status == 2
    assert str(caught.value) == (
        f"cannot read keymap {tmp_path}/absent.toml: No such file or directory"
    )
