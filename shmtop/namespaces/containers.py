"""Which container a process is in, and its name, from what the host can tell.

A process's cgroup path names its runtime and container id (REFERENCE: Docker
`/docker/<id>` or `docker-<id>.scope`; Kubernetes `kubepods.../pod<uid>/<id>` or
`...-pod<uid>.slice/cri-containerd-<id>.scope`, also `crio-` and `docker-`; podman
`libpod-<id>`; LXC `lxc.payload.<name>`; systemd-nspawn `machine-<name>.scope`). Docker's name
is in its data root, `containers/<id>/config.v2.json` ("Name"); the data root is read from the
running dockerd's command line (`--data-root`, /var/lib/docker by default). Files are read
bounded and never followed through a link; what cannot be told stays unknown.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable

from shmtop.model.namespace import Container

_ID = r"([0-9a-f]{64})"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"kubepods.*?pod([0-9a-f_-]{36}).*?(?:cri-containerd-|crio-|docker-|/)" + _ID),
     "kubernetes"),
    (re.compile(r"/docker/" + _ID + r"|docker-" + _ID + r"\.scope"), "docker"),
    (re.compile(r"libpod-" + _ID), "podman"),
    (re.compile(r"/lxc\.payload\.([^/\n]+)"), "lxc"),
    (re.compile(r"machine-([^/\n]+)\.scope"), "nspawn"),
)  # fmt: skip
_READ_AT_MOST = 1 << 20


class Naming:
    """Names containers for one pass over the host's namespaces (the Docker data roots are
    looked for once, and only when a Docker container is found)."""

    def __init__(self, procfs: str = "/proc") -> None:
        self.procfs = procfs
        self._docker_roots: list[str] | None = None

    def container_of(self, pids: Iterable[int]) -> Container | None:
        """The container of the first of `pids` whose cgroup names one, else None."""
        for pid in pids:
            text = _read(f"{self.procfs}/{pid}/cgroup")
            if text is not None:
                found = self.container_in(text)
                if found is not None:
                    return found
        return None

    def container_in(self, cgroups: str) -> Container | None:
        """The container a /proc/PID/cgroup text names, if any."""
        for pattern, runtime in _PATTERNS:
            match = pattern.search(cgroups)
            if match is None:
                continue
            groups = [g for g in match.groups() if g]
            if runtime == "kubernetes":
                return Container(runtime, id=groups[-1], pod=groups[0].replace("_", "-"))
            if runtime in ("lxc", "nspawn"):
                return Container(runtime, name=_unescape_unit(groups[0]))
            name = self.docker_name(groups[0]) if runtime == "docker" else None
            return Container(runtime, id=groups[0], name=name)
        return None

    def docker_name(self, container_id: str) -> str | None:
        """A Docker container's name, from the data root of a running dockerd of root's,
        in a file root owns (anyone can start a process named dockerd)."""
        if self._docker_roots is None:
            self._docker_roots = _docker_data_roots(self.procfs)
        for root in self._docker_roots:
            path = os.path.join(root, "containers", container_id, "config.v2.json")
            text = _read(path, owner=0)
            if text is None:
                continue
            try:
                name = json.loads(text).get("Name")
            except (ValueError, AttributeError):
                continue
            if isinstance(name, str) and name.strip("/"):
                return name.lstrip("/")
        return None


def _docker_data_roots(procfs: str) -> list[str]:
    roots = []
    for name in os.listdir(procfs):
        if (
            name.isdigit()
            and _read(f"{procfs}/{name}/comm") == "dockerd\n"
            and _root_s(f"{procfs}/{name}")
        ):
            argv = (_read(f"{procfs}/{name}/cmdline") or "").split("\0")
            roots.append(_option(argv, "--data-root") or "/var/lib/docker")
    return roots or ["/var/lib/docker"]


def _root_s(path: str) -> bool:
    try:
        return os.stat(path).st_uid == 0
    except OSError:
        return False


def _option(argv: list[str], option: str) -> str | None:
    for i, word in enumerate(argv):
        if word == option and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None


def _unescape_unit(name: str) -> str:
    """systemd escapes a unit name's '-' and other bytes as \\xNN."""
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


def _read(path: str, owner: int | None = None) -> str | None:
    """A small file's text, never through a final symlink, never a FIFO's or a device's, and
    only if `owner` (when given) owns it; None if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (owner is not None and st.st_uid != owner):
            return None
        return os.read(fd, _READ_AT_MOST).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)
