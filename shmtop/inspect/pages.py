"""What the hex view reads: an object's bytes in cached blocks, and what people type at it.

The cache keeps a few blocks, so memory use does not depend on the object's size; the view
asks only for the lines it draws.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

BLOCK = 64 << 10  # bytes a read
BLOCKS_KEPT = 32  # 2 MiB at most
PATTERN_LIMIT = 4096

Read = Callable[[int, int], bytes]
_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class PageCache:
    """Bytes of an object by offset, read BLOCK at a time, the last BLOCKS_KEPT blocks kept."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def get(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`: fewer where the object ends."""
        parts = []
        while length > 0:
            block_no, start = divmod(offset, BLOCK)
            block = self._block(block_no)
            part = block[start : start + length]
            if not part:
                break
            parts.append(part)
            offset, length = offset + len(part), length - len(part)
            if len(block) < BLOCK:
                break  # the object ends in this block
        return b"".join(parts)

    def clear(self) -> None:
        self._blocks.clear()

    def _block(self, block_no: int) -> bytes:
        block = self._blocks.get(block_no)
        if block is None:
            block = self._read(block_no * BLOCK, BLOCK)
            self._blocks[block_no] = block
            if len(self._blocks) > BLOCKS_KEPT:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(block_no)
        return block


def parse_offset(text: str) -> int:
    """ "4096", "0x1000", "1000h", "ff0" (hex digits), "4k" / "1M" / "2G" (binary units)."""
    cleaned = text.strip().lower().replace("_", "")
    unit = _SUFFIXES.get(cleaned[-1:], 1) if cleaned[:2] != "0x" else 1
    number = cleaned[:-1] if unit > 1 else cleaned
    try:
        if number.endswith("h"):
            value = int(number[:-1], 16)
        elif re.fullmatch(r"[0-9]+", number):
            value = int(number)
        else:
            value = int(number, 16)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not an offset (try 4096, 0x1000 or 4k)") from None
    if value < 0:
        raise ValueError("an offset cannot be negative")
    return value * unit


def parse_pattern(text: str) -> bytes:
    """ "0x de ad be ef" or "0xdeadbeef": those bytes; anything else: its UTF-8 text."""
    if text[:2].lower() == "0x":
        try:
            pattern = bytes.fromhex(text[2:])
        except ValueError:
            raise ValueError(f"{text!r}: hex bytes are pairs of 0-9 a-f after 0x") from None
    else:
        pattern = text.encode()
    if not pattern:
        raise ValueError("nothing to search for")
    if len(pattern) > PATTERN_LIMIT:
        raise ValueError(f"a search is at most {PATTERN_LIMIT} bytes")
    return pattern
