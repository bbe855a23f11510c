"""Collecting every namespace of the host: shmtop's own, and each container's.

Each other IPC namespace is read by a thread of shmtop's that joined it (System V objects,
their limits, and its POSIX queues through /dev/mqueue of one of its processes, when it has
one mounted); each other /dev/shm through /proc/PID/root/dev/shm of one of its processes,
under the same lstat / no-follow / fstat rules as the host's. Objects keep their namespace in
their references. One scan of /proc then credits each process with the objects of its own
namespaces only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from shmtop.attach import scan_attachers
from shmtop.collect import Collector
from shmtop.collect.users import resolve_users
from shmtop.model import ALL_KINDS, IpcObject, Kind, Snapshot, UsageItem
from shmtop.model.namespace import Namespace
from shmtop.model.roots import Roots
from shmtop.namespaces.discover import discover
from shmtop.namespaces.enter import NoSuchNamespace, known_members, run_in

IPC_KINDS = frozenset({Kind.SYSV_SHM, Kind.SYSV_MSG, Kind.SYSV_SEM, Kind.POSIX_MQ})
SHM_KINDS = frozenset({Kind.POSIX_SHM, Kind.POSIX_SEM})


def collect_everywhere(
    roots: Roots | None = None,
    kinds: Iterable[Kind] = ALL_KINDS,
    attachers: bool = False,
    within: Callable[[Namespace], bool] | None = None,
) -> Snapshot:
    """Every namespace's objects in one snapshot (`namespaces` says which were read, with
    each one's usage and what could not be read), and, with `attachers`, who uses what.
    `within`: only the namespaces it accepts (the host's objects only if it accepts it)."""
    roots, wanted = roots or Roots(), frozenset(kinds)
    places = [ns for ns in discover(roots.procfs) if ns.own or _holds_anything(ns)]
    places = [ns for ns in places if within is None or within(ns)]
    host = any(ns.own for ns in places)
    own = Collector(roots, wanted if host else frozenset()).collect()
    by_kind = {kind: list(objects) for kind, objects in own.by_kind.items() if host}
    namespaces = []
    for ns in places:
        found, objects = (
            (replace(ns, usage=own.usage, limits=own.limits, unavailable=own.unavailable), {})
            if ns.own
            else _collect_namespace(roots, ns, wanted, places)
        )
        for kind, more in objects.items():
            by_kind.setdefault(kind, []).extend(more)
        namespaces.append(found)
    snapshot = replace(
        own, by_kind={k: tuple(v) for k, v in by_kind.items()}, namespaces=tuple(namespaces),
        unavailable=own.unavailable if namespaces == [own_ns(namespaces)] else _where(namespaces),
    )  # fmt: skip
    if not attachers:
        return replace(snapshot, users=resolve_users(o.uid for o in snapshot.objects))
    attach = scan_attachers(snapshot, roots.procfs)
    uids = [*(o.uid for o in snapshot.objects), *(p.uid for p in attach.processes.values())]
    return replace(snapshot, attach=attach, users=resolve_users(u for u in uids if u is not None))


def own_ns(namespaces: list[Namespace]) -> Namespace | None:
    return next((ns for ns in namespaces if ns.own), None)


def _where(namespaces: list[Namespace]) -> dict[Kind, str]:
    """What could not be read, each reason naming its namespace ("host: ...")."""
    reasons: dict[Kind, list[str]] = {}
    for ns in namespaces:
        for kind, why in ns.unavailable.items():
            reasons.setdefault(kind, []).append(f"{ns.title}: {why}")
    return {kind: "; ".join(found) for kind, found in reasons.items()}


def roots_in(roots: Roots, ns: Namespace) -> Roots:
    """Where the objects of a namespace other than shmtop's own live: through the root of one
    of its processes, named as references name that namespace."""
    under = f"{roots.procfs}/{ns.pids[0]}/root/dev"
    return Roots(
        procfs=roots.procfs, dev_shm=f"{under}/shm", dev_mqueue=f"{under}/mqueue",
        ipc_ns=ns.ipc_label, shm_ns=ns.shm_label,
    )  # fmt: skip


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
    roots: Roots, ns: Namespace, wanted: frozenset[Kind], places: list[Namespace]
) -> tuple[Namespace, Found]:
    """One other namespace, with its usage and troubles, and its objects."""
    own_shm_read = _first_with_shm(ns, places)
    ns_roots = roots_in(roots, ns)
    known_members(ns.ipc_label, ns.pids)
    parts: list[Snapshot] = []
    unavailable: dict[Kind, str] = {}
    ipc_kinds = wanted & IPC_KINDS if not ns.own_ipc and _first_with_ipc(ns, places) else set()
    if ipc_kinds:
        try:
            parts.append(run_in(ns.ipc_label, Collector(ns_roots, ipc_kinds).collect))
        except NoSuchNamespace as exc:
            unavailable.update(dict.fromkeys(ipc_kinds, str(exc)))
    shm_kinds = wanted & SHM_KINDS if own_shm_read else set()
    if shm_kinds:
        parts.append(Collector(ns_roots, shm_kinds).collect())
    return _merged(ns, parts, unavailable)


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
