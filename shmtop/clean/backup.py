"""Saving an object before removing it: its bytes (segments, POSIX objects and semaphore
files), or its members / messages, and every field as JSON, in a new directory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping

from shmtop.collect.roots import Roots
from shmtop.export import member_json, message_json, object_json
from shmtop.inspect import has_bytes, open_reader, peek_messages, set_members
from shmtop.inspect.save import save_range
from shmtop.model import IpcObject, SysvMsg, SysvSem


def backup(obj: IpcObject, directory: str, roots: Roots, users: Mapping[int, str | None]) -> str:
    """Save obj under directory; the new directory's path. Raises on any failure."""
    target = os.path.join(directory, _dir_name(obj))
    os.makedirs(target, mode=0o700)
    document = {"saved_at": time.time(), **object_json(obj, users)}
    if has_bytes(obj):
        reader = open_reader(obj, None, roots)
        try:
            size = reader.size
            copied = save_range(reader.read, 0, size, os.path.join(target, "bytes"))
        finally:
            reader.close()
        document["bytes_saved"] = copied
    elif isinstance(obj, SysvSem):
        document["semaphores"] = [member_json(m) for m in set_members(obj)]
    elif isinstance(obj, SysvMsg):
        document["messages"] = [message_json(m) for m in peek_messages(obj)]
    with open(os.path.join(target, "object.json"), "x") as f:
        json.dump(document, f, indent=1)
    return target


def _dir_name(obj: IpcObject) -> str:
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in obj.ref)
    return f"{safe}-{int(time.time())}"
