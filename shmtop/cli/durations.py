"""Durations typed on the command line: 600, 90s, 10m, 2h, 1d."""

from __future__ import annotations

import argparse
import math

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LONGEST = 100 * 365 * 86400.0  # older than IPC on Linux: longer means a typing slip


def duration(text: str) -> float:
    cleaned = text.strip().lower()
    unit = _UNITS.get(cleaned[-1:], 0)
    number = cleaned[:-1] if unit else cleaned
    try:
        value = float(number) * (unit or 1)
    except ValueError:
        message = f"{text!r} is not a duration (600, 90s, 10m, 2h, 1d)"
        raise argparse.ArgumentTypeError(message) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite duration")
    if value < 0:
        raise argparse.ArgumentTypeError("a duration cannot be negative")
    if value > LONGEST:
        raise argparse.ArgumentTypeError(f"{text!r} is longer than 100 years")
    return value
