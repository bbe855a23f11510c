"""The one escaping path for untrusted text: names, owners, command lines.

`escape_name` turns raw bytes into text a terminal can show and a shell can pass back:
printable UTF-8 stays as is, everything else becomes a visible escape, and `unescape_name`
undoes it exactly. The two are inverse for every byte string, so the escaped form can serve as
the name inside a reference (`posix-shm:/bad\\xff`).

Escapes: `\\\\` (backslash), `\\n` `\\t` `\\r`, `\\xNN` for an ASCII control character or a byte
that is not UTF-8, `\\uNNNN` / `\\UNNNNNNNN` for any other character that is not printable
(C1 controls, bidi overrides, zero-width and line separators, non-breaking spaces).
"""

from __future__ import annotations

from collections.abc import Mapping

_SHORT = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_SHORT_BACK = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}


def escape_name(raw: bytes) -> str:
    """Visible, unambiguous text for raw bytes (undone by `unescape_name`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _escape_chars(raw.decode("utf-8", "surrogateescape"))
    if text.isprintable() and "\\" not in text:
        return text
    return _escape_chars(text)


def escape_text(text: str) -> str:
    """Like `escape_name` for text already decoded (surrogate escapes show as `\\xNN`)."""
    if text.isprintable() and "\\" not in text:
        return text
    return _escape_chars(text)


def escape_controls(text: str) -> str:
    """Only the characters that are not printable, escaped; backslashes stay as they are.

    For sentences built from parts that are already escaped (references, escaped names):
    escaping them again would turn `posix-shm:/X\\xff` (the byte 0xff) into the reference of
    another object, `X\\\\xff`. Anything raw that slipped into such a sentence still cannot
    reach the terminal as a control character.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)


def _escape_chars(text: str) -> str:
    return "".join(_escape_char(char) for char in text)


def _escape_char(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if char.isprintable():
        return char
    if code < 0x80:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def unescape_name(text: str) -> bytes:
    """The raw bytes that `escape_name` shows as `text`. Raises ValueError on a bad escape.

    Characters that came from undecodable command-line bytes (surrogate escapes) stand for
    those bytes, so a name typed raw in a shell works as well as its escaped form.
    """
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            i += 1
            continue
        i = _unescape_one(text, i + 1, out)
    return bytes(out)


def _unescape_one(text: str, i: int, out: bytearray) -> int:
    """Decode the escape whose letter is at text[i] into out; return the index after it."""
    if i >= len(text):
        raise ValueError("a name cannot end with a single backslash (write \\\\)")
    letter = text[i]
    if letter in _SHORT_BACK:
        out += _SHORT_BACK[letter].encode()
        return i + 1
    width = _HEX_WIDTH.get(letter)
    digits = text[i + 1 : i + 1 + width] if width else ""
    if not width or len(digits) != width or not _is_hex(digits):
        raise ValueError(f"bad escape \\{text[i : i + 1 + (width or 0)]} in name")
    code = int(digits, 16)
    if letter == "x":
        out.append(code)
    else:
        out += chr(code).encode("utf-8", "surrogatepass")
    return i + 1 + width


def _is_hex(digits: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in digits)


def owner_text(uid: int | None, users: Mapping[int, str | None]) -> str:
    """A user's name, escaped (names come from the password database), or the uid; "?"
    when the owner is unknown."""
    if uid is None:
        return "?"
    name = users.get(uid)
    return str(uid) if name is None else escape_text(name)
