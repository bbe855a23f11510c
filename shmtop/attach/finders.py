"""The second phase of collection: kinds found in processes rather than listed in a directory.

The attach scan reads every process once (its maps, its descriptors, the calls it is blocked
in). A ProcessFinder is handed each process it can read, with the maps already read, and
gathers the objects of its kinds it sees there, so a kind found in processes costs no second
walk over /proc. The collector asks each finder for what it found once the walk is over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from shmtop.model import IpcObject, Kind


class ProcessFinder(Protocol):
    kinds: frozenset[Kind]

    def look(self, pid: int, pid_fd: int, maps: bytes) -> None:
        """One readable process: `pid_fd` is its /proc directory (read relative to it), `maps`
        its maps file. Called from the scan's threads, in no particular order."""

    def found(self) -> Mapping[Kind, Sequence[IpcObject]]:
        """What was found, once every process has been looked at."""
