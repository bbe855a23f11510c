"""The JSON contract (schema 1): a Snapshot as plain dicts, numbers as numbers, times as epoch.

Every object carries the same base keys (kind, ref, id, name, name_hex, key, uid, owner, gid,
mode, size) and then its kind's fields under the kernel's names. Names are bytes on Linux: `name`
is their UTF-8 text (undecodable bytes become U+FFFD) and `name_hex` their exact bytes, so the
JSON is both readable and lossless. `ref` escapes what is not printable (see shmtop.names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from shmtop.model import (
    IpcObject,
    Kind,
    Limits,
    Snapshot,
    UsageItem,
    Verdict,
    is_unlimited,
)
from shmtop.model.jsonable import Json, json_text, object_json
from shmtop.model.kinds import identity_of, spec_of
from shmtop.model.namespace import Namespace, shm_label
from shmtop.model.use import AttachMap, PidLife, is_alive, pid_state

SCHEMA = 1


def snapshot_json(
    snapshot: Snapshot, judged: Mapping[str, Verdict], only: set[str] | None = None
) -> Json:
    """The whole document, with the leak verdicts the caller judged; `only` keeps the objects
    with these references."""
    objects = []
    chosen = [obj for obj in snapshot.objects if only is None or obj.ref in only]
    places = _places(snapshot)
    for obj in chosen:
        found = object_json(obj, snapshot.users)
        found.update(use_json(obj, snapshot))
        found.update(cleanup_json(obj, judged.get(obj.ref)))
        found["namespace"] = places.get((obj.kind in _IN_DEV_SHM, obj.ns))
        objects.append(found)
    return {
        **header_json(snapshot),
        "namespaces": [namespace_json(ns) for ns in snapshot.namespaces],
        **doubt_json(snapshot.attach),
        "objects": objects,
        "limits": limits_json(snapshot.limits),
        "usage": usage_json(snapshot.usage),
    }


def cleanup_json(obj: IpcObject, verdict: Verdict | None) -> Json:
    """What removal needs: the identity to pass to `rm --identity`, and the leak verdict
    ("leaked", "in use" or "unknown": in use only because something could not be known)."""
    return {
        "identity": identity_of(obj),
        "stale": None if verdict is None else verdict.stale,
        "verdict": None if verdict is None else verdict.state,
        "stale_reasons": None if verdict is None else list(verdict.reasons),
    }


def doubt_json(attach: AttachMap | None, vouched: frozenset[int] = frozenset()) -> Json:
    """What the scan could not see: `uninspected` [{"pid", "comm"}] (not vouched for), and
    `hidden`, why /proc may not list other processes at all. Both null without a scan."""
    if attach is None:
        return {"uninspected": None, "hidden": None}
    pids = sorted(attach.uninspected - vouched)
    return {
        "uninspected": [{"pid": pid, "comm": json_text(attach.comms.get(pid))} for pid in pids],
        "hidden": attach.hidden,
    }


def namespace_json(ns: Namespace) -> Json:
    """A namespace: its name ("host", a container's name, or its hostname and first process),
    where its objects live, its container, and (once collected) its limits and usage."""
    container = ns.container
    found: Json = {
        "name": json_text(ns.title), "ipc": ns.ipc,
        "dev_shm": None if ns.dev_shm is None else shm_label(ns.dev_shm).replace(".", ":"),
        "runtime": None if container is None else container.runtime,
        "container_id": None if container is None else container.id,
        "container_name": None if container is None else json_text(container.name),
        "pod": None if container is None else container.pod,
        "hostname": json_text(ns.hostname), "pids": len(ns.pids),
    }  # fmt: skip
    if ns.limits is not None:
        found["limits"] = limits_json(ns.limits)
        found["usage"] = usage_json(ns.usage)
        found["unavailable"] = {kind.value: why for kind, why in ns.unavailable.items()}
    return found


def _places(snapshot: Snapshot) -> dict[tuple[bool, str], Json]:
    """The namespace object of each label: by (a /dev/shm's label?, label)."""
    places: dict[tuple[bool, str], Json] = {}
    for ns in snapshot.namespaces:
        brief = {k: v for k, v in namespace_json(ns).items() if k in _BRIEF}
        places.setdefault((False, ns.ipc_label), brief)
        places.setdefault((True, ns.shm_label), brief)
    return places


_BRIEF = ("name", "ipc", "dev_shm", "runtime", "container_id", "container_name")
_IN_DEV_SHM = {Kind.POSIX_SHM, Kind.POSIX_SEM}


def header_json(snapshot: Snapshot) -> Json:
    return {
        "schema": SCHEMA,
        "host": json_text(snapshot.host),
        "time": snapshot.time,
        "kinds": [kind.value for kind in Kind if kind in snapshot.kinds],
        "unavailable": {kind.value: why for kind, why in snapshot.unavailable.items()},
    }


def use_json(obj: IpcObject, snapshot: Snapshot) -> Json:
    """Who uses the object, and whether the pids it recorded are still those processes.

    All null when no /proc scan was made. Queues and semaphore sets cannot be attached:
    their attachers are the processes blocked on them (waiting), and a set's
    attachers_unknown is null (the kernel counts its waiters).
    """
    attach = snapshot.attach
    found: Json = {
        "attachers": None, "attachers_unknown": None, "cpid_alive": None, "lpid_alive": None,
    }  # fmt: skip
    if attach is None:
        return found
    found["attachers"] = [
        {"pid": a.pid, "comm": json_text(a.comm), "uid": a.uid,
         "user": None if a.uid is None else json_text(snapshot.users.get(a.uid)),
         "maps": a.maps, "fds": a.fds, "waiting": a.waiting}
        for a in attach.attachers.get(obj.ref, ())
    ]  # fmt: skip
    found["attachers_unknown"] = attach.unknown.get(obj.ref)
    found.update(_liveness(obj, attach.pids))
    return found


def _liveness(obj: IpcObject, lives: Mapping[int, PidLife | None]) -> Json:
    """`<key>_alive` and `<key>_state` for every pid the object records; a queue, which
    records no creator or last user as such, gets as `lpid_alive` its latest sender's or
    receiver's."""
    found: Json = {}
    users: list[tuple[int, str | None]] = []  # (when, state) of the pids shown as users
    for recorded in spec_of(obj).recorded_pids(obj):
        state = pid_state(recorded.pid, recorded.since, lives)
        found[f"{recorded.key}_alive"] = is_alive(state)
        found[f"{recorded.key}_state"] = state
        if recorded.column is not None and recorded.pid > 0:
            users.append((recorded.since or 0, state))
    if users and "lpid_alive" not in found:
        found["lpid_alive"] = is_alive(max(reversed(users), key=lambda user: user[0])[1])
    return found


class LimitField(NamedTuple):
    """One kernel limit as the JSON and the `limits` command name and describe it."""

    name: str
    unit: str
    description: str
    read: Callable[[Limits], int | None]
    none_means_unlimited: bool = False


def _dev_shm_size(limits: Limits) -> int | None:
    return None if limits.dev_shm is None else limits.dev_shm.size


def _dev_shm_inodes(limits: Limits) -> int | None:
    return None if limits.dev_shm is None else limits.dev_shm.inodes


LIMIT_FIELDS: tuple[LimitField, ...] = (
    LimitField("shmmax", "bytes", "Max size of a System V segment", lambda x: x.shmmax),
    LimitField("shmall", "pages", "Max System V shared memory, pages", lambda x: x.shmall),
    LimitField("shmall_bytes", "bytes", "Max System V shared memory", lambda x: x.shmall_bytes),
    LimitField("shmmni", "count", "Max System V segments", lambda x: x.shmmni),
    LimitField("shmmin", "bytes", "Min size of a System V segment", lambda x: x.shmmin),
    LimitField(
        "shm_rmid_forced",
        "flag",
        "Segments removed when creator exits",
        lambda x: x.shm_rmid_forced,
    ),
    LimitField("msgmax", "bytes", "Max size of a System V message", lambda x: x.msgmax),
    LimitField("msgmnb", "bytes", "Default max bytes of a System V queue", lambda x: x.msgmnb),
    LimitField("msgmni", "count", "Max System V message queues", lambda x: x.msgmni),
    LimitField("semmsl", "count", "Max semaphores per System V set", lambda x: x.semmsl),
    LimitField("semmns", "count", "Max System V semaphores", lambda x: x.semmns),
    LimitField("semopm", "count", "Max operations per semop call", lambda x: x.semopm),
    LimitField("semmni", "count", "Max System V semaphore sets", lambda x: x.semmni),
    LimitField("semvmx", "count", "Max System V semaphore value", lambda x: x.semvmx),
    LimitField("mq_queues_max", "count", "Max POSIX message queues", lambda x: x.mq_queues_max),
    LimitField("mq_msg_max", "count", "Max messages per POSIX queue", lambda x: x.mq_msg_max),
    LimitField(
        "mq_msgsize_max", "bytes", "Max size of a POSIX message", lambda x: x.mq_msgsize_max
    ),
    LimitField(
        "mq_msg_default", "count", "Default messages per POSIX queue", lambda x: x.mq_msg_default
    ),
    LimitField(
        "mq_msgsize_default",
        "bytes",
        "Default size of a POSIX message",
        lambda x: x.mq_msgsize_default,
    ),
    LimitField(
        "rlimit_msgqueue",
        "bytes",
        "POSIX queue bytes per user (RLIMIT_MSGQUEUE of shmtop)",
        lambda x: x.rlimit_msgqueue,
        none_means_unlimited=True,
    ),
    LimitField("dev_shm_size", "bytes", "/dev/shm tmpfs size", _dev_shm_size),
    LimitField("dev_shm_inodes", "count", "/dev/shm tmpfs inodes", _dev_shm_inodes),
    LimitField("page_size", "bytes", "Page size", lambda x: x.page_size),
)


def limits_json(limits: Limits) -> Json:
    return {field.name: _limit_json(field, limits) for field in LIMIT_FIELDS}


def _limit_json(field: LimitField, limits: Limits) -> Json:
    value = field.read(limits)
    unlimited = field.none_means_unlimited if value is None else is_unlimited(value)
    return {"value": value, "unlimited": unlimited, "unit": field.unit}


def usage_json(usage: Mapping[str, UsageItem]) -> Json:
    return {
        name: {
            "used": item.used,
            "limit": item.limit,
            "unlimited": item.unlimited,
            "percent": item.percent,
            "unit": item.unit,
            "description": item.description,
        }
        for name, item in usage.items()
    }
