"""What the demo's processes do: small, steady, recognisable traffic on each object."""

from __future__ import annotations

import contextlib
import mmap
import os
import random
import struct
import time

import posix_ipc
import sysv_ipc

from shmtop.libc import sem_op

RING_SLOTS = 64
RECORD = struct.Struct("<Qd48s")  # sequence, timestamp, payload: 64 bytes a slot


def queue_producer(queue: sysv_ipc.MessageQueue) -> None:
    sequence = 0
    while True:
        sequence += 1
        body = f"order {sequence} at {time.time():.3f}".encode()
        queue.send(body, block=False, type=1 + sequence % 3)
        time.sleep(random.uniform(0.1, 0.5))


def queue_consumer(queue: sysv_ipc.MessageQueue) -> None:
    while True:
        time.sleep(random.uniform(0.2, 0.8))  # slower than the producer: messages queue up
        for _ in range(random.randint(1, 4)):
            try:
                queue.receive(block=False)
            except sysv_ipc.BusyError:
                break


def ring_producer(memory: posix_ipc.SharedMemory, slots: posix_ipc.Semaphore,
                  items: posix_ipc.Semaphore) -> None:  # fmt: skip
    ring = mmap.mmap(memory.fd, RING_SLOTS * RECORD.size)
    sequence = 0
    while True:
        slots.acquire()
        slot = sequence % RING_SLOTS
        payload = f"sample {sequence}".encode()
        RECORD.pack_into(ring, slot * RECORD.size, sequence, time.time(), payload)
        items.release()
        sequence += 1
        time.sleep(random.uniform(0.02, 0.2))


def ring_consumer(memory: posix_ipc.SharedMemory, slots: posix_ipc.Semaphore,
                  items: posix_ipc.Semaphore) -> None:  # fmt: skip
    ring = mmap.mmap(memory.fd, RING_SLOTS * RECORD.size)
    sequence = 0
    while True:
        items.acquire()
        RECORD.unpack_from(ring, (sequence % RING_SLOTS) * RECORD.size)
        slots.release()
        sequence += 1
        time.sleep(random.uniform(0.05, 0.4))


def semaphore_set_worker(semid: int, members: int) -> None:
    """Takes and gives back members of the set, like a pool of resources."""
    while True:
        member = random.randrange(members)
        if sem_op(semid, member, -1, wait=False):
            time.sleep(random.uniform(0.1, 0.6))
            sem_op(semid, member, 1)
        time.sleep(random.uniform(0.1, 0.3))


def segment_writer(segment_id: int) -> None:
    """Keeps a segment attached and writes a heartbeat into it."""
    segment = sysv_ipc.attach(segment_id)
    beat = 0
    while True:
        beat += 1
        segment.write(f"heartbeat {beat} pid {os.getpid()} {time.time():.3f}\n".encode(), 0)
        time.sleep(0.5)


def mq_producer(queue: posix_ipc.MessageQueue) -> None:
    sequence = 0
    while True:
        sequence += 1
        with contextlib.suppress(posix_ipc.BusyError):  # full: the consumer is behind
            queue.send(f"job {sequence}".encode(), timeout=0)
        time.sleep(random.uniform(0.2, 0.7))


def mq_consumer(queue: posix_ipc.MessageQueue) -> None:
    while True:
        time.sleep(random.uniform(0.5, 1.5))
        with contextlib.suppress(posix_ipc.BusyError):  # empty for now
            queue.receive(timeout=0)


def backlog_producer(queue: sysv_ipc.MessageQueue) -> None:
    """Sends to a queue nobody receives from; once it is full, keeps trying."""
    sequence = 0
    while True:
        sequence += 1
        with contextlib.suppress(sysv_ipc.BusyError):  # full: nobody consumes
            queue.send(f"event {sequence} at {time.time():.3f}".ljust(60).encode(), block=False)
        time.sleep(random.uniform(0.1, 0.3))


def gate_waiter(semid: int) -> None:
    """Waits in semop for a member that nobody raises: a process blocked on a set."""
    sem_op(semid, 0, -1)
