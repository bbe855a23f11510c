"""Which container a process is in, and its name, from what the host can tell.

A process's cgroup path names its runtime and container id (REFERENCE: Docker
`/docker/<id>` or `docker-<id>.scope`; Kubernetes `kubepods.../pod<uid>/<id>` or
`...-pod<uid>.slice/cri-containerd-<id>.scope`, also `crio-` and `docker-`; podman
`libpod-<id>`; LXC `lxc.payload.<name>`; systemd-nspawn `machine-<name>.scope`). Docker's name
is in its data root, `containers/<id>/config.v2.json` ("Name"); the data root is read from the
running dockerd's command line (`--data-root`, /var/lib/docker by default). A Kubernetes pod's
name is in its runtime's state, as annotations of the container's OCI bundle: containerd's
`STATE/io.containerd.runtime.v2.task/k8s.io/<id>/config.json` (STATE from the running
containerd's `--state`, /run/containerd by default), CRI-O's
`/run/containers/storage/overlay-containers/<id>/userdata/config.json`, or, for Docker under a
kubelet, the labels in Docker's `config.v2.json`. A pod's containers share its IPC namespace,
so the name is the pod's: `NAMESPACE/POD`. Only files root owns, read by a daemon root runs,
are believed; files are read bounded and never followed through a link; what cannot be told
stays unknown.
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
_DAEMONS = frozenset({"dockerd", "containerd"})  # whose command lines say where state is
_CRIO_STATE = "/run/containers/storage/overlay-containers/{id}/userdata/config.json"
_CONTAINERD_TASK = "io.containerd.runtime.v2.task/k8s.io/{id}/config.json"
# (pod namespace, pod name) as containerd's CRI plugin and as CRI-O / the kubelet's labels say
_POD_KEYS = (
    ("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-name"),
    ("io.kubernetes.pod.namespace", "io.kubernetes.pod.name"),
)


class Naming:
    """Names containers for one pass over the host's namespaces (the Docker data roots are
    looked for once, and only when a Docker container is found)."""

    def __init__(self, procfs: str = "/proc", crio_state: str = _CRIO_STATE) -> None:
        self.procfs = procfs
        self.crio_state = crio_state
        self._daemons: dict[str, list[list[str]]] | None = None  # comm -> each one's argv

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
                pod_uid, container_id = groups[0].replace("_", "-"), groups[-1]
                return Container(runtime, id=container_id, name=self.pod_name(container_id),
                                 pod=pod_uid)  # fmt: skip
            if runtime in ("lxc", "nspawn"):
                return Container(runtime, name=_unescape_unit(groups[0]))
            name = self.docker_name(groups[0]) if runtime == "docker" else None
            return Container(runtime, id=groups[0], name=name)
        return None

    def docker_name(self, container_id: str) -> str | None:
        """A Docker container's name, from the data root of a running dockerd of root's,
        in a file root owns (anyone can start a process named dockerd)."""
        config = self._docker_config(container_id)
        name = config.get("Name") if config else None
        if isinstance(name, str) and name.strip("/"):
            return name.lstrip("/")
        return None

    def pod_name(self, container_id: str) -> str | None:
        """`NAMESPACE/POD` of a Kubernetes container, from its runtime's state: containerd's
        or CRI-O's bundle annotations, or Docker's labels (cri-dockerd); else None."""
        for state in self._options("containerd", "--state", "/run/containerd"):
            found = _pod_in(_json_of(os.path.join(state, _CONTAINERD_TASK.format(id=container_id))),
                            "annotations")  # fmt: skip
            if found:
                return found
        found = _pod_in(_json_of(self.crio_state.format(id=container_id)), "annotations")
        if found:
            return found
        docker = self._docker_config(container_id)
        return _pod_in(docker.get("Config") if docker else None, "Labels")

    def _options(self, daemon: str, option: str, default: str) -> list[str]:
        """`option`'s value (else `default`) of each running `daemon` of root's; [default]
        when none runs. The daemons are looked for once, when a container needs a name."""
        if self._daemons is None:
            self._daemons = _root_daemons(self.procfs)
        found = [_option(argv, option) or default for argv in self._daemons.get(daemon, [])]
        return found or [default]

    def _docker_config(self, container_id: str) -> dict[str, object] | None:
        for root in self._options("dockerd", "--data-root", "/var/lib/docker"):
            found = _json_of(os.path.join(root, "containers", container_id, "config.v2.json"))
            if found is not None:
                return found
        return None


def _json_of(path: str) -> dict[str, object] | None:
    """A JSON object from a file root owns, else None."""
    text = _read(path, owner=0)
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _pod_in(document: object, key: str) -> str | None:
    """`NAMESPACE/POD` from a document's annotations or labels (`key`), if they say both."""
    tags = document.get(key) if isinstance(document, dict) else None
    if not isinstance(tags, dict):
        return None
    for namespace_key, name_key in _POD_KEYS:
        namespace, name = tags.get(namespace_key), tags.get(name_key)
        if isinstance(namespace, str) and isinstance(name, str) and namespace and name:
            return f"{namespace}/{name}"
    return None


def _root_daemons(procfs: str) -> dict[str, list[list[str]]]:
    """The command lines of the daemons whose names are asked of, by name, of those root
    runs (anyone can start a process named dockerd): one pass over /proc."""
    found: dict[str, list[list[str]]] = {}
    for name in os.listdir(procfs):
        if not name.isdigit():
            continue
        comm = (_read(f"{procfs}/{name}/comm") or "").rstrip("\n")
        if comm in _DAEMONS and _root_s(f"{procfs}/{name}"):
            argv = (_read(f"{procfs}/{name}/cmdline") or "").split("\0")
            found.setdefault(comm, []).append(argv)
    return found


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
