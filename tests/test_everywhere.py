"""Every namespace of the host, for real: two boxes made with `unshare` (IPC, mount, UTS and pid
namespaces, an 8 MiB tmpfs on /dev/shm), each with a System V segment and queue of the same
id and key, a /dev/shm file and a POSIX queue of the same name, listed apart, shown, dumped
and removed by reference without touching the other. The boxes keep the test session's
/dev/mqueue, which shows the host's queues (one of the same name among them), not theirs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from shmtop.collect.everywhere import collect_everywhere
from shmtop.namespaces.enter import release_all
from shmtop.namespaces.mqueue_view import helper_pids
from shmtop.namespaces.paths import directory_fd, expect_device
from tests.boxes import KINDS, Box, in_box, quoted
from tests.exposition import samples, value
from tests.privileges import require_root, run_as_nobody
from tests.promtools import assert_valid
from tests.test_inspect import shmtop


def listed(*argv: str) -> dict[str, Any]:
    status, out, err = shmtop("list", "--json", *argv)
    assert status == 0, err
    return json.loads(out)


def ours(document: dict[str, Any], boxes: list[Box]) -> dict[str, list[dict[str, Any]]]:
    """The objects of each box, by its tag (hostname)."""
    found: dict[str, list[dict[str, Any]]] = {box.tag: [] for box in boxes}
    for obj in document["objects"]:
        name = (obj["namespace"] or {}).get("name", "")
        for box in boxes:
            if name.startswith(box.tag):
                found[box.tag].append(obj)
    return found


def test_two_namespaces_with_the_same_ids_and_names_are_listed_apart(boxes: list[Box]) -> None:
    assert boxes[0].segment == boxes[1].segment and boxes[0].queue == boxes[1].queue
    by_box = ours(listed("-A"), boxes)
    refs = {tag: sorted(o["ref"] for o in objs) for tag, objs in by_box.items()}
    for box in boxes:
        kinds = sorted(o["kind"] for o in by_box[box.tag])
        assert kinds == KINDS, (box.tag, refs)
        (queue,) = [o for o in by_box[box.tag] if o["kind"] == "posix-mq"]
        assert (queue["qsize"], queue["curmsgs"]) == (len(box.tag), 1)
        (segment,) = [o for o in by_box[box.tag] if o["kind"] == "sysv-shm"]
        assert segment["ref"].endswith(f":{box.segment}") and "@" in segment["ref"]
        (user,) = segment["attachers"]  # the box's own process, and only it
        assert os.readlink(f"/proc/{user['pid']}/ns/ipc") == f"ipc:[{segment['namespace']['ipc']}]"
    assert not set(refs[boxes[0].tag]) & set(refs[boxes[1].tag])
    host = listed()  # shmtop's own namespace only, as ipcs would
    assert not any(o["ref"] in refs[boxes[0].tag] for o in host["objects"])


def test_each_box_s_objects_hold_their_own_bytes(boxes: list[Box]) -> None:
    by_box = ours(listed("-A"), boxes)
    for box in boxes:
        for obj in by_box[box.tag]:
            if obj["kind"] in ("sysv-shm", "posix-shm"):
                status, out, err = shmtop("dump", obj["ref"], "--length", "16")
                assert status == 0, err
                assert box.tag[:6].encode().hex(" ")[:17] in out, (obj["ref"], out)
            if obj["kind"] == "sysv-msg":
                status, out, _ = shmtop("show", obj["ref"], "--json")
                [message] = json.loads(out)["messages"]
                assert bytes.fromhex(message["head_hex"]) == box.tag.encode()


def test_removing_one_box_s_objects_leaves_the_other_s(boxes: list[Box]) -> None:
    by_box = ours(listed("-A"), boxes)
    doomed = [o["ref"] for o in by_box[boxes[0].tag] if o["kind"] != "sysv-shm"]
    status, out, err = shmtop("rm", "--yes", "--json", *doomed)
    assert status == 0, err
    assert [r["result"] for r in json.loads(out)["results"]] == ["removed"] * len(doomed)
    after = ours(listed("-A"), boxes)
    assert sorted(o["kind"] for o in after[boxes[0].tag]) == ["sysv-shm"]
    assert sorted(o["kind"] for o in after[boxes[1].tag]) == KINDS


def test_ns_names_a_box_by_hostname_or_pid(boxes: list[Box]) -> None:
    for target in (boxes[1].tag, str(in_box(boxes[1]))):
        document = listed("--ns", target)
        assert {o["namespace"]["name"].split(" ")[0] for o in document["objects"]} == {boxes[1].tag}
    status, _, err = shmtop("list", "--ns", "no-such-box-anywhere")
    assert status == 2 and err.startswith("shmtop: --ns no-such-box-anywhere: no process")


def test_each_box_has_its_own_dev_shm_limits(boxes: list[Box]) -> None:
    status, out, _ = shmtop("limits", "-A", "--json")
    assert status == 0
    spaces = {
        ns["hostname"]: ns["usage"]["dev-shm.bytes"]
        for ns in json.loads(out)["namespaces"]
        if ns["hostname"] in {box.tag for box in boxes}
    }
    assert {tag: space["limit"] for tag, space in spaces.items()} == {
        box.tag: 8 << 20 for box in boxes
    }


def test_a_dev_shm_a_container_made_a_symlink_is_never_followed(tmp_path: Any) -> None:
    """A container whose /dev/shm is an absolute symlink: from the host, /proc/PID/root/dev/shm
    would resolve on the host's own filesystem. Nothing there is listed or removed."""
    require_root("IPC and mount namespaces")
    victim = tmp_path / "victim-dir"
    victim.mkdir()
    (victim / "precious").write_bytes(b"host data")
    shell = (
        f"mount -t tmpfs none /dev && ln -s {victim} /dev/shm && exec {sys.executable} -c "
        + quoted("import sys; print('ready', flush=True); sys.stdin.read()")
    )
    command = ["unshare", "--ipc", "--mount", "--fork", "sh", "-c", shell]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("ready")
        document = listed("-A")
        assert not [o for o in document["objects"] if o["name"] == "/precious"]
        status, _, _ = shmtop("rm", "--yes", "posix-shm@0.1:/precious")
        assert status != 0
    finally:
        release_all()
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=20)
    assert (victim / "precious").read_bytes() == b"host data"


def _everywhere_refs() -> tuple[list[str], list[str]]:
    snapshot = collect_everywhere(attachers=True)
    return [o.ref for o in snapshot.objects], [ns.title for ns in snapshot.namespaces]


def test_without_privilege_every_namespace_is_what_the_caller_may_see(boxes: list[Box]) -> None:
    """As nobody, other users' namespaces cannot be read or entered: -A is shmtop's own."""
    refs, titles = run_as_nobody(_everywhere_refs)
    assert titles == ["host"]
    assert not [ref for ref in refs if "@" in ref]
    as_root, _ = _everywhere_refs()
    assert [ref for ref in as_root if "@" in ref]  # the boxes are there for root


def test_the_boxes_queues_are_read_through_a_helper_nobody_else_sees(boxes: list[Box]) -> None:
    """The boxes show the session's /dev/mqueue (the host's queues): their own are read
    through shmtop's helper, whose mounts are in a mount namespace of its own, and which ends
    when shmtop lets go."""
    by_box = ours(listed("-A"), boxes)
    assert all(any(o["kind"] == "posix-mq" for o in objs) for objs in by_box.values())
    (helper,) = helper_pids()
    with open("/proc/self/mountinfo") as f:
        assert f"/proc/{helper}" not in f.read()
    with open(f"/proc/{helper}/mountinfo") as f:
        mounted = [line.split()[4] for line in f if " - mqueue " in line]
    labels = {o["ref"].split("@")[1].split(":")[0] for objs in by_box.values() for o in objs
              if o["kind"] == "posix-mq"}  # fmt: skip
    assert {f"/tmp/{label}" for label in labels} <= set(mounted)
    release_all()
    assert not helper_pids() and not os.path.exists(f"/proc/{helper}")


def test_metrics_of_every_namespace_carry_each_one_s_name(boxes: list[Box]) -> None:
    status, text, err = shmtop("metrics", "-A", "--min-age", "0")
    assert status == 0, err
    assert_valid(text.encode())
    found = samples(text.encode())
    for box in boxes:
        named = [
            dict(labels)["namespace"]
            for (name, labels), _ in found.items()
            if name == "shmtop_objects" and dict(labels)["namespace"].startswith(box.tag)
        ]
        assert len(set(named)) == 1, named
        for kind in KINDS:
            assert value(found, "shmtop_objects", kind=kind, namespace=named[0]) == 1, kind
        limit = value(found, "shmtop_resource_limit", resource="dev-shm.bytes", namespace=named[0])
        assert limit == 8 << 20
    assert value(found, "shmtop_objects", kind="posix-mq", namespace="host") is not None


def test_a_box_s_path_that_now_reaches_another_dev_shm_is_refused(boxes: list[Box]) -> None:
    """If a box's process ends and its pid names a host process, /proc/PID/root/dev/shm
    reaches the host's /dev/shm: a path is held to the device it had when it was found."""
    path = f"/proc/{boxes[0].process.pid}/root/dev/shm"  # its first process: unshare
    os.close(directory_fd(path))  # not yet held to anything
    expect_device(path, os.stat("/dev/shm").st_dev)  # as if the pid were a host process now
    with pytest.raises(OSError) as raised:
        directory_fd(path)
    assert raised.value.errno == errno.ESTALE
    listed("-A")  # finding the boxes again holds the path to the box's own device again
    os.close(directory_fd(path))


def test_a_box_s_nearly_full_dev_shm_is_flagged_in_limits(boxes: list[Box]) -> None:
    box = in_box(boxes[0])
    fill = ["nsenter", "-t", str(box), "-m", "sh", "-c", "head -c 7800000 /dev/zero >/dev/shm/f"]
    subprocess.run(fill, check=True)
    status, out, err = shmtop("limits", "--ns", str(box))
    assert status == 0, err
    (row,) = [line for line in out.splitlines() if line.startswith("DEV_SHM ")]
    assert row.endswith("nearly full"), row
    (inodes,) = [line for line in out.splitlines() if line.startswith("DEV_SHM_INODES ")]
    assert not inodes.endswith("full")
