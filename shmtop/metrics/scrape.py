"""One scrape: a collection of every kind with a /proc scan, the leak verdicts, the families
and their text, plus the figures of the collecting itself (how long, how many, how many
failed) and the build.

A collection that fails is counted and reported, never raised: the exporter goes on, and the
text then holds only the exporter's own families (what could not be collected is absent,
never 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shmtop import __version__
from shmtop.clean.stale import verdicts
from shmtop.collect import Collector
from shmtop.collect.everywhere import by_namespace, collect_everywhere
from shmtop.metrics.exposition import Family, render
from shmtop.metrics.families import HOST, NamespaceView, namespace_families
from shmtop.model.roots import Roots
from shmtop.model.verdict import DEFAULT_MIN_AGE
from shmtop.names import escape_text
from shmtop.namespaces.enter import release_all


@dataclass(frozen=True, slots=True)
class Settings:
    roots: Roots = field(default_factory=Roots)
    min_age: float = DEFAULT_MIN_AGE  # as `shmtop clean --min-age`
    ignore: frozenset[int] = frozenset()  # as `shmtop clean --ignore-unreadable`
    leak_series: int = 0  # series per leaked object, at most this many
    namespace: str = HOST  # the namespace label of what `roots` show
    everywhere: bool = False  # every namespace of the host, each labelled with its name


class MetricsSource:
    """Collects and renders, keeping one Collector between scrapes (so a quiet host costs
    lookups) and the counters of its own work. Not thread-safe: the cache serialises it."""

    def __init__(
        self, settings: Settings, report: Callable[[str], object] = lambda line: None
    ) -> None:
        self.settings = settings
        self.collector = Collector(settings.roots)
        self.report = report
        self.collections = 0
        self.errors = 0

    def scrape(self) -> bytes:
        started = time.perf_counter()
        families = self._collected()
        elapsed = time.perf_counter() - started
        return render([*families, *self._own_families(elapsed)])

    def _collected(self) -> list[Family]:
        self.collections += 1
        settings = self.settings
        try:
            return namespace_families(self._views(), settings.leak_series)
        except Exception as exc:  # a failed collection must not end the exporter
            self.errors += 1
            self.report(f"collection failed: {type(exc).__name__}: {exc}")
            return []

    def _views(self) -> list[NamespaceView]:
        settings = self.settings
        if not settings.everywhere:
            snapshot = self.collector.collect(attachers=True)
            judged = verdicts(snapshot, settings.min_age, ignore=settings.ignore)
            return [NamespaceView(settings.namespace, snapshot, judged)]
        try:
            snapshot = collect_everywhere(settings.roots, attachers=True)
            judged = verdicts(snapshot, settings.min_age, ignore=settings.ignore)
        finally:
            # Each scrape enters the namespaces afresh: a thread, a descriptor or a mount
            # kept in a namespace would keep it, and every segment a container left in it,
            # alive for as long as the exporter runs, long after the container ended.
            release_all()
        # a label printed by `shmtop metrics` to a terminal: a hostname's escapes not raw
        views = by_namespace(snapshot)
        return [NamespaceView(escape_text(ns.title), own, judged) for ns, own in views]

    def _own_families(self, elapsed: float) -> list[Family]:
        duration = Family(
            "shmtop_collect_duration_seconds",
            "gauge",
            "Seconds the collection behind these figures took (listing, /proc scan, verdicts).",
        )
        duration.add(round(elapsed, 6))
        collections = Family(
            "shmtop_collections_total", "counter", "Collections made since shmtop started."
        )
        collections.add(self.collections)
        errors = Family(
            "shmtop_collect_errors_total",
            "counter",
            "Collections that failed since shmtop started (their figures are absent).",
        )
        errors.add(self.errors)
        build = Family("shmtop_build_info", "gauge", "The shmtop version serving these figures.")
        build.add(1, version=__version__)
        return [duration, collections, errors, build]
