"""Reading the Prometheus text format back, for assertions: {(name, labels): value}."""

from __future__ import annotations

import re

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Key = tuple[str, frozenset[tuple[str, str]]]


def samples(text: bytes) -> dict[Key, float]:
    found: dict[Key, float] = {}
    for line in text.decode().splitlines():
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match is not None, line
        name, labels, value = match.groups()
        key = (name, frozenset(_labels(labels or "")))
        assert key not in found, f"twice: {line}"
        found[key] = float(value)
    return found


def _labels(text: str) -> list[tuple[str, str]]:
    inner = text[1:-1]
    pairs = LABEL.findall(inner)
    assert "".join(f'{n}="{v}",' for n, v in pairs).rstrip(",") == inner, text
    return [(name, re.sub(r"\\[\\\"n]", lambda m: UNESCAPE[m.group()], v)) for name, v in pairs]


def value(found: dict[Key, float], name: str, **labels: str) -> float | None:
    """The sample of name with exactly these labels; None when absent."""
    return found.get((name, frozenset(labels.items())))


def having(found: dict[Key, float], name: str, **labels: str) -> dict[Key, float]:
    """The samples of name whose labels include these."""
    wanted = set(labels.items())
    return {key: v for key, v in found.items() if key[0] == name and wanted <= key[1]}
