"""Writing results: JSON documents to stdout, notes to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from shmtop.model import Kind


def write_json(document: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")


def note_unavailable(unavailable: Mapping[Kind, str]) -> None:
    """One line per source that could not be read, deduplicated (posix-shm and -sem share one)."""
    for reason in dict.fromkeys(unavailable.values()):
        print(f"shmtop: note: {reason}", file=sys.stderr)
