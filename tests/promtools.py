"""Debian's prometheus and promtool for tests: found on PATH, or the test fails in CI (which
must run it: .ci/run installs them) and is skipped elsewhere with how to install them."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

INSTALL = "apt-get install --no-install-recommends prometheus"


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is not None:
        return found
    message = f"{name} is not installed: `{INSTALL}` (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def check_metrics(text: bytes) -> subprocess.CompletedProcess[str]:
    """`promtool check metrics` on text: its lint findings are in stdout or stderr."""
    return subprocess.run(
        [binary("promtool"), "check", "metrics"],
        check=False,
        input=text.decode(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_valid(text: bytes) -> None:
    checked = check_metrics(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == "", checked
