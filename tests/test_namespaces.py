"""References and every key built on them hold apart objects of two namespaces that share an
id or a name (two containers each have a `sysv-shm:0` and a `/dev/shm/x`). Crafted
snapshots: collecting other namespaces is the containers' work; these keys must be ready."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from shmtop.clean.stale import verdicts
from shmtop.export import snapshot_json
from shmtop.model import Attacher, AttachMap, Kind
from shmtop.model.identity import decode_identity
from shmtop.model.kinds import identity_of
from shmtop.model.refs import parse_ref
from tests.tui.fakes import pshm, shm, snapshot

OTHER_IPC = "4026532190"
OTHER_SHM = "0.53"


def twins() -> list:
    """Segment 0 and /dev/shm/x here, and a segment 0 and an x in another namespace."""
    return [
        shm(0, nattch=0),
        shm(0, nattch=0, ns=OTHER_IPC, key=0x2222),
        pshm(b"/x"),
        pshm(b"/x", ns=OTHER_SHM, inode=2000),
    ]


def test_objects_of_another_namespace_have_qualified_references() -> None:
    refs = [obj.ref for obj in twins()]
    assert refs == ["sysv-shm:0", f"sysv-shm@{OTHER_IPC}:0", "posix-shm:/x",
                    f"posix-shm@{OTHER_SHM}:/x"]  # fmt: skip


def test_qualified_references_parse_back_to_their_object() -> None:
    for obj in twins():
        ref = parse_ref(obj.ref)
        assert (ref.kind, ref.ns) == (obj.kind, obj.ns)
        assert ref.id == getattr(obj, "id", None) or ref.name == getattr(obj, "name", None)


@given(
    st.sampled_from(list(Kind)),
    st.one_of(st.just(""), st.integers(1, 2**32).map(str), st.just("0.53")),
    st.integers(0, 2**31 - 1),
    st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b),
)
def test_every_reference_parses_back(kind: Kind, ns: str, ident: int, name: bytes) -> None:
    obj = shm(ident, ns=ns) if kind is Kind.SYSV_SHM else pshm(b"/" + name, ns=ns)
    ref = parse_ref(obj.ref)
    assert (ref.kind, ref.ns, ref.id, ref.name) == (
        obj.kind, ns, getattr(obj, "id", None), getattr(obj, "name", None),
    )  # fmt: skip


def test_identities_verdicts_users_and_json_keep_the_twins_apart() -> None:
    objects = twins()
    attach = AttachMap(time=0, attachers={objects[1].ref: (Attacher(7, "db", 0, 1, 0),)},
                       unknown={o.ref: 0 for o in objects})  # fmt: skip
    snap = replace(snapshot(objects), attach=attach)
    identities = {decode_identity(identity_of(obj))[0] for obj in objects}
    assert identities == {obj.ref for obj in objects}
    judged = verdicts(snap, min_age=0)
    assert len(judged) == 4
    assert judged[objects[1].ref].reasons == ("used by db (7)",)  # the other one's user
    assert judged[objects[0].ref].reasons != judged[objects[1].ref].reasons
    listed = snapshot_json(snap, judged)["objects"]
    assert [o["ref"] for o in listed] == [obj.ref for obj in objects]
