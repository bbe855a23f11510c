"""Exactly what `hexdump -C -s OFFSET -n LENGTH` prints, read in bounded windows.

Lines hold 16 bytes counted from the start offset; a run of lines equal to the one before is
shown as one "*"; the last line is the offset where reading stopped. Nothing is printed for an
empty object read from its start, or for a length of 0; past the end, only the end offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

LINE = 16
WINDOW = LINE * 4096  # 64 KiB a read: memory use does not depend on the object's size
_PRINTABLE = bytes(range(0x20, 0x7F))
_ASCII = bytes(b if b in _PRINTABLE else ord(".") for b in range(256))

Read = Callable[[int, int], bytes]


def hexdump_lines(
    read: Read, size: int, offset: int = 0, length: int | None = None
) -> Iterator[str]:
    """Lines of `hexdump -C` for the object's bytes from `offset`, `length` of them (or all)."""
    if length == 0:
        return  # hexdump -n 0 prints nothing at all
    end = size if length is None else min(size, offset + length)
    position = max(0, min(offset, size))
    previous: bytes | None = None
    squeezed = False
    for window in _windows(read, position, end):
        if previous is not None and _repeats(window, previous):  # a hole, or a filled area
            if not squeezed:
                yield "*"
                squeezed = True
            position += len(window)
            continue
        for line_start in range(0, len(window), LINE):
            data = window[line_start : line_start + LINE]
            if data == previous and len(data) == LINE:
                if not squeezed:
                    yield "*"
                    squeezed = True
            else:
                yield format_line(position, data)
                squeezed = False
            previous = data
            position += len(data)
    if position > 0:
        yield f"{position:08x}"


def _repeats(window: bytes, line: bytes) -> bool:
    """Whether the window is whole lines each equal to `line` (one comparison, not 4096)."""
    count, rest = divmod(len(window), LINE)
    return rest == 0 and len(line) == LINE and window == line * count


def _windows(read: Read, start: int, end: int) -> Iterator[bytes]:
    position = start
    while position < end:
        data = read(position, min(WINDOW, end - position))
        if not data:
            return  # the object shrank: stop where its bytes stop
        yield data
        position += len(data)


def format_line(offset: int, data: bytes) -> str:
    """One line: offset, 16 bytes as hex in two groups of 8, and the printable ASCII."""
    hexes = [f"{byte:02x} " for byte in data] + ["   "] * (LINE - len(data))
    text = data.translate(_ASCII).decode()
    return f"{offset:08x}  {''.join(hexes[:8])} {''.join(hexes[8:])} |{text}|"
