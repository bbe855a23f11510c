"""The metric families of one or more namespaces: each namespace's snapshot and the leak
verdicts judged on it, labelled with the namespace's name ("host" for the host's own; later,
container names).

Labels are bounded: kind (six values), namespace, resource (the usage keys of `shmtop limits
--json`), reason (the few Doubt words). One series per object only for leaked objects, only
when asked, and at most `leak_series` of them, the oldest first.

Unknown is never 0: a kind that could not be read has no figures (`shmtop_kind_readable` 0);
a sum some object could not give is left out; leak figures are left out when nothing was
found leaked and some objects were left in doubt (`shmtop_unjudged_objects` says how many).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from shmtop.metrics import MAX_LEAK_SERIES
from shmtop.metrics.exposition import Family
from shmtop.metrics.tally import KindTally, Leak, known, tally_kind
from shmtop.model import Kind, Snapshot, UsageItem, Verdict
from shmtop.model.verdict import Doubt

HOST = "host"


@dataclass(frozen=True, slots=True)
class NamespaceView:
    """What one namespace holds, judged: its name is the `namespace` label."""

    namespace: str
    snapshot: Snapshot
    judged: Mapping[str, Verdict]


class KindFamilies(NamedTuple):
    objects: Family
    readable: Family
    held: Family
    allocated: Family
    leaked: Family
    leaked_bytes: Family
    oldest_leak: Family
    unjudged: Family


def namespace_families(views: Sequence[NamespaceView], leak_series: int = 0) -> list[Family]:
    """Every family of the views, each family's samples together, namespaces in order."""
    by_kind = _kind_families()
    resources = _resource_families()
    leaks: list[tuple[Leak, Kind, str]] = []
    for view in views:
        for tally in _tallies(view):
            _add_kind(by_kind, tally, view.namespace)
            leaks.extend((leak, tally.kind, view.namespace) for leak in tally.leaks)
        _add_resources(resources, view.snapshot.usage, view.namespace)
    return [*by_kind, *resources, *_leak_series(leaks, min(leak_series, MAX_LEAK_SERIES))]


def _tallies(view: NamespaceView) -> Iterable[KindTally]:
    snapshot = view.snapshot
    for kind in Kind:
        if kind in snapshot.kinds and kind not in snapshot.unavailable:
            yield tally_kind(kind, snapshot.of(kind), view.judged, snapshot.time)
        elif kind in snapshot.kinds:
            yield KindTally(kind, readable=False)  # unknown: no figures at all


def _kind_families() -> KindFamilies:
    return KindFamilies(
        Family("shmtop_objects", "gauge", "IPC objects listed (as shmtop list lists them)."),
        Family("shmtop_kind_readable", "gauge",
               "1 when the kind's objects could be listed, 0 when not: its figures are "
               "then unknown and absent (shmtop list names why)."),
        Family("shmtop_object_bytes", "gauge",
               "Bytes the objects hold: segment and file sizes, bytes queued. Absent for "
               "kinds that hold no bytes, and where some object's could not be read."),
        Family("shmtop_allocated_bytes", "gauge",
               "Memory the objects really use: resident and swapped pages of System V "
               "segments, tmpfs blocks of POSIX shared memory and semaphores."),
        Family("shmtop_leaked_objects", "gauge",
               "Objects that look leaked (as shmtop clean judges them). A lower bound while "
               "shmtop_unjudged_objects of the kind is above 0; absent when nothing was "
               "found leaked and some objects were left in doubt."),
        Family("shmtop_leaked_bytes", "gauge",
               "Bytes held by the objects that look leaked (present as shmtop_leaked_objects "
               "is, for kinds that hold bytes)."),
        Family("shmtop_oldest_leak_age_seconds", "gauge",
               "Seconds since the oldest leaked object was last used or changed; 0 when "
               "none looks leaked (present as shmtop_leaked_objects is)."),
        Family("shmtop_unjudged_objects", "gauge",
               "Objects left in doubt (neither leaked nor in use on evidence), by why: "
               + ", ".join(doubt.value for doubt in Doubt)
               + ". Only the reasons met have a series: none means every object was judged."),
    )  # fmt: skip


def _add_kind(families: KindFamilies, tally: KindTally, namespace: str) -> None:
    labels = {"kind": tally.kind.value, "namespace": namespace}
    families.readable.add(int(tally.readable), **labels)
    if not tally.readable:
        return
    families.objects.add(tally.objects, **labels)
    _add_known(families.held, known(tally.held), labels)
    _add_known(families.allocated, known(tally.allocated), labels)
    if tally.leaks_known:
        families.leaked.add(len(tally.leaks), **labels)
        _add_known(families.leaked_bytes, known(tally.leaked_held), labels)
        families.oldest_leak.add(tally.oldest_leak_age, **labels)
    for doubt in Doubt:  # only the reasons met: none at all means every object was judged
        if tally.unjudged[doubt]:
            families.unjudged.add(tally.unjudged[doubt], **labels, reason=doubt.value)


def _add_known(family: Family, value: int | None, labels: Mapping[str, str]) -> None:
    if value is not None:
        family.add(value, **labels)


def _resource_families() -> tuple[Family, Family]:
    return (
        Family("shmtop_resource_used", "gauge",
               "Use of a resource (the usage keys of shmtop limits --json: counts, bytes or "
               "pages). Absent where some object's share could not be read."),
        Family("shmtop_resource_limit", "gauge",
               "The limit of a resource, in its unit; +Inf when set to unlimited, absent "
               "where none exists."),
    )  # fmt: skip


def _add_resources(
    families: tuple[Family, Family], usage: Mapping[str, UsageItem], namespace: str
) -> None:
    used, limit = families
    for resource, item in usage.items():
        labels = {"resource": resource, "namespace": namespace}
        if not item.unknown:
            used.add(item.used, **labels)
        if item.unlimited:
            limit.add(float("inf"), **labels)
        elif item.limit is not None:
            limit.add(item.limit, **labels)


def _leak_series(leaks: list[tuple[Leak, Kind, str]], cap: int) -> list[Family]:
    if cap <= 0:
        return []
    family = Family(
        "shmtop_leaked_object_age_seconds",
        "gauge",
        f"One series per leaked object, the oldest {cap} (--leak-series): seconds since it "
        "was last used or changed (ref: its shmtop reference).",
    )
    oldest = heapq.nlargest(cap, leaks, key=lambda found: found[0].age or 0.0)
    for leak, kind, namespace in oldest:
        if leak.age is not None:
            family.add(leak.age, kind=kind.value, namespace=namespace, ref=leak.ref)
    return [family]
