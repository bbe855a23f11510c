"""A Docker daemon of the test session's own, and an image built offline.

Debian's docker.io runs without systemd: dockerd with its own data and exec roots and socket,
and with no bridge, NAT or forwarding rules (without those flags it changes the host's
network). No registry is reachable: the image is a rootfs of busybox-static and a small
static program (`tests/ipcbox.c`) that makes a System V segment and a /dev/shm file, imported
with `docker import`. Missing packages are installed with apt-get, as root (what a fresh
machine lacks; .ci/run installs them beforehand). The daemon stops with the session, its
containers removed first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = {"dockerd": "docker.io", "busybox": "busybox-static"}
HERE = Path(__file__).resolve().parent
IMAGE = "shmtop-test-box:1"


@dataclass
class Daemon:
    socket: str
    data_root: str

    def docker(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_HOST": f"unix://{self.socket}"}
        return subprocess.run(["docker", *argv], capture_output=True, text=True, check=check,
                              env=env, timeout=120)  # fmt: skip


def installed() -> None:
    """docker.io and busybox-static, installed if missing (needs root and Debian's mirror)."""
    missing = [package for binary, package in PACKAGES.items() if shutil.which(binary) is None]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        tried = subprocess.run(install, check=False, capture_output=True, env=env, timeout=600)
        if tried.returncode:
            subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env,
                           timeout=600)  # fmt: skip
            subprocess.run(install, check=True, capture_output=True, env=env, timeout=600)


@contextlib.contextmanager
def daemon() -> Iterator[Daemon]:
    """A dockerd of this session's own, ready, with the test image; stopped afterwards."""
    installed()
    base = tempfile.mkdtemp(prefix="shmtop-test-docker-")
    found = Daemon(f"{base}/docker.sock", f"{base}/data")
    process = subprocess.Popen(
        ["dockerd", "--data-root", found.data_root, "--exec-root", f"{base}/exec",
         "-H", f"unix://{found.socket}", "-p", f"{base}/docker.pid", "--bridge=none",
         "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
        stdout=subprocess.DEVNULL, stderr=open(f"{base}/dockerd.log", "wb"),  # noqa: SIM115
    )  # fmt: skip
    try:
        _until_ready(found, process)
        _build_image(found, base)
        yield found
    finally:
        _remove_containers(found)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        subprocess.run(["umount", "-R", base], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _until_ready(found: Daemon, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while found.docker("info", check=False).returncode != 0:
        assert process.poll() is None, "dockerd ended: see its log"
        assert time.monotonic() < deadline, "dockerd was not ready within a minute"
        time.sleep(0.2)


def _build_image(found: Daemon, base: str) -> None:
    rootfs = Path(base) / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    subprocess.run(["gcc", "-static", "-O2", "-o", str(rootfs / "bin" / "ipcbox"),
                    str(HERE / "ipcbox.c")], check=True, capture_output=True)  # fmt: skip
    shutil.copy(shutil.which("busybox") or "/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("sh", "sleep", "cat", "ls", "hexdump"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True)
    env = {**os.environ, "DOCKER_HOST": f"unix://{found.socket}"}
    subprocess.run(["docker", "import", "--change", "ENV PATH=/bin", "--change",
                    'CMD ["/bin/sh"]', "-", IMAGE], input=tar.stdout, check=True,
                   capture_output=True, env=env, timeout=120)  # fmt: skip


def _remove_containers(found: Daemon) -> None:
    names = found.docker("ps", "-aq", check=False).stdout.split()
    if names:
        found.docker("rm", "-f", *names, check=False)
