"""The typed model of a host's IPC state: raw kernel values, no formatting, no kernel access.

`objects`: the six kinds of object; `limits`: kernel limits and usage; `snapshot`: one moment
of it all; `use`: who uses what; `verdict`: whether an object looks leaked; `identity`: what
tells an object apart from a later one at its id or name; `roots`: where objects live;
`refs`: the references that name them.
"""

from shmtop.model.found import (
    Endpoint,
    Fifo,
    FoundObject,
    MappedBy,
    Memfd,
    Pipe,
    PipeLike,
    SharedAnon,
    SharedFile,
    SharedMemory,
)
from shmtop.model.kind import FOUND_KINDS, LISTED_KINDS
from shmtop.model.limits import UNLIMITED_FROM, Limits, TmpfsStats, UsageItem, is_unlimited
from shmtop.model.objects import (
    ALL_KINDS,
    FileType,
    IpcObject,
    Kind,
    PosixEntry,
    PosixMq,
    PosixSem,
    PosixShm,
    SysvMsg,
    SysvSem,
    SysvShm,
)
from shmtop.model.snapshot import Snapshot
from shmtop.model.use import Attacher, AttachMap, PidLife, ProcessUse
from shmtop.model.verdict import Verdict

__all__ = [
    "ALL_KINDS",
    "FOUND_KINDS",
    "LISTED_KINDS",
    "UNLIMITED_FROM",
    "AttachMap",
    "Attacher",
    "Endpoint",
    "Fifo",
    "FileType",
    "FoundObject",
    "IpcObject",
    "Kind",
    "Limits",
    "MappedBy",
    "Memfd",
    "PidLife",
    "Pipe",
    "PipeLike",
    "PosixEntry",
    "PosixMq",
    "PosixSem",
    "PosixShm",
    "ProcessUse",
    "SharedAnon",
    "SharedFile",
    "SharedMemory",
    "Snapshot",
    "SysvMsg",
    "SysvSem",
    "SysvShm",
    "TmpfsStats",
    "UsageItem",
    "Verdict",
    "is_unlimited",
]
