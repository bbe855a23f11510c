"""The audit log: one JSON line per removal attempt, appended, never rewritten.

$XDG_STATE_HOME/shmtop/removals.jsonl (by default ~/.local/state/shmtop/removals.jsonl):
{"time", "uid", "user", "ref", "identity", "result", "detail"}.
"""

from __future__ import annotations

import json
import os
import pwd
import time

from shmtop.model import IpcObject


def default_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(state, "shmtop", "removals.jsonl")


class AuditLog:
    def __init__(self, path: str | None = None) -> None:
        self.path = path or default_path()

    def record(self, obj: IpcObject, identity: str, result: str, detail: str) -> None:
        """Append one line; raises OSError if the log cannot be written."""
        uid = os.getuid()
        line = {
            "time": time.time(),
            "uid": uid,
            "user": _user(uid),
            "ref": obj.ref,
            "identity": identity,
            "result": result,
            "detail": detail,
        }
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, (json.dumps(line, ensure_ascii=True) + "\n").encode())
        finally:
            os.close(fd)


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
