"""The table of kinds and every table keyed by kind: a kind is everywhere or nowhere."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from shmtop.clean.remove import IPC_FILESYSTEM, SYSV_REMOVE
from shmtop.collect import PROCESS_SOURCES, Collector
from shmtop.collect.sources import listed_sources
from shmtop.collect.usage import USAGE
from shmtop.columns import USE_TEXT
from shmtop.describe import DESCRIBERS
from shmtop.metrics.tally import MEASURES
from shmtop.model import ALL_KINDS, FOUND_KINDS, LISTED_KINDS, Kind, PosixEntry
from shmtop.model.jsonable import KIND_JSON
from shmtop.model.kinds import KINDS, Address, MappedAs
from shmtop.model.roots import Roots
from shmtop.tui.views import VIEWS

TABLES: dict[str, Mapping[Kind, object]] = {
    "model.kinds.KINDS": KINDS,
    "describe.DESCRIBERS": DESCRIBERS,
    "model.jsonable.KIND_JSON": KIND_JSON,
    "collect.usage.USAGE": USAGE,
    "columns.USE_TEXT": USE_TEXT,
    "metrics.tally.MEASURES": MEASURES,
}
DASHBOARD_VIEWS = {kind: None for v in VIEWS if v.id != "all" for kind in v.kinds}


@pytest.mark.parametrize("name", TABLES)
def test_every_kind_is_in_every_table(name: str) -> None:
    assert set(TABLES[name]) == set(ALL_KINDS), name


def test_every_kind_has_a_dashboard_view() -> None:
    """Each kind has a view besides All (pipes and FIFOs share one, as do memfd and shared
    mappings); commands' Collectors read the listed kinds unless asked for more."""
    assert set(DASHBOARD_VIEWS) == set(ALL_KINDS)
    assert Collector().kinds == frozenset(LISTED_KINDS)


def test_removal_knows_every_removable_kind_by_how_it_is_addressed() -> None:
    by_id = {kind for kind, spec in KINDS.items() if spec.address is Address.ID}
    by_name = {kind for kind, spec in KINDS.items() if spec.address is Address.NAME}
    assert set(SYSV_REMOVE) == by_id
    assert set(IPC_FILESYSTEM) == by_name
    assert {kind for kind, spec in KINDS.items() if not spec.removable} == FOUND_KINDS


def test_each_kind_comes_from_exactly_one_source() -> None:
    """Listed kinds from one listed source each, found kinds from one finder each (the
    shared memory finder also finds /dev/shm files deleted while held: posix-shm)."""
    yielded = [kind for source in listed_sources(Roots()) for kind in source.kinds]
    assert sorted(yielded) == sorted(LISTED_KINDS)
    found = [kind for source in PROCESS_SOURCES for kind in source.kinds if kind in FOUND_KINDS]
    assert sorted(found) == sorted(FOUND_KINDS)
    assert all(KINDS[kind].found for kind in found)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_kinds_entry_agrees_with_its_type(kind: Kind) -> None:
    spec = KINDS[kind]
    assert spec.kind is kind and spec.type.kind is kind  # type: ignore[attr-defined]
    files = issubclass(spec.type, PosixEntry)
    assert spec.found == (kind in FOUND_KINDS) == (spec.address is Address.INODE)
    assert (spec.address is Address.NAME) == files
    assert (spec.mapped_as is MappedAs.FILE) == files
    assert spec.attachable == (spec.mapped_as is not MappedAs.NOT)
    assert spec.title and spec.short and spec.contents_note
