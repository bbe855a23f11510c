"""Collecting every namespace of the host: shmtop's own, and each container's.

Each other IPC namespace is read by a thread of shmtop's that joined it (System V objects,
their limits, and its POSIX queues through /dev/mqueue of one of its processes, when it has
one mounted); each other /dev/shm through /proc/PID/root/dev/shm of one of its processes,
under the same lstat / no-follow / fstat rules as the host's. Objects keep their namespace in
their references. One scan of /proc then credits each process with the objects of its own
namespaces only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from shmtop.attach import scan_attachers
from shmtop.collect import Collector
from shmtop.collect.mqueue import mqueue_device_at
from shmtop.collect.users import resolve_users
from shmtop.model import ALL_KINDS, FOUND_KINDS, LISTED_KINDS, IpcObject, Kind, Snapshot, UsageItem
from shmtop.model.namespace import Namespace
from shmtop.model.roots import Roots
from shmtop.names import escape_text
from shmtop.namespaces.discover import discover
from shmtop.namespaces.enter import NoSuchNamespace, known_members, release_except, run_in
from shmtop.namespaces.mqueue_view import (
    current_view,
    mqueue_view,
    own_mqueue_device,
    release_views_except,
)
from shmtop.namespaces.paths import expect_device

IPC_KINDS = frozenset({Kind.SYSV_SHM, Kind.SYSV_MSG, Kind.SYSV_SEM, Kind.POSIX_MQ})
SHM_KINDS = frozenset({Kind.POSIX_SHM, Kind.POSIX_SEM})


class Collectors:
    """Collectors kept between polls, one per place and kinds (an unchanged line or entry is
    then a lookup); those of places not asked for in the latest poll are let go."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Roots, frozenset[Kind]], Collector] = {}
        self._used: set[tuple[Roots, frozenset[Kind]]] = set()

    def get(self, roots: Roots, kinds: Iterable[Kind]) -> Collector:
        key = (roots, frozenset(kinds))
        self._used.add(key)
        if key not in self._kept:
            self._kept[key] = Collector(roots, key[1])
        return self._kept[key]

    def prune(self) -> None:
        self._kept = {key: kept for key, kept in self._kept.items() if key in self._used}
        self._used = set()


def collect_everywhere(
    roots: Roots | None = None,
    kinds: Iterable[Kind] = ALL_KINDS,
    attachers: bool = False,
    within: Callable[[Namespace], bool] | None = None,
    *,
    collectors: Collectors | None = None,
    processes_too: bool = False,
) -> Snapshot:
    """Every namespace's objects in one snapshot (`namespaces` says which were read, with
    each one's usage and what could not be read), and, with `attachers`, who uses what.
    `within`: only the namespaces it accepts (the host's objects only if it accepts it).
    `collectors`: kept between calls by a caller that polls. `processes_too`: with the host, also
    the kinds found in processes (pipes, memfd, mappings: they have no namespace, and every
    process of the host's /proc is read for them), as the dashboard shows them; without it
    the listed kinds only (see README)."""
    collectors = collectors or Collectors()
    roots, wanted = roots or Roots(), frozenset(kinds) & frozenset(LISTED_KINDS)
    places = [ns for ns in discover(roots.procfs) if ns.own or _holds_anything(ns)]
    places = [ns for ns in places if within is None or within(ns)]
    host = any(ns.own for ns in places)
    in_processes = frozenset(kinds) & FOUND_KINDS if processes_too and host else frozenset()
    own_collector = collectors.get(roots, wanted | in_processes if host else frozenset())
    own = own_collector.listed()
    by_kind = {kind: list(objects) for kind, objects in own.by_kind.items() if host}
    namespaces = []
    for ns in reversed(places):  # each one entered through a process of the first
        known_members(ns.ipc_label, ns.pids)
    queue_places = _queue_places(roots, places) if Kind.POSIX_MQ in wanted else {}
    for ns in places:
        found, objects = (
            (replace(ns, usage=own.usage, limits=own.limits, unavailable=own.unavailable), {})
            if ns.own
            else _collect_namespace(
                roots, ns, wanted, places, queue_places=queue_places, collectors=collectors
            )
        )
        for kind, more in objects.items():
            by_kind.setdefault(kind, []).extend(more)
        namespaces.append(found)
    snapshot = replace(
        own, by_kind={k: tuple(v) for k, v in by_kind.items()}, namespaces=tuple(namespaces),
        unavailable=own.unavailable if namespaces == [own_ns(namespaces)] else _where(namespaces),
    )  # fmt: skip
    if in_processes:  # the one walk, with the finders of the host's Collector
        snapshot = own_collector.complete(snapshot, attachers)
        if attachers:
            return snapshot
    if not attachers:
        known = (o.uid for o in snapshot.objects if o.uid is not None)
        return replace(snapshot, users=resolve_users(known))
    attach = scan_attachers(snapshot, roots.procfs)
    uids = [*(o.uid for o in snapshot.objects), *(p.uid for p in attach.processes.values())]
    return replace(snapshot, attach=attach, users=resolve_users(u for u in uids if u is not None))


class Everywhere:
    """Every namespace, polled (the dashboard's source): Collectors kept between polls, and
    the namespaces that ended let go of (shmtop's threads and mounts in them would keep them,
    and whatever they held, alive)."""

    def __init__(
        self, roots: Roots | None = None, within: Callable[[Namespace], bool] | None = None
    ) -> None:
        self.roots = roots or Roots()
        self.within = within
        self.collectors = Collectors()

    def collect(self, attachers: bool = False) -> Snapshot:
        snapshot = collect_everywhere(
            self.roots, attachers=attachers, within=self.within, collectors=self.collectors,
            processes_too=True,
        )  # fmt: skip
        self.collectors.prune()
        present = {ns.ipc_label for ns in snapshot.namespaces}
        release_except(present)
        release_views_except(present)
        return snapshot


def by_namespace(snapshot: Snapshot) -> list[tuple[Namespace, Snapshot]]:
    """A snapshot of every namespace read, each with its own objects, usage, limits and
    troubles (an object belongs where it is listed: its IPC namespace's first place, or its
    /dev/shm's)."""
    places = list(snapshot.namespaces)
    found = []
    for ns in places:
        ipc_here = _first_with_ipc(ns, places)
        shm_here = ns.own_shm or _first_with_shm(ns, places)

        def here(obj: IpcObject, ns: Namespace = ns, ipc: bool = ipc_here,
                 shm: bool = shm_here) -> bool:  # fmt: skip
            if obj.kind in SHM_KINDS:
                return shm and obj.ns == ns.shm_label
            return ipc and obj.ns == ns.ipc_label

        by_kind = {k: tuple(o for o in objs if here(o)) for k, objs in snapshot.by_kind.items()}
        own = replace(
            snapshot, by_kind=by_kind, usage=ns.usage, limits=ns.limits or snapshot.limits,
            unavailable=ns.unavailable, namespaces=(ns,),
        )  # fmt: skip
        found.append((ns, own))
    return found


def own_ns(namespaces: list[Namespace]) -> Namespace | None:
    return next((ns for ns in namespaces if ns.own), None)


def _where(namespaces: list[Namespace]) -> dict[Kind, str]:
    """What could not be read, each reason naming its namespace ("host: ...")."""
    reasons: dict[Kind, list[str]] = {}
    for ns in namespaces:
        for kind, why in ns.unavailable.items():
            reasons.setdefault(kind, []).append(f"{escape_text(ns.title)}: {why}")
    return {kind: "; ".join(found) for kind, found in reasons.items()}


def roots_in(roots: Roots, ns: Namespace) -> Roots:
    """Where the objects of a namespace other than shmtop's own live: through the root of one
    of its processes, named as references name that namespace."""
    under = f"{roots.procfs}/{ns.pids[0]}/root/dev"
    if ns.dev_shm is not None and not ns.own_shm:
        expect_device(f"{under}/shm", ns.dev_shm)
    view = None if ns.own_ipc else current_view(ns.ipc_label)
    return Roots(
        procfs=roots.procfs, dev_shm=f"{under}/shm", dev_mqueue=view or f"{under}/mqueue",
        ipc_ns=ns.ipc_label, shm_ns=ns.shm_label,
    )  # fmt: skip


def _queue_places(roots: Roots, places: list[Namespace]) -> dict[str, Roots | str]:
    """Where each other IPC namespace's POSIX queues, and only its, are read (by its label),
    or why they cannot be. Its processes' /dev/mqueue is taken when it is an mqueue
    filesystem that no other namespace's processes show and that is not shmtop's own
    namespace's (a box that kept the host's mount shows the host's queues); otherwise a view
    of its own a helper mounts privately (see namespaces.mqueue_view)."""
    others = [ns for ns in places if not ns.own_ipc and _first_with_ipc(ns, places)]
    shown = {ns.ipc_label: mqueue_device_at(roots_in(roots, ns).dev_mqueue) for ns in others}
    times = Counter(device for device in shown.values() if device is not None)
    own = own_mqueue_device(roots.procfs) if times else None
    found: dict[str, Roots | str] = {}
    for ns in others:
        device = shown[ns.ipc_label]
        if device is not None and own is not None and device != own and times[device] == 1:
            theirs = found[ns.ipc_label] = roots_in(roots, ns)
            expect_device(theirs.dev_mqueue, device)
            continue
        view = mqueue_view(ns.ipc_label, ns.pids[0], roots.procfs)
        found[ns.ipc_label] = roots_in(roots, ns) if view else NO_VIEW
    return found


NO_VIEW = "its POSIX queues cannot be told from another namespace's (no mqueue could be mounted)"


def places_of(roots: Roots, namespaces: Iterable[Namespace]) -> dict[str, Roots]:
    """Roots by the labels references give other namespaces (their IPC namespace and their
    /dev/shm), for reaching an object from its reference."""
    places: dict[str, Roots] = {}
    for ns in namespaces:
        if not ns.own_ipc:
            places.setdefault(ns.ipc_label, roots_in(roots, ns))
        if ns.shm_label:
            places.setdefault(ns.shm_label, roots_in(roots, ns))
    return places


def _holds_anything(ns: Namespace) -> bool:
    """Kernel threads and services sharing the host's IPC without a /dev/shm hold nothing."""
    return not ns.own_ipc or (ns.dev_shm is not None and not ns.own_shm)


Found = dict[Kind, tuple[IpcObject, ...]]


def _collect_namespace(
    roots: Roots, ns: Namespace, wanted: frozenset[Kind], places: list[Namespace], *,
    queue_places: dict[str, Roots | str], collectors: Collectors,
) -> tuple[Namespace, Found]:  # fmt: skip
    """One other namespace, with its usage and troubles, and its objects."""
    ns_roots = roots_in(roots, ns)
    parts: list[Snapshot] = []
    unavailable: dict[Kind, str] = {}
    ipc_kinds = (
        wanted & IPC_KINDS if not ns.own_ipc and _first_with_ipc(ns, places) else frozenset()
    )
    if ipc_kinds:
        try:
            queues = queue_places.get(ns.ipc_label)
            parts.append(
                _collect_ipc(
                    ns_roots, ns, ipc_kinds, unavailable, queues=queues, collectors=collectors
                )
            )
        except NoSuchNamespace as exc:
            unavailable.update(dict.fromkeys(ipc_kinds, str(exc)))
    shm_kinds = wanted & SHM_KINDS if _first_with_shm(ns, places) else set()
    if shm_kinds:
        parts.append(collectors.get(ns_roots, shm_kinds).collect())
    return _merged(ns, parts, unavailable)


def _collect_ipc(
    ns_roots: Roots, ns: Namespace, kinds: frozenset[Kind], unavailable: dict[Kind, str], *,
    queues: Roots | str | None, collectors: Collectors,
) -> Snapshot:  # fmt: skip
    """Its System V objects and POSIX queues, read by a thread inside its IPC namespace."""
    if isinstance(queues, str):
        unavailable[Kind.POSIX_MQ] = queues
        kinds -= {Kind.POSIX_MQ}
    elif queues is not None:
        ns_roots = queues
    return run_in(ns.ipc_label, collectors.get(ns_roots, kinds).collect)


def _first_with_ipc(ns: Namespace, places: list[Namespace]) -> bool:
    """Whether ns is the first place of its IPC namespace (which is read once)."""
    return next(p for p in places if p.ipc == ns.ipc) is ns


def _first_with_shm(ns: Namespace, places: list[Namespace]) -> bool:
    """Whether ns is the first place of its /dev/shm (read once), other than the host's."""
    if ns.own_shm or ns.dev_shm is None:
        return False
    return next(p for p in places if p.dev_shm == ns.dev_shm) is ns


def _merged(
    ns: Namespace, parts: list[Snapshot], unavailable: dict[Kind, str]
) -> tuple[Namespace, Found]:
    objects: Found = {}
    usage: dict[str, UsageItem] = {}
    limits = None
    for part in parts:
        objects.update(part.by_kind)
        usage.update(part.usage)
        unavailable.update(part.unavailable)
        limits = limits or part.limits
    found = replace(ns, usage=usage, limits=limits, unavailable=unavailable)
    return found, objects
