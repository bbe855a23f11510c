"""How long another namespace's leak lasts if left alone, said with its verdict: crafted
namespaces for each kind of /dev/shm (the live cases are in tests/test_docker.py), and the
host's mount table read with its escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shmtop.clean.lifetime import lifetime
from shmtop.model import Kind
from shmtop.model.namespace import Container, Namespace
from shmtop.namespaces.mounts import host_mount_points, mount_points_in

DOCKER = "/var/lib/docker/containers/" + "a" * 64 + "/mounts/shm"
EMPTY_DIR = "/var/lib/kubelet/pods/0f/volumes/kubernetes.io~empty-dir/dshm"
STOPS = "it goes when the container stops"
RESTARTS = "it outlives container restarts, and goes with the pod"
BOUND = "bound there: judged and removed only on the host, never through this namespace"


def box(*on_host: str) -> Namespace:
    return Namespace(ipc=4026532190, dev_shm=os.makedev(0, 53), pids=(42,), own_ipc=False,
                     own_shm=False, container=Container("docker", name="web-1"),
                     shm_on_host=on_host)  # fmt: skip


@pytest.mark.parametrize(
    ("on_host", "expected"),
    [
        ((), "in web-1's /dev/shm, mounted only inside it: it goes with its last process"),
        (
            (DOCKER,),
            f"in web-1's /dev/shm, Docker's tmpfs at {DOCKER}: it goes when the container stops",
        ),
        (
            (EMPTY_DIR,),
            f"in web-1's /dev/shm, a pod's emptyDir at {EMPTY_DIR}: it outlives "
            "container restarts, and goes with the pod",
        ),
        (
            ("/srv/shared",),
            f"in web-1's /dev/shm, which is the host's tmpfs at /srv/shared, {BOUND}",
        ),
    ],
)
def test_a_dev_shm_file_lasts_as_long_as_its_tmpfs(on_host: tuple[str, ...], expected: str) -> None:
    assert lifetime(Kind.POSIX_SHM, box(*on_host)) == expected


def test_system_v_objects_and_queues_last_as_long_as_their_ipc_namespace() -> None:
    for kind in (Kind.SYSV_SHM, Kind.SYSV_MSG, Kind.SYSV_SEM, Kind.POSIX_MQ):
        assert lifetime(kind, box(DOCKER)) == (
            "in web-1's IPC namespace: it goes when that namespace's last process ends"
        )


def test_a_hostile_mount_point_reaches_the_reason_escaped() -> None:
    said = lifetime(Kind.POSIX_SHM, box("/srv/\x1b[2Jx\nrm"))
    assert "\x1b" not in said and "\n" not in said


def test_the_host_s_mount_points_are_read_by_device_with_their_escapes(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "mountinfo").write_bytes(
        b"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw\n"
        b"81 63 0:52 / /srv/with\\040space/shm rw shared:4 - tmpfs shm rw\n"
        b"82 63 0:52 / /second rw - tmpfs shm rw\n"
        b"garbage line\n"
    )
    found = host_mount_points(str(tmp_path))
    assert found[os.makedev(0, 23)] == ("/dev/shm",)
    assert found[os.makedev(0, 52)] == ("/srv/with space/shm", "/second")


def test_mount_points_inside_a_directory_are_named_from_its_process_s_table(
    tmp_path: Path,
) -> None:
    (tmp_path / "123").mkdir()
    (tmp_path / "123" / "mountinfo").write_bytes(
        b"64 60 0:40 / /dev/shm rw - tmpfs none rw\n"
        b"65 64 0:41 / /dev/shm/dir rw - fuse red rw\n"
        b"66 64 0:42 / /dev/shm/with\\040space rw - fuse red rw\n"
        b"67 64 0:43 / /dev/shm/dir/deeper rw - tmpfs none rw\n"
        b"68 64 0:44 / /dev/shmother rw - tmpfs none rw\n"
    )
    found = mount_points_in(f"{tmp_path}/123/root/dev/shm")
    assert found == {b"dir", b"with space"}
    assert mount_points_in(f"{tmp_path}/123/root/dev/mqueue") == frozenset()
