"""The one escaping path: visible, unambiguous, and exactly reversible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shmtop.model import Kind
from shmtop.model.refs import parse_ref
from shmtop.names import escape_name, escape_text, unescape_name


@given(st.binary(max_size=64))
def test_unescape_undoes_escape_for_every_byte_string(raw: bytes) -> None:
    assert unescape_name(escape_name(raw)) == raw


@given(st.binary(max_size=64))
def test_escaped_name_holds_no_control_or_invisible_character(raw: bytes) -> None:
    assert escape_name(raw).isprintable()


@given(st.binary(max_size=32), st.binary(max_size=32))
def test_different_names_never_look_the_same(a: bytes, b: bytes) -> None:
    if a != b:
        assert escape_name(a) != escape_name(b)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"ring0", "ring0"),
        (b"db\nx", "db\\nx"),
        (b"tab\there", "tab\\there"),
        (b"bad\xff\xfe", "bad\\xff\\xfe"),
        (b"\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        (b"\x1b[2J", "\\x1b[2J"),
        ("c1\u0085\u009b".encode(), "c1\\u0085\\u009b"),
        ("bidi\u202eevil".encode(), "bidi\\u202eevil"),
        (b"back\\slash", "back\\\\slash"),
        ("caf\u00e9".encode(), "caf\u00e9"),
        (b"[@click=app.quit]x", "[@click=app.quit]x"),
    ],
)
def test_escape_shows_controls_and_bad_bytes_visibly(raw: bytes, shown: str) -> None:
    assert escape_name(raw) == shown


def test_escape_text_escapes_surrogate_escaped_bytes_like_raw_bytes() -> None:
    assert escape_text(b"x\xff\n".decode("utf-8", "surrogateescape")) == "x\\xff\\n"


def test_unescape_accepts_raw_bytes_passed_through_argv() -> None:
    as_in_argv = b"bad\xff".decode("utf-8", "surrogateescape")
    assert unescape_name(as_in_argv) == b"bad\xff"


@pytest.mark.parametrize("text", ["x\\", "x\\q", "x\\x4", "x\\xzz", "x\\u12"])
def test_unescape_rejects_broken_escapes(text: str) -> None:
    with pytest.raises(ValueError, match=r"escape|backslash"):
        unescape_name(text)


def test_parse_ref_reads_both_reference_forms() -> None:
    assert parse_ref("sysv-shm:32769").id == 32769
    assert parse_ref("sysv-shm:32769").kind is Kind.SYSV_SHM
    assert parse_ref("posix-shm:/ring0").name == b"/ring0"
    assert parse_ref("posix-mq:/bad\\xff").name == b"/bad\xff"


@pytest.mark.parametrize(
    "text",
    [
        "sysv-shm",
        "nope:1",
        "sysv-shm:-1",
        "sysv-shm:1x",
        "posix-shm:ring0",
        "posix-shm:/",
        "posix-shm:/a/b",
        "sysv-msg:\u0661",
    ],
)
def test_parse_ref_rejects_malformed_references(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ref(text)
