"""Where the collector looks: configurable so tests can point it at crafted trees."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Roots:
    procfs: str = "/proc"
    dev_shm: str = "/dev/shm"
    dev_mqueue: str = "/dev/mqueue"

    @property
    def live_procfs(self) -> bool:
        """Whether procfs is this kernel's /proc, so ids read there can be asked of the kernel."""
        return os.path.realpath(self.procfs) == "/proc"
