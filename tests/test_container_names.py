"""Naming a namespace's container from what the host can read: each runtime's cgroup path
(crafted /proc/PID/cgroup lines, as each runtime writes them), and Docker's names from a
running dockerd's data root, trusted only where root owns both the daemon and the file.
Live Docker containers are named in tests/test_docker.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shmtop.model.namespace import Container
from shmtop.namespaces.containers import Naming
from tests.privileges import require_root

ID = "4f3c9a" + "0" * 52 + "abcdef"
UID = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
SLICE_UID = UID.replace("-", "_")
NSPAWN = "0::/machine.slice/machine-debian\\x2dbox.scope/payload\n"  # systemd escapes '-'

CGROUPS = [
    (f"12:memory:/docker/{ID}\n0::/docker/{ID}\n", Container("docker", id=ID)),
    (f"0::/system.slice/docker-{ID}.scope\n", Container("docker", id=ID)),
    (
        "0::/kubepods.slice/kubepods-burstable.slice/"
        f"kubepods-burstable-pod{SLICE_UID}.slice/cri-containerd-{ID}.scope\n",
        Container("kubernetes", id=ID, pod=UID),
    ),
    (f"0::/kubepods/burstable/pod{UID}/{ID}\n", Container("kubernetes", id=ID, pod=UID)),
    (
        f"0::/kubepods.slice/kubepods-pod{SLICE_UID}.slice/crio-{ID}.scope\n",
        Container("kubernetes", id=ID, pod=UID),
    ),
    (f"0::/machine.slice/libpod-{ID}.scope/container\n", Container("podman", id=ID)),
    ("0::/lxc.payload.web01/init.scope\n", Container("lxc", name="web01")),
    (
        "0::/machine.slice/machine-debian\\x2dbox.scope/payload\n",
        Container("nspawn", name="debian-box"),
    ),
]
NOT_CONTAINERS = [
    "0::/init.scope\n",
    "0::/user.slice/user-1000.slice/session-4.scope\n",
    f"0::/machine.slice/libpod-conmon-{ID}.scope\n",  # podman's monitor, not the container
    "0::/system.slice/docker.service\n",  # the daemon itself
    f"0::/docker/{ID[:12]}\n",  # an id too short to be one
]


@pytest.mark.parametrize(("cgroups", "expected"), CGROUPS)
def test_each_runtime_s_cgroup_path_names_its_container(
    cgroups: str, expected: Container, tmp_path: Path
) -> None:
    assert Naming(str(tmp_path)).container_in(cgroups) == expected


@pytest.mark.parametrize("cgroups", NOT_CONTAINERS)
def test_host_services_and_monitors_are_no_containers(cgroups: str, tmp_path: Path) -> None:
    assert Naming(str(tmp_path)).container_in(cgroups) is None


def _host(tmp_path: Path, name: str = "/web-1") -> tuple[Path, Path]:
    """A crafted /proc with a dockerd (pid 77) whose data root holds one container's config."""
    procfs, data = tmp_path / "proc", tmp_path / "data"
    daemon = procfs / "77"
    daemon.mkdir(parents=True)
    (daemon / "comm").write_text("dockerd\n")
    (daemon / "cmdline").write_bytes(b"dockerd\0--data-root\0" + bytes(data) + b"\0")
    config = data / "containers" / ID / "config.v2.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"Name": name, "ID": ID}))
    return procfs, config


def test_docker_s_name_comes_from_the_running_daemon_s_data_root(tmp_path: Path) -> None:
    require_root("files owned by root, as dockerd's are")
    procfs, _ = _host(tmp_path)
    naming = Naming(str(procfs))
    assert naming.container_in(f"0::/docker/{ID}\n") == Container("docker", id=ID, name="web-1")


def test_a_name_in_a_file_root_does_not_own_is_not_believed(tmp_path: Path) -> None:
    """Anyone can start a process called dockerd, pointing at a data root of their own."""
    require_root("chown")
    procfs, config = _host(tmp_path, "/innocent")
    os.chown(config, 65534, 65534)
    assert Naming(str(procfs)).docker_name(ID) is None


def test_a_daemon_root_does_not_run_is_not_believed(tmp_path: Path) -> None:
    require_root("chown")
    procfs, _ = _host(tmp_path, "/innocent")
    os.chown(procfs / "77", 65534, 65534)  # /proc/PID is owned by the process's user
    assert Naming(str(procfs)).docker_name(ID) is None


def test_a_symlinked_or_strange_config_is_not_read(tmp_path: Path) -> None:
    require_root("files owned by root")
    procfs, config = _host(tmp_path)
    real = tmp_path / "elsewhere.json"
    config.rename(real)
    config.symlink_to(real)
    assert Naming(str(procfs)).docker_name(ID) is None
    config.unlink()
    os.mkfifo(config)  # never blocks on a FIFO
    assert Naming(str(procfs)).docker_name(ID) is None
    config.unlink()
    config.write_text("{not json")
    assert Naming(str(procfs)).docker_name(ID) is None


KUBEPODS = f"0::/kubepods.slice/kubepods-pod{SLICE_UID}.slice/cri-containerd-{ID}.scope\n"
CRI_ANNOTATIONS = {
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.container-name": "app",
    "io.kubernetes.cri.sandbox-name": "web-0",
    "io.kubernetes.cri.sandbox-namespace": "shop",
}


def _containerd(tmp_path: Path, annotations: dict[str, str]) -> tuple[Path, Path]:
    """A crafted /proc with a containerd (pid 88) run with `--state`, whose k8s.io task
    directory holds one container's OCI bundle config."""
    procfs, state = tmp_path / "proc", tmp_path / "state"
    daemon = procfs / "88"
    daemon.mkdir(parents=True)
    (daemon / "comm").write_text("containerd\n")
    (daemon / "cmdline").write_bytes(b"containerd\0--state\0" + bytes(state) + b"\0")
    config = state / "io.containerd.runtime.v2.task" / "k8s.io" / ID / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"ociVersion": "1.1.0", "annotations": annotations}))
    return procfs, config


def test_a_pod_s_name_comes_from_containerd_s_bundle_annotations(tmp_path: Path) -> None:
    """A pod's containers share its IPC namespace: the name is the pod's, NAMESPACE/POD."""
    require_root("files owned by root, as containerd's are")
    procfs, config = _containerd(tmp_path, CRI_ANNOTATIONS)
    expected = Container("kubernetes", id=ID, name="shop/web-0", pod=UID)
    assert Naming(str(procfs)).container_in(KUBEPODS) == expected
    os.chown(config, 65534, 65534)  # anyone's file: not believed
    assert Naming(str(procfs)).container_in(KUBEPODS) == Container("kubernetes", id=ID, pod=UID)


def test_a_pod_s_name_from_cri_o_or_from_docker_s_labels(tmp_path: Path) -> None:
    require_root("files owned by root")
    labels = {"io.kubernetes.pod.namespace": "kube-system", "io.kubernetes.pod.name": "dns-1"}
    crio = tmp_path / "crio" / ID / "userdata" / "config.json"
    crio.parent.mkdir(parents=True)
    crio.write_text(json.dumps({"annotations": labels}))
    naming = Naming(
        str(tmp_path / "noproc"), crio_state=str(tmp_path / "crio/{id}/userdata/config.json")
    )
    (tmp_path / "noproc").mkdir()
    assert naming.pod_name(ID) == "kube-system/dns-1"
    procfs, docker = _host(tmp_path)  # Docker under a kubelet (cri-dockerd): labels
    docker.write_text(json.dumps({"Name": "/k8s_app_dns-1", "Config": {"Labels": labels}}))
    assert (
        Naming(str(procfs), crio_state=str(tmp_path / "none")).pod_name(ID) == "kube-system/dns-1"
    )


def test_a_pod_without_its_runtime_s_state_is_named_by_uid_only(tmp_path: Path) -> None:
    procfs, _ = _containerd(tmp_path, {"io.kubernetes.cri.sandbox-name": "half"})  # no namespace
    naming = Naming(str(procfs), crio_state=str(tmp_path / "none"))
    assert naming.container_in(KUBEPODS) == Container("kubernetes", id=ID, pod=UID)
