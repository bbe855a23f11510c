"""Which namespaces a command reads: shmtop's own (the default, as `ipcs` does), every one on
the host (`-A`, as kubectl has it), or one (`--ns TARGET`: a pid in it, a container's name
or a prefix of its id, or the inode of its IPC namespace). References of objects elsewhere
carry their namespace (`sysv-shm@4026532190:0`), and name it for every command."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

from shmtop.cli.errors import EXIT_USAGE, CliError
from shmtop.cli.options import roots_of
from shmtop.collect import collect_snapshot
from shmtop.model import Kind, Snapshot
from shmtop.model.namespace import Namespace
from shmtop.model.roots import Roots
from shmtop.names import escape_text


def collect_everywhere(
    roots: Roots,
    kinds: Iterable[Kind],
    attachers: bool,
    within: Callable[[Namespace], bool] | None = None,
) -> Snapshot:
    """collect.everywhere's, imported only when a command reads beyond its own namespace (it
    brings the namespace threads and their ctypes: start-up every other command spares)."""
    from shmtop.collect.everywhere import collect_everywhere as everywhere  # noqa: PLC0415

    return everywhere(roots, kinds, attachers, within=within)


def collect_for(args: argparse.Namespace, kinds: Iterable[Kind], attachers: bool) -> Snapshot:
    """What the command's options ask for: its own namespace, every one, or the one named."""
    roots = roots_of(args)
    if getattr(args, "all_namespaces", False):
        return collect_everywhere(roots, kinds, attachers)
    if args.ns:
        chosen = namespace_named(args.ns, roots.procfs)
        if not chosen.own:
            return collect_everywhere(roots, kinds, attachers, within=same_place(chosen))
    return collect_snapshot(roots, kinds, attachers)


def collect_labelled(
    args: argparse.Namespace, labels: Iterable[str], kinds: Iterable[Kind], attachers: bool
) -> Snapshot:
    """The namespaces references name (labels; "" is shmtop's own), each read once."""
    wanted = set(labels)
    if wanted <= {""} and not args.ns:
        return collect_snapshot(roots_of(args), kinds, attachers)
    if args.ns:
        chosen = namespace_named(args.ns, roots_of(args).procfs)
        wanted |= {chosen.ipc_label, chosen.shm_label}

    def named(ns: Namespace) -> bool:
        return bool({ns.ipc_label, ns.shm_label} & wanted) or (ns.own and "" in wanted)

    return collect_everywhere(roots_of(args), kinds, attachers, within=named)


def label_for(args: argparse.Namespace, ref_ns: str, kind: Kind) -> str:
    """The namespace label an object's reference means: its own qualifier, else the one
    `--ns` names (its IPC namespace or its /dev/shm, by the kind), else shmtop's own."""
    if ref_ns or not args.ns:
        return ref_ns
    chosen = namespace_named(args.ns, roots_of(args).procfs)
    return chosen.shm_label if kind in (Kind.POSIX_SHM, Kind.POSIX_SEM) else chosen.ipc_label


def namespace_named(target: str, procfs: str = "/proc") -> Namespace:
    """The namespace TARGET names; CliError (status 2) when none, or more than one, does."""
    from shmtop.namespaces.discover import discover  # noqa: PLC0415 (as collect_everywhere)

    found = [ns for ns in discover(procfs) if _names(ns, target)]
    if not found:
        raise CliError(
            f"--ns {escape_text(target)}: no process, container or namespace of that name",
            EXIT_USAGE,
        )
    if len({(ns.ipc, ns.dev_shm) for ns in found}) > 1:
        names = ", ".join(sorted({escape_text(ns.title) for ns in found}))
        raise CliError(
            f"--ns {escape_text(target)} names more than one namespace: {names}", EXIT_USAGE
        )
    return found[0]


def _names(ns: Namespace, target: str) -> bool:
    if target.isdigit() and (int(target) in ns.pids or int(target) == ns.ipc):
        return True
    if target in ("host", "") and ns.own:
        return True
    container = ns.container
    if container is None:
        return target in (ns.ipc_label, ns.shm_label, ns.hostname)
    return target == container.name or bool(container.id and container.id.startswith(target))


def same_place(chosen: Namespace) -> Callable[[Namespace], bool]:
    return lambda ns: (ns.ipc, ns.dev_shm) == (chosen.ipc, chosen.dev_shm)
