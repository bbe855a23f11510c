"""The metric families from synthetic snapshots and verdicts: what is counted, what is left out
as unknown (never 0), bounded labels, escaping, and the once-per-interval cache."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from shmtop.clean.stale import verdicts
from shmtop.metrics.cache import OncePerInterval
from shmtop.metrics.exposition import Family, number_text, render
from shmtop.metrics.families import NamespaceView, namespace_families
from shmtop.model import Kind, Snapshot, Verdict
from shmtop.model.verdict import Doubt
from tests.exposition import having, samples, value
from tests.promtools import assert_valid
from tests.tui.fakes import T0, attach_map, fake_contents, mixed, msg, pmq, pshm, shm, snapshot

LEAKED = Verdict(True, ("nattch 0", "creator 102 exited"))
IN_USE = Verdict(False, ("used by postgres (4242)",))


def doubt(why: Doubt) -> Verdict:
    return Verdict(False, ("could not be known",), unknown=True, doubt=why)


def exposition(
    snap: Snapshot, judged: dict[str, Verdict], namespace: str = "host", leak_series: int = 0
) -> bytes:
    return render(namespace_families([NamespaceView(namespace, snap, judged)], leak_series))


def all_in_use(snap: Snapshot) -> dict[str, Verdict]:
    return {obj.ref: IN_USE for obj in snap.objects}


def test_objects_bytes_and_leaks_are_counted_per_kind_and_namespace() -> None:
    snap = snapshot([shm(1), shm(2, nattch=0, size=8192, rss=4096, swap=4096), msg(10, cbytes=11),
                     pshm(b"/ring0", 1 << 20, allocated=4096), pshm(b"/old", 100)])  # fmt: skip
    judged = {**all_in_use(snap), "sysv-shm:2": LEAKED, "posix-shm:/old": LEAKED}
    found = samples(exposition(snap, judged))
    host = {"namespace": "host"}
    assert value(found, "shmtop_objects", kind="sysv-shm", **host) == 2
    assert value(found, "shmtop_object_bytes", kind="sysv-shm", **host) == 4096 + 8192
    assert value(found, "shmtop_allocated_bytes", kind="sysv-shm", **host) == 4096 + 8192
    assert value(found, "shmtop_object_bytes", kind="sysv-msg", **host) == 11
    assert value(found, "shmtop_object_bytes", kind="posix-shm", **host) == (1 << 20) + 100
    assert value(found, "shmtop_allocated_bytes", kind="posix-shm", **host) == 4096 + 100
    assert value(found, "shmtop_leaked_objects", kind="sysv-shm", **host) == 1
    assert value(found, "shmtop_leaked_bytes", kind="sysv-shm", **host) == 8192
    assert value(found, "shmtop_leaked_objects", kind="posix-shm", **host) == 1
    assert value(found, "shmtop_leaked_bytes", kind="posix-shm", **host) == 100
    assert value(found, "shmtop_leaked_objects", kind="sysv-sem", **host) == 0  # judged: none
    assert value(found, "shmtop_object_bytes", kind="sysv-sem", **host) is None  # no bytes
    assert not having(found, "shmtop_unjudged_objects")  # every object was judged
    assert_valid(exposition(snap, judged))


def test_leak_age_counts_from_the_last_use_the_verdict_counts_idle_time_from() -> None:
    segment = shm(2, nattch=0, atime=T0 - 7200, dtime=T0 - 3600, ctime=T0 - 9000)
    snap = snapshot([segment, pshm(b"/old", mtime_ns=(T0 - 600) * 10**9, ctime_ns=0)], T0)
    judged = {"sysv-shm:2": LEAKED, "posix-shm:/old": LEAKED}
    found = samples(exposition(snap, judged, leak_series=10))
    assert value(found, "shmtop_oldest_leak_age_seconds", kind="sysv-shm", namespace="host") == 3600
    assert value(found, "shmtop_oldest_leak_age_seconds", kind="posix-shm", namespace="host") == 600
    assert value(found, "shmtop_oldest_leak_age_seconds", kind="sysv-msg", namespace="host") == 0
    per_object = having(found, "shmtop_leaked_object_age_seconds")
    assert {dict(labels)["ref"]: age for (_, labels), age in per_object.items()} == {
        "sysv-shm:2": 3600,
        "posix-shm:/old": 600,
    }


def test_a_kind_that_could_not_be_read_has_no_figures_but_says_so() -> None:
    snap = snapshot([shm(1)])
    snap = replace(
        snap,
        by_kind={**snap.by_kind, Kind.POSIX_MQ: ()},
        unavailable={Kind.POSIX_MQ: "/dev/mqueue is not mounted"},
    )
    found = samples(exposition(snap, all_in_use(snap)))
    mq = {"kind": "posix-mq", "namespace": "host"}
    assert value(found, "shmtop_kind_readable", **mq) == 0
    assert value(found, "shmtop_kind_readable", kind="sysv-shm", namespace="host") == 1
    for name in ("shmtop_objects", "shmtop_leaked_objects", "shmtop_object_bytes"):
        assert value(found, name, **mq) is None, name


def test_a_sum_some_object_could_not_give_is_left_out_not_zero() -> None:
    unreadable = replace(pmq(b"/roots"), qsize=None, curmsgs=None, maxmsg=None, msgsize=None)
    snap = snapshot([pmq(b"/mine", 2), unreadable, shm(1, rss=None, swap=None)])
    found = samples(exposition(snap, all_in_use(snap)))
    host = {"namespace": "host"}
    assert value(found, "shmtop_object_bytes", kind="posix-mq", **host) is None
    assert value(found, "shmtop_resource_used", resource="posix-mq.messages", **host) is None
    assert value(found, "shmtop_resource_used", resource="posix-mq.bytes", **host) is None
    assert value(found, "shmtop_resource_used", resource="posix-mq.queues", **host) == 2
    assert value(found, "shmtop_allocated_bytes", kind="sysv-shm", **host) is None
    assert value(found, "shmtop_resource_used", resource="sysv-shm.rss", **host) is None
    assert value(found, "shmtop_object_bytes", kind="sysv-shm", **host) == 4096


def test_leak_figures_are_left_out_when_none_was_found_and_some_are_in_doubt() -> None:
    snap = snapshot([pshm(b"/a"), pshm(b"/b"), shm(2, nattch=0)])
    judged = {"posix-shm:/a": doubt(Doubt.UNINSPECTED), "posix-shm:/b": IN_USE,
              "sysv-shm:2": doubt(Doubt.PID_FATE)}  # fmt: skip
    found = samples(exposition(snap, judged))
    posix = {"kind": "posix-shm", "namespace": "host"}
    for name in ("shmtop_leaked_objects", "shmtop_leaked_bytes", "shmtop_oldest_leak_age_seconds"):
        assert value(found, name, **posix) is None, name
    assert value(found, "shmtop_unjudged_objects", **posix, reason="uninspected-processes") == 1
    assert value(found, "shmtop_unjudged_objects", **posix, reason="pid-fate-unknown") is None
    assert value(found, "shmtop_unjudged_objects", kind="sysv-shm", namespace="host",
                 reason="pid-fate-unknown") == 1  # fmt: skip
    judged["posix-shm:/b"] = LEAKED  # one found: a lower bound, shown
    found = samples(exposition(snap, judged))
    assert value(found, "shmtop_leaked_objects", **posix) == 1


def test_unknown_verdicts_of_the_real_judge_say_why_in_a_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_contents(monkeypatch)
    objects = mixed()
    snap = replace(snapshot(objects), attach=attach_map())
    judged = verdicts(snap, min_age=0)
    unknown = {ref: v.doubt for ref, v in judged.items() if v.unknown}
    assert unknown  # sysv-shm:3: a process that could not be inspected may map it
    assert unknown["sysv-shm:3"] is Doubt.UNINSPECTED
    assert all(isinstance(why, Doubt) for why in unknown.values())
    assert all(v.doubt is None for v in judged.values() if not v.unknown)
    no_scan = verdicts(replace(snap, attach=None))
    assert {v.doubt for v in no_scan.values()} == {Doubt.NO_SCAN}


def test_limits_are_numbers_or_inf_and_absent_where_none_exists() -> None:
    snap = snapshot([shm(1)])
    found = samples(exposition(snap, all_in_use(snap)))
    host = {"namespace": "host"}
    assert value(found, "shmtop_resource_limit", resource="sysv-shm.segments", **host) == 4096
    assert value(found, "shmtop_resource_limit", resource="sysv-shm.pages", **host) == float("inf")
    assert value(found, "shmtop_resource_limit", resource="sysv-shm.rss", **host) is None
    assert value(found, "shmtop_resource_used", resource="dev-shm.bytes", **host) == 2**20
    assert value(found, "shmtop_resource_limit", resource="dev-shm.bytes", **host) == 2**30
    assert {dict(labels)["resource"] for (_, labels) in having(found, "shmtop_resource_used")} == (
        set(snap.usage)
    )


def test_per_object_series_only_when_asked_and_capped_oldest_first() -> None:
    segments = [shm(i, nattch=0, atime=T0 - i * 100, dtime=None, ctime=T0 - 10**5)
                for i in range(1, 8)]  # fmt: skip
    snap = snapshot(segments, T0)
    judged = {obj.ref: LEAKED for obj in segments}
    assert not having(samples(exposition(snap, judged)), "shmtop_leaked_object_age_seconds")
    capped = having(samples(exposition(snap, judged, leak_series=3)), "shmtop_leaked_object_age")
    assert not capped  # no such family: the name is whole
    per_object = having(
        samples(exposition(snap, judged, leak_series=3)), "shmtop_leaked_object_age_seconds"
    )
    assert sorted(per_object.values()) == [500, 600, 700]
    huge = having(
        samples(exposition(snap, judged, leak_series=10**6)), "shmtop_leaked_object_age_seconds"
    )
    assert len(huge) == 7


def test_namespaces_share_each_family_and_outside_names_are_escaped() -> None:
    weird = 'ctr"one\\two\nthree\udcff'
    first = snapshot([shm(1)])
    second = snapshot([shm(2, nattch=0), pshm(b'/q"\\\nx')])
    views = [
        NamespaceView("host", first, all_in_use(first)),
        NamespaceView(weird, second, {o.ref: LEAKED for o in second.objects}),
    ]
    text = render(namespace_families(views, leak_series=5))
    assert_valid(text)
    assert text.count(b"# TYPE shmtop_objects gauge") == 1
    found = samples(text)
    shown = 'ctr"one\\two\nthree\\udcff'  # the lone surrogate as a visible escape
    assert value(found, "shmtop_objects", kind="sysv-shm", namespace=shown) == 1
    assert value(found, "shmtop_objects", kind="sysv-shm", namespace="host") == 1
    refs = {dict(k[1])["ref"] for k in having(found, "shmtop_leaked_object_age_seconds")}
    assert refs == {"sysv-shm:2", 'posix-shm:/q"\\\\\\nx'}  # the reference's own escapes, kept


def test_numbers_are_written_as_the_format_wants() -> None:
    assert [number_text(v) for v in (3, 0.25, float("inf"), float("-inf"))] == [
        "3", "0.25", "+Inf", "-Inf"
    ]  # fmt: skip
    assert number_text(float("nan")) == "NaN"
    family = Family("shmtop_x", "gauge", "a\\b\nc")
    assert render([family]) == b"# HELP shmtop_x a\\\\b\\nc\n# TYPE shmtop_x gauge\n"


def test_concurrent_callers_share_one_collection_per_interval() -> None:
    made: list[float] = []
    now = [100.0]

    def produce() -> bytes:
        made.append(now[0])
        time.sleep(0.2)  # long enough for every caller to arrive while it runs
        return f"collection {len(made)}".encode()

    cache = OncePerInterval(produce, interval=15, clock=lambda: now[0])
    got: list[bytes] = []
    callers = [threading.Thread(target=lambda: got.append(cache.get())) for _ in range(20)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert made == [100.0] and set(got) == {b"collection 1"}
    now[0] = 114.9
    assert cache.get() == b"collection 1"
    now[0] = 115.0
    assert cache.get() == b"collection 2" and made == [100.0, 115.0]
