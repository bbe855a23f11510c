"""Containers, for real: a Docker daemon of the test's own (tests/docker_host.py) runs two
containers of one image, each with a System V segment and queue of the same key, a /dev/shm
file and a POSIX queue of the same name, and an 8 MiB /dev/shm. shmtop, from the host, names
each container, reads and removes one's objects by reference and leaves the other's, and
agrees with busybox's ipcs run inside each container."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shmtop.namespaces.enter import release_all
from tests import docker_host
from tests.privileges import require_root
from tests.test_inspect import shmtop

KINDS = ["posix-mq", "posix-shm", "sysv-msg", "sysv-shm"]


@dataclass
class Container:
    name: str
    id: str
    pid: int


@pytest.fixture(scope="module")
def daemon() -> Iterator[docker_host.Daemon]:
    require_root("a Docker daemon")
    with docker_host.daemon() as running:
        yield running


@pytest.fixture
def containers(daemon: docker_host.Daemon) -> Iterator[list[Container]]:
    started: list[str] = []
    try:
        made = []
        for letter in "ab":
            name = f"shmtop-test-{letter}-{uuid.uuid4().hex[:8]}"
            started.append(name)
            made.append(_run(daemon, name))
        yield made
    finally:
        release_all()  # the namespaces shmtop entered go with their containers
        daemon.docker("rm", "-f", *started, check=False)


def _run(daemon: docker_host.Daemon, name: str) -> Container:
    daemon.docker("run", "-d", "-i", "--name", name, "--network", "none", "--shm-size", "8m",
                  docker_host.IMAGE, "/bin/ipcbox", name)  # fmt: skip
    _until_ready(daemon, name)
    found = daemon.docker("inspect", "--format", "{{.Id}} {{.State.Pid}}", name).stdout.split()
    return Container(name, found[0], int(found[1]))


def _until_ready(daemon: docker_host.Daemon, name: str) -> None:
    deadline = time.monotonic() + 30
    while "ready" not in daemon.docker("logs", name).stdout:
        assert time.monotonic() < deadline, daemon.docker("logs", name).stderr
        time.sleep(0.1)


def listed(*argv: str) -> dict[str, Any]:
    status, out, err = shmtop("list", "--json", *argv)
    assert status == 0, err
    return json.loads(out)


def of(document: dict[str, Any], box: Container) -> list[dict[str, Any]]:
    return [
        o for o in document["objects"] if (o["namespace"] or {}).get("container_name") == box.name
    ]


def test_each_container_is_named_and_its_objects_kept_apart(containers: list[Container]) -> None:
    document = listed("-A")
    for box in containers:
        objects = of(document, box)
        assert sorted(o["kind"] for o in objects) == KINDS, [o["ref"] for o in objects]
        for obj in objects:
            assert obj["namespace"]["runtime"] == "docker"
            assert obj["namespace"]["container_id"] == box.id
            assert obj["namespace"]["name"] == box.name
        (segment,) = [o for o in objects if o["kind"] == "sysv-shm"]
        assert [a["pid"] for a in segment["attachers"]] == [box.pid]
    refs = [{o["ref"] for o in of(document, box)} for box in containers]
    assert not refs[0] & refs[1]
    assert not {o["ref"] for o in listed()["objects"]} & (refs[0] | refs[1])


def test_shmtop_agrees_with_ipcs_in_each_container_s_namespace(
    containers: list[Container],
) -> None:
    """The operator's way today: `nsenter -t PID --ipc ipcs`, one container at a time."""
    document = listed("-A")
    for box in containers:
        for option, kind in (("-m", "sysv-shm"), ("-q", "sysv-msg")):
            command = ["nsenter", "-t", str(box.pid), "--ipc", "ipcs", option]
            theirs = _ipcs_ids(
                subprocess.run(command, capture_output=True, text=True, check=True).stdout
            )
            ours = {int(o["ref"].rsplit(":", 1)[1]) for o in of(document, box) if o["kind"] == kind}
            assert ours == theirs and ours, (box.name, option)


def _ipcs_ids(text: str) -> set[int]:
    """The ids in ipcs's table: rows that start with a key in hex."""
    return {int(line.split()[1]) for line in text.splitlines() if line.startswith("0x")}


def test_each_container_s_objects_hold_its_own_bytes(
    daemon: docker_host.Daemon, containers: list[Container]
) -> None:
    for box in containers:
        for obj in of(listed("--ns", box.name), box):
            if obj["kind"] in ("sysv-shm", "posix-shm"):
                status, out, err = shmtop("dump", obj["ref"], "--length", "32")
                assert status == 0, err
                assert box.name.encode()[:16].hex(" ") in out.replace("  ", " "), out
            elif obj["kind"] == "sysv-msg":
                status, out, err = shmtop("show", obj["ref"], "--json")
                assert status == 0, (obj["ref"], err)
                [message] = json.loads(out)["messages"]
                assert bytes.fromhex(message["head_hex"]) == box.name.encode()
            else:  # a POSIX queue cannot be peeked: its QSIZE line and mq_getattr say enough
                status, out, err = shmtop("show", obj["ref"], "--json")
                assert status == 0, (obj["ref"], err)
                shown = json.loads(out)
                assert (shown["qsize"], shown["curmsgs"]) == (len(box.name), 1)
        status, out, err = shmtop("dump", "--ns", box.name, "posix-shm:/same-name")
        assert status == 0, err
        assert out == daemon.docker("exec", box.name, "hexdump", "-C", "/dev/shm/same-name").stdout


def test_removing_one_container_s_objects_leaves_the_other_s(
    daemon: docker_host.Daemon, containers: list[Container]
) -> None:
    first, second = containers
    doomed = [o["ref"] for o in of(listed("-A"), first) if o["kind"] != "sysv-shm"]
    status, out, err = shmtop("rm", "--yes", "--json", *doomed)
    assert status == 0, err
    assert [r["result"] for r in json.loads(out)["results"]] == ["removed"] * len(doomed)
    after = listed("-A")
    assert [o["kind"] for o in of(after, first)] == ["sysv-shm"]
    assert sorted(o["kind"] for o in of(after, second)) == KINDS
    gone = daemon.docker("exec", first.name, "ls", "/dev/shm", "/dev/mqueue").stdout
    kept = daemon.docker("exec", second.name, "ls", "/dev/shm", "/dev/mqueue").stdout
    assert "same-name" not in gone and "same-queue" not in gone
    assert "same-name" in kept and "same-queue" in kept


def test_ns_takes_a_container_s_name_or_id_prefix(containers: list[Container]) -> None:
    box = containers[1]
    for target in (box.name, box.id[:12]):
        status, out, err = shmtop("list", "--json", "--ns", target)
        assert status == 0 and err == ""  # nothing of the host's, not even a note
        document = json.loads(out)
        assert {o["namespace"]["container_name"] for o in document["objects"]} == {box.name}
        assert sorted(o["kind"] for o in document["objects"]) == KINDS
        assert [ns["container_name"] for ns in document["namespaces"]] == [box.name]


def test_each_container_s_dev_shm_limit_is_its_own(containers: list[Container]) -> None:
    status, out, err = shmtop("limits", "-A", "--json")
    assert status == 0, err
    sizes = {
        ns["container_name"]: ns["usage"]["dev-shm.bytes"]["limit"]
        for ns in json.loads(out)["namespaces"]
        if ns.get("container_name") in {box.name for box in containers}
    }
    assert sizes == {box.name: 8 << 20 for box in containers}


def test_a_container_s_leak_says_how_long_it_lasts(
    daemon: docker_host.Daemon, containers: list[Container]
) -> None:
    """A file nobody holds in a container's private /dev/shm goes with the container; one in
    the tmpfs Docker mounts on the host for a shareable IPC container, when it stops."""
    shareable = f"shmtop-test-s-{uuid.uuid4().hex[:8]}"
    try:
        box = [docker_host.IMAGE, "/bin/ipcbox", shareable]
        daemon.docker("run", "-d", "-i", "--name", shareable, "--network", "none", "--ipc",
                      "shareable", *box)  # fmt: skip
        _until_ready(daemon, shareable)
        unread = [str(p["pid"]) for p in listed("-A")["uninspected"] or []]
        vouched = [arg for pid in unread for arg in ("--ignore-unreadable", pid)]
        status, out, err = shmtop("clean", "-A", "--json", "--min-age", "0", *vouched)
        assert status == 0, err
        plan = {step["ref"]: step["reasons"] for step in json.loads(out)["plan"]}
        document = listed("-A")
        for name, lasts in (
            (containers[0].name, f"in {containers[0].name}'s /dev/shm, mounted only inside it"),
            (shareable, f"in {shareable}'s /dev/shm, Docker's tmpfs at {daemon.data_root}/"),
        ):
            (ref,) = [o["ref"] for o in document["objects"]
                      if (o["namespace"] or {}).get("container_name") == name
                      and o["kind"] == "posix-shm"]  # fmt: skip
            assert plan[ref][0] == "no process maps it or holds it open"
            assert plan[ref][-1].startswith(lasts), plan[ref]
    finally:
        daemon.docker("rm", "-f", shareable, check=False)
