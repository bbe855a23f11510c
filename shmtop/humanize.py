"""Formatting raw values for people: sizes, times, modes (display code only)."""

from __future__ import annotations

import time

_UNITS = ("B", "K", "M", "G", "T", "P", "E", "Z", "Y")


def human_bytes(n: int) -> str:
    """lsipc-style sizes: 512B, 9.8K, 16E (powers of 1024)."""
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{n}B"
            if value == int(value) or value >= 10:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def local_time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def octal_mode(mode: int) -> str:
    return f"{mode:04o}"


def human_duration(seconds: float) -> str:
    """45s, 12m, 3h 5m, 2d 4h."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"
