"""Expected faults are one line on stderr with exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ipcfactory import IpcFactory


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def one_line(result: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize("age", ["inf", "1e400s", "nan", "-inf", "-1", "1e300d", "10x"])
def test_an_impossible_min_age_is_a_usage_error(
    ipc: IpcFactory, shmtop_cmd: list[str], age: str
) -> None:
    ipc.posix_shm()  # with objects to judge, an infinite age once overflowed
    line = one_line(run([*shmtop_cmd, "clean", "--min-age", age]))
    assert line.startswith("shmtop clean: error: argument --min-age: ")


@pytest.mark.parametrize("option", ["--procfs", "--dev-shm", "--dev-mqueue"])
@pytest.mark.parametrize("command", ["list", "clean", "limits"])
def test_a_missing_source_directory_is_a_usage_error(
    ipc: IpcFactory, shmtop_cmd: list[str], command: str, option: str
) -> None:
    ipc.sysv_shm(attach=True)
    ipc.posix_shm()
    line = one_line(run([*shmtop_cmd, command, option, "/nonexistent"]))
    assert line == f"shmtop: {option} /nonexistent: no such directory\n"


def test_show_with_a_missing_procfs_is_a_usage_error(
    ipc: IpcFactory, shmtop_cmd: list[str]
) -> None:
    segment = ipc.sysv_shm(attach=True)
    line = one_line(
        run([*shmtop_cmd, "show", f"sysv-shm:{segment.id}", "--procfs", "/nonexistent"])
    )
    assert line == "shmtop: --procfs /nonexistent: no such directory\n"


def test_a_copied_proc_without_maps_lists_its_segments(
    ipc: IpcFactory, shmtop_cmd: list[str], tmp_path: Path
) -> None:
    """A /proc copied for a look elsewhere: its attached segment cannot be matched to maps."""
    segment = ipc.sysv_shm(attach=True)
    (tmp_path / "sysvipc").mkdir()
    with open("/proc/sysvipc/shm") as real:
        (tmp_path / "sysvipc" / "shm").write_text(real.read())
    result = run([*shmtop_cmd, "list", "--kind", "sysv-shm", "--procfs", str(tmp_path)])
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"sysv-shm:{segment.id} " in result.stdout
