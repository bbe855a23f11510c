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


def container_of(procfs: str, pids: Iterable[int]) -> Container | None:
    """The container of the first of `pids` whose cgroup names one, else None."""
    for pid in pids:
        text = _read(f"{procfs}/{pid}/cgroup")
        if text is not None:
            found = container_in(text, procfs)
            if found is not None:
                return found
    return None


def container_in(cgroups: str, procfs: str = "/proc") -> Container | None:
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
        name = docker_name(groups[0], procfs) if runtime == "docker" else None
        return Container(runtime, id=groups[0], name=name)
    return None


def docker_name(container_id: str, procfs: str = "/proc") -> str | None:
    """A Docker container's name, from the data root of a running dockerd."""
    for root in _docker_data_roots(procfs):
        text = _read(os.path.join(root, "containers", container_id, "config.v2.json"))
        if text is None:
            continue
        try:
            name = json.loads(text).get("Name")
        except (ValueError, AttributeError):
            continue
        if isinstance(name, str) and name:
            return name.lstrip("/")
    return None


def _docker_data_roots(procfs: str) -> list[str]:
    roots = []
    for name in os.listdir(procfs):
        if name.isdigit() and _read(f"{procfs}/{name}/comm") == "dockerd\n":
            argv = (_read(f"{procfs}/{name}/cmdline") or "").split("\0")
            roots.append(_option(argv, "--data-root") or "/var/lib/docker")
    return roots or ["/var/lib/docker"]


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


def _read(path: str) -> str | None:
    """A small file's text, never through a final symlink; None if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, _READ_AT_MOST).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)
