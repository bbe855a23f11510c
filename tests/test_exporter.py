"""`shmtop exporter` as a real process on a loopback port: valid text, read-only, one
collection per interval however it is scraped, standing up to slow and broken clients,
stopping cleanly, and, as an ordinary user, reporting what it cannot see as unknown."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import posix_ipc
import sysv_ipc

from shmtop.metrics.server import CONNECTION_SECONDS, MAX_CONNECTIONS
from tests.exporters import get, running_exporter
from tests.exposition import having, samples, value
from tests.ipcfactory import IpcFactory
from tests.promtools import assert_valid

HOST = {"namespace": "host"}


def test_serves_valid_metrics_and_refuses_anything_that_would_change_something(
    ipc: IpcFactory,
) -> None:
    segment = ipc.sysv_shm()
    with running_exporter("--interval", "60") as exporter:
        text = exporter.scrape()
        assert_valid(text)
        assert value(samples(text), "shmtop_build_info", version="0.2.0") == 1
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert get(exporter.url, method)[0] == 405, method
            assert get(exporter.url + "?remove=sysv-shm:1", method)[0] == 405, method
        assert get(exporter.url.replace("/metrics", "/"), "GET")[0] == 200
        assert get(exporter.url.replace("/metrics", "/clean"), "GET")[0] == 404
        assert get(exporter.url, "HEAD") == (200, b"")
        status, same = get(exporter.url + "?kind=sysv-shm&clean=yes")  # a query changes nothing
        assert status == 200 and same == text  # and it is the same collection
    assert sysv_ipc.SharedMemory(segment.key).id == segment.id  # still there


def test_concurrent_scrapes_share_one_collection_per_interval() -> None:
    with running_exporter("--interval", "60") as exporter:
        bodies: list[bytes] = []
        scrapers = [threading.Thread(target=lambda: bodies.append(exporter.scrape()))
                    for _ in range(12)]  # fmt: skip
        for scraper in scrapers:
            scraper.start()
        for scraper in scrapers:
            scraper.join()
        bodies.extend(exporter.scrape() for _ in range(20))
        assert len(bodies) == 32 and len(set(bodies)) == 1
        assert value(samples(bodies[0]), "shmtop_collections_total") == 1
    with running_exporter("--interval", "0.5") as exporter:
        first = samples(exporter.scrape())
        time.sleep(0.6)
        later = samples(exporter.scrape())
        assert value(first, "shmtop_collections_total") == 1
        assert value(later, "shmtop_collections_total") == 2


def slow_client(port: int, sent: bytes = b"") -> socket.socket:
    """A connection that sends `sent` (a partial request, or nothing) and then waits."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    with contextlib.suppress(OSError):  # refused at once: every slot was taken
        sock.sendall(sent, socket.MSG_NOSIGNAL)
    return sock


def broken_client(port: int) -> None:
    """A scrape abandoned the moment it is sent: the answer meets a reset connection."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    with contextlib.suppress(OSError):
        sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n", socket.MSG_NOSIGNAL)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # linger 0: RST


def trickling_client(port: int, closed_after: list[float]) -> None:
    """Sends a byte a second, never finishing: the server must cut it off by its deadline."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.monotonic()
    try:
        for byte in b"GET /metrics HTTP/1.0\r\nX-Slow: " + b"a" * 100:
            sock.sendall(bytes([byte]), socket.MSG_NOSIGNAL)
            time.sleep(1)
    except OSError:
        pass
    finally:
        closed_after.append(time.monotonic() - started)
        sock.close()


def test_many_slow_and_broken_clients_cost_bounded_threads_and_then_nothing() -> None:
    with running_exporter("--interval", "60") as exporter:
        exporter.scrape()  # collected once: what follows only answers
        idle_threads = exporter.threads()
        closed_after: list[float] = []
        trickler = threading.Thread(target=trickling_client, args=(exporter.port, closed_after))
        trickler.start()
        time.sleep(0.5)  # its connection holds a slot before the flood takes the others
        slow = [slow_client(exporter.port, b"GET /met" if i % 2 else b"") for i in range(60)]
        for _ in range(30):
            broken_client(exporter.port)
        time.sleep(1)
        assert exporter.alive()
        assert exporter.threads() <= idle_threads + MAX_CONNECTIONS
        trickler.join(timeout=CONNECTION_SECONDS + 15)
        assert closed_after and CONNECTION_SECONDS - 1 < closed_after[0] < CONNECTION_SECONDS + 4
        for sock in slow:
            sock.close()
        time.sleep(0.5)
        assert exporter.alive()
        assert_valid(exporter.scrape(timeout=10))  # every slot free again
        assert exporter.threads() <= idle_threads + 1


def test_sigterm_stops_it_with_status_0_and_nothing_but_its_start_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shmtop", "exporter", "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        started = process.stderr.readline()
        assert b"serving http://127.0.0.1:" in started
        port = int(started.split(b"127.0.0.1:")[1].split(b"/")[0])
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def roots_and_nobodys_view() -> tuple[bytes, bytes]:
    """In a sandbox: root's 0600 queue with two messages and root's POSIX object nobody maps,
    seen by an exporter running as root and by one running as nobody."""
    queue = posix_ipc.MessageQueue("/roots", posix_ipc.O_CREX, mode=0o600, max_messages=4,
                                   max_message_size=16)  # fmt: skip
    queue.send(b"one")
    queue.send(b"two")
    queue.close()
    posix_ipc.SharedMemory("/idle", posix_ipc.O_CREX, mode=0o600, size=4096).close_fd()
    options = ("--min-age", "0", "--ignore-unreadable", "1")
    with running_exporter(*options) as as_root:
        seen_by_root = as_root.scrape()
    with running_exporter(*options, as_nobody=True) as as_nobody:
        seen_by_nobody = as_nobody.scrape()
    return seen_by_root, seen_by_nobody


def test_as_nobody_what_it_cannot_see_is_unknown_never_zero(sandbox: Callable[..., Any]) -> None:
    by_root, by_nobody = (samples(text) for text in sandbox(roots_and_nobodys_view))
    mq, shm = {"kind": "posix-mq", **HOST}, {"kind": "posix-shm", **HOST}
    messages = {"resource": "posix-mq.messages", **HOST}
    assert value(by_root, "shmtop_resource_used", **messages) == 2
    assert value(by_root, "shmtop_object_bytes", **mq) == 6
    assert value(by_root, "shmtop_leaked_objects", **shm) == 1
    # nobody lists them all, but may not read root's queue nor root's processes
    assert value(by_nobody, "shmtop_objects", **mq) == 1
    assert value(by_nobody, "shmtop_objects", **shm) == 1
    assert value(by_nobody, "shmtop_resource_used", resource="posix-mq.queues", **HOST) == 1
    assert value(by_nobody, "shmtop_resource_used", **messages) is None
    assert value(by_nobody, "shmtop_resource_used", resource="posix-mq.bytes", **HOST) is None
    assert value(by_nobody, "shmtop_object_bytes", **mq) is None
    assert value(by_nobody, "shmtop_leaked_objects", **shm) is None
    assert value(by_nobody, "shmtop_leaked_bytes", **shm) is None
    unjudged = having(by_nobody, "shmtop_unjudged_objects", kind="posix-shm")
    assert sum(unjudged.values()) == 1
    assert dict(next(iter(unjudged))[1])["reason"] == "uninspected-processes"
