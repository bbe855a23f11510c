"""The Prometheus text exposition format (version 0.0.4): families of samples as text.

Label values come from outside (object references, and later container names): backslash,
double quote and newline are escaped as the format requires, and anything that is not UTF-8
becomes a visible escape, so the text is always valid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sample:
    labels: Labels
    value: float


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its name, type, help text and samples (labels in a fixed order)."""

    name: str
    type: Literal["gauge", "counter"]
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append(Sample(tuple(labels.items()), value))


def render(families: Iterable[Family]) -> bytes:
    """The exposition of every family, HELP and TYPE first, samples in the order added."""
    lines = []
    for family in families:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        lines.extend(
            f"{family.name}{label_text(sample.labels)} {number_text(sample.value)}"
            for sample in family.samples
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def label_text(labels: Labels) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels)
    return "{" + pairs + "}"


def escape_label_value(value: str) -> str:
    return _valid(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return _valid(text).replace("\\", "\\\\").replace("\n", "\\n")


def _valid(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (a byte that was not UTF-8 in a name
    decoded with surrogateescape) becomes its visible escape, `\\udcff`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)
