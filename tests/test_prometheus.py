"""A real Prometheus (Debian's) on loopback scrapes a real exporter, loads shmtop's alert
rules, and its HTTP API returns the leak the test made. All of it in the sandbox, so the leak
is the only one there and no other suite's objects are seen."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.exporters import running_exporter
from tests.promtools import binary
from tests.test_deploy import RULES
from tests.test_metrics_command import leaked_segment

SAMPLE_SECONDS = 60.0  # the first sample comes after ~5 s, even scraping every second
CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: shmtop
    static_configs:
      - targets: ["{target}"]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_prometheus(prometheus: str, target: str) -> Iterator[str]:
    """Prometheus scraping target every second; yields its base URL; stopped and its data
    removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="shmtop-test-prometheus-"))
    (home / "prometheus.yml").write_text(CONFIG.format(rules=RULES, target=target))
    port = free_port()
    process = subprocess.Popen(
        [prometheus, f"--config.file={home / 'prometheus.yml'}",
         f"--storage.tsdb.path={home / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        cwd=home, stdout=subprocess.DEVNULL, stderr=(home / "log").open("wb"),
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)


def query(base: str, promql: str) -> list[dict[str, Any]]:
    """The result vector of an instant query; [] while Prometheus is not answering yet."""
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            document = json.load(answer)
    except OSError:
        return []
    assert document["status"] == "success", document
    return list(document["data"]["result"])


def first_result(base: str, promql: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + SAMPLE_SECONDS
    while time.monotonic() < deadline:
        found = query(base, promql)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no sample of {promql} within {SAMPLE_SECONDS}s")


def scraped_leak(prometheus: str) -> dict[str, Any]:
    shmid = leaked_segment()
    options = ("--interval", "1", "--leak-series", "10", "--ignore-unreadable", "1")
    with (
        running_exporter(*options) as exporter,
        running_prometheus(prometheus, exporter.address) as base,
    ):
        the_leak = f'shmtop_leaked_object_age_seconds{{ref="sysv-shm:{shmid}"}}'
        found = {
            "shmid": shmid,
            "leak": first_result(base, the_leak),
            "leaked": first_result(base, 'shmtop_leaked_objects{kind="sysv-shm"}'),
            "up": first_result(base, 'up{job="shmtop"}'),
        }
        with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=5) as rules:
            found["rules"] = json.load(rules)
        return found


def test_prometheus_scrapes_the_exporter_and_returns_the_leak_made(
    sandbox: Callable[..., Any],
) -> None:
    found = sandbox(scraped_leak, binary("prometheus"))
    [leak] = found["leak"]
    assert leak["metric"]["ref"] == f"sysv-shm:{found['shmid']}"
    assert leak["metric"]["kind"] == "sysv-shm" and leak["metric"]["namespace"] == "host"
    assert float(leak["value"][1]) >= 0
    [leaked] = found["leaked"]
    assert leaked["value"][1] == "1"  # the sandbox holds this one leak and no other
    assert [up["value"][1] for up in found["up"]] == ["1"]
    [group] = found["rules"]["data"]["groups"]
    assert {rule["name"] for rule in group["rules"]} == {
        "ShmtopDevShmAlmostFull", "ShmtopLeakOlderThanAnHour", "ShmtopKernelLimitAlmostReached",
    }  # fmt: skip
    assert all(rule["health"] == "ok" for rule in group["rules"])
