"""`shmtop limits`: kernel limits against current usage, in the manner of `lsipc -g`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from shmtop.cli.output import note_unavailable, write_json
from shmtop.cli.scope import collect_for
from shmtop.cli.table import render_table
from shmtop.export import (
    LIMIT_FIELDS,
    LimitField,
    header_json,
    limits_json,
    namespace_json,
    usage_json,
)
from shmtop.humanize import human_bytes
from shmtop.model import LISTED_KINDS, Limits, UsageItem, is_unlimited
from shmtop.model.namespace import Namespace
from shmtop.names import escape_text
from shmtop.severity import NEARLY_FULL_AT

# (RESOURCE, usage key, limit name): usage against its limit when the usage could be measured,
# else the limit alone.
ROWS: tuple[tuple[str, str | None, str | None], ...] = (
    ("SHMMNI", "sysv-shm.segments", "shmmni"),
    ("SHMALL", "sysv-shm.pages", "shmall"),
    ("SHM_BYTES", "sysv-shm.bytes", "shmall_bytes"),
    ("SHM_RSS", "sysv-shm.rss", None),
    ("SHM_SWAP", "sysv-shm.swap", None),
    ("SHMMAX", None, "shmmax"),
    ("SHMMIN", None, "shmmin"),
    ("SHM_RMID_FORCED", None, "shm_rmid_forced"),
    ("MSGMNI", "sysv-msg.queues", "msgmni"),
    ("MSG_MESSAGES", "sysv-msg.messages", None),
    ("MSG_BYTES", "sysv-msg.bytes", None),
    ("MSGMAX", None, "msgmax"),
    ("MSGMNB", None, "msgmnb"),
    ("SEMMNI", "sysv-sem.sets", "semmni"),
    ("SEMMNS", "sysv-sem.semaphores", "semmns"),
    ("SEMMSL", None, "semmsl"),
    ("SEMOPM", None, "semopm"),
    ("SEMVMX", None, "semvmx"),
    ("POSIX_SHM", "posix-shm.objects", None),
    ("POSIX_SHM_BYTES", "posix-shm.bytes", None),
    ("POSIX_SHM_ALLOC", "posix-shm.allocated", None),
    ("POSIX_SEM", "posix-sem.objects", None),
    ("MQ_QUEUES", "posix-mq.queues", "mq_queues_max"),
    ("MQ_MESSAGES", "posix-mq.messages", None),
    ("MQ_BYTES", "posix-mq.bytes", None),
    ("MQ_MSG_MAX", None, "mq_msg_max"),
    ("MQ_MSGSIZE_MAX", None, "mq_msgsize_max"),
    ("MQ_MSG_DEFAULT", None, "mq_msg_default"),
    ("MQ_MSGSIZE_DEFAULT", None, "mq_msgsize_default"),
    ("RLIMIT_MSGQUEUE", None, "rlimit_msgqueue"),
    ("DEV_SHM", "dev-shm.bytes", "dev_shm_size"),
    ("DEV_SHM_INODES", "dev-shm.inodes", "dev_shm_inodes"),
)
HEADERS = ("RESOURCE", "DESCRIPTION", "LIMIT", "USED", "USE%", "NOTE")
RIGHT_ALIGNED = frozenset({2, 3, 4})
_FIELDS = {field.name: field for field in LIMIT_FIELDS}


def run(args: argparse.Namespace) -> int:
    snapshot = collect_for(args, LISTED_KINDS, attachers=False)
    places = [ns for ns in snapshot.namespaces if ns.limits is not None] or None
    if args.json:
        document = {
            **header_json(snapshot),
            "limits": limits_json(snapshot.limits),
            "usage": usage_json(snapshot.usage),
        }
        if places is not None:  # -A or --ns: each namespace's own limits and usage
            document["namespaces"] = [namespace_json(ns) for ns in places]
        write_json(document)
        return 0
    if places is None:
        sys.stdout.write(render_limits(snapshot.limits, snapshot.usage))
    for i, ns in enumerate(places or ()):
        print(f"{chr(10) * (i > 0)}{escape_text(ns.title)}  ({_where(ns)})")
        sys.stdout.write(render_limits(ns.limits or snapshot.limits, ns.usage))
    note_unavailable(snapshot.unavailable)
    return 0


def _where(ns: Namespace) -> str:
    shm = ns.shm_label or ("host's" if ns.own_shm else "none")
    return f"IPC namespace {ns.ipc}, /dev/shm {shm}"


def render_limits(limits: Limits, usage: Mapping[str, UsageItem]) -> str:
    rows = []
    for resource, usage_key, limit_name in ROWS:
        if usage_key is not None and usage_key in usage:
            rows.append((resource, *_usage_cells(usage[usage_key])))
        elif limit_name is not None:
            rows.append((resource, *_limit_cells(_FIELDS[limit_name], limits)))
    return render_table(HEADERS, rows, RIGHT_ALIGNED)


def _usage_cells(item: UsageItem) -> tuple[str, str, str, str, str]:
    percent = "-" if item.percent is None else f"{item.percent:.2f}%"
    limit, used = _amount(item.limit, item.unit), _amount(item.used, item.unit)
    return item.description, limit, used, percent, _note(item.percent)


def _note(percent: float | None) -> str:
    """A word where a resource is (nearly) used up: what the colours say in the dashboard."""
    if percent is None or percent < NEARLY_FULL_AT:
        return ""
    return "full" if percent >= 100.0 else "nearly full"


def _limit_cells(field: LimitField, limits: Limits) -> tuple[str, str, str, str, str]:
    value = field.read(limits)
    if value is None and field.none_means_unlimited:
        return field.description, "unlimited", "-", "-", ""
    return field.description, _amount(value, field.unit), "-", "-", ""


def _amount(value: int | None, unit: str) -> str:
    if value is None:
        return "-"
    if is_unlimited(value):
        return "unlimited"
    return human_bytes(value) if unit == "bytes" else str(value)
