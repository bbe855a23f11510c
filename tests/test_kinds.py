"""The table of kinds and every table keyed by kind: a kind is everywhere or nowhere."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from shmtop.clean.remove import IPC_FILESYSTEM, SYSV_REMOVE
from shmtop.collect.sources import listed_sources
from shmtop.collect.usage import USAGE
from shmtop.columns import USE_TEXT
from shmtop.describe import DESCRIBERS
from shmtop.metrics.tally import MEASURES
from shmtop.model import ALL_KINDS, Kind, PosixEntry
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
    "tui.views (one view per kind)": {
        kind: None for v in VIEWS for kind in v.kinds if len(v.kinds) == 1
    },
}


@pytest.mark.parametrize("name", TABLES)
def test_every_kind_is_in_every_table(name: str) -> None:
    assert set(TABLES[name]) == set(ALL_KINDS), name


def test_removal_knows_every_kind_by_how_it_is_addressed() -> None:
    by_id = {kind for kind, spec in KINDS.items() if spec.address is Address.ID}
    assert set(SYSV_REMOVE) == by_id
    assert set(IPC_FILESYSTEM) == set(ALL_KINDS) - by_id


def test_each_kind_comes_from_exactly_one_listed_source() -> None:
    yielded = [kind for source in listed_sources(Roots()) for kind in source.kinds]
    assert sorted(yielded) == sorted(ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_kinds_entry_agrees_with_its_type(kind: Kind) -> None:
    spec = KINDS[kind]
    assert spec.kind is kind and spec.type.kind is kind  # type: ignore[attr-defined]
    files = issubclass(spec.type, PosixEntry)
    assert (spec.address is Address.NAME) == files
    assert (spec.mapped_as is MappedAs.FILE) == files
    assert spec.attachable == (spec.mapped_as is not MappedAs.NOT)
    assert spec.title and spec.short and spec.contents_note
