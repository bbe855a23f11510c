"""Writing results: JSON documents to stdout, notes to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from shmtop.model import Kind


def write_json(document: Mapping[str, Any]) -> None:
    # The document is a tree of fresh dicts and lists, never circular: skipping the check
    # nearly halves encoding time for tens of thousands of objects. ensure_ascii keeps the
    # output plain ASCII, so it goes out as bytes without another encoding pass.
    text = json.dumps(document, separators=(",", ":"), check_circular=False)
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("ascii"))
    sys.stdout.buffer.write(b"\n")  # apart: `+ b"\n"` would copy the document once more
    sys.stdout.buffer.flush()


def note_unavailable(unavailable: Mapping[Kind, str]) -> None:
    """One line per source that could not be read, deduplicated (posix-shm and -sem share one)."""
    for reason in dict.fromkeys(unavailable.values()):
        print(f"shmtop: note: {reason}", file=sys.stderr)
