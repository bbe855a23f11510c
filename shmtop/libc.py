"""The few libc calls sysv_ipc and posix_ipc do not offer, through ctypes.

- msgctl(IPC_STAT / MSG_STAT_ANY) by id: sysv_ipc opens queues by key only, and IPC_PRIVATE
  queues have no key to open them by.
- mq_getattr on a descriptor opened from /dev/mqueue: posix_ipc opens queues by name in the
  caller's IPC namespace, which need not be the queue whose file we just read.
- fstatfs for the filesystem type (os.fstatvfs has no f_type): removal unlinks only from a
  tmpfs or an mqueue filesystem.

Structure layouts are the 64-bit generic ones (x86_64, aarch64); elsewhere these return None.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from typing import Any, NamedTuple

from shmtop.errors import Vanished

IPC_STAT = 2
MSG_STAT_ANY = 13
_IDX_MASKS = (0x7FFF, 0xFFFFFF)  # default IPCMNI, and with the ipcmni_extend boot option

_SUPPORTED = os.uname().machine in {"x86_64", "aarch64"} and struct.calcsize("l") == 8
_libc = ctypes.CDLL(None, use_errno=True)


class _MsqidDs(ctypes.Structure):
    """struct msqid64_ds on 64-bit generic ABIs (include/uapi/asm-generic/msgbuf.h)."""

    _fields_ = (
        ("key", ctypes.c_int32),
        ("uid", ctypes.c_uint32),
        ("gid", ctypes.c_uint32),
        ("cuid", ctypes.c_uint32),
        ("cgid", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("seq", ctypes.c_uint16),
        ("pad2", ctypes.c_uint16),
        ("unused1", ctypes.c_ulong),
        ("unused2", ctypes.c_ulong),
        ("stime", ctypes.c_long),
        ("rtime", ctypes.c_long),
        ("ctime", ctypes.c_long),
        ("cbytes", ctypes.c_ulong),
        ("qnum", ctypes.c_ulong),
        ("qbytes", ctypes.c_ulong),
        ("lspid", ctypes.c_int32),
        ("lrpid", ctypes.c_int32),
        ("unused4", ctypes.c_ulong),
        ("unused5", ctypes.c_ulong),
    )


class _MqAttr(ctypes.Structure):
    _fields_ = (
        ("flags", ctypes.c_long),
        ("maxmsg", ctypes.c_long),
        ("msgsize", ctypes.c_long),
        ("curmsgs", ctypes.c_long),
        ("reserved", ctypes.c_long * 4),
    )


_msgctl = _libc.msgctl
_msgctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.POINTER(_MsqidDs))
_msgctl.restype = ctypes.c_int


def _load_mq_getattr() -> Any:
    if hasattr(_libc, "mq_getattr"):
        return _libc.mq_getattr
    return ctypes.CDLL("librt.so.1", use_errno=True).mq_getattr  # glibc before 2.34


_mq_getattr = _load_mq_getattr()
_mq_getattr.argtypes = (ctypes.c_int, ctypes.POINTER(_MqAttr))
_mq_getattr.restype = ctypes.c_int


def msg_qbytes(msqid: int, key: int) -> int | None:
    """The queue's qbytes by IPC_STAT, or MSG_STAT_ANY without read permission.

    None when neither is allowed or the id now holds a queue with another key. Raises
    Vanished when no queue has this id. Changes nothing on the queue.
    """
    if not _SUPPORTED or not 0 <= msqid <= 0x7FFFFFFF:
        return None
    buf = _MsqidDs()
    if _msgctl(msqid, IPC_STAT, ctypes.byref(buf)) != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.EIDRM):
            raise Vanished(f"sysv-msg:{msqid}")
        if err != errno.EACCES or not _msg_stat_any(msqid, buf):
            return None
    return int(buf.qbytes) if buf.key & 0xFFFFFFFF == key else None


def _msg_stat_any(msqid: int, buf: _MsqidDs) -> bool:
    """MSG_STAT_ANY takes an index, not an id: try each index width, accept a matching id."""
    return any(
        _msgctl(msqid & mask, MSG_STAT_ANY, ctypes.byref(buf)) == msqid for mask in _IDX_MASKS
    )


class MqAttr(NamedTuple):
    curmsgs: int
    maxmsg: int
    msgsize: int


def mq_getattr(fd: int) -> MqAttr | None:
    """mq_getattr on an open descriptor; None when it is not a message queue descriptor."""
    attr = _MqAttr()
    if _mq_getattr(fd, ctypes.byref(attr)) != 0:
        return None
    return MqAttr(attr.curmsgs, attr.maxmsg, attr.msgsize)


# System V semaphore sets ---------------------------------------------------------------------
# sysv_ipc handles only one-member sets and opens them by key; these take any set by id.

IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IPC_RMID = 0o1000, 0o2000, 0o4000, 0
SETVAL = 16


class _Sembuf(ctypes.Structure):
    _fields_ = (("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flags", ctypes.c_short))


_semget = _libc.semget
_semget.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
_semop = _libc.semop
_semop.argtypes = (ctypes.c_int, ctypes.POINTER(_Sembuf), ctypes.c_size_t)
_semctl = _libc.semctl  # variadic: the fourth argument is passed as a C int where needed


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def sem_create(nsems: int, mode: int = 0o600, key: int = 0) -> int:
    """A new set of nsems semaphores (key 0: IPC_PRIVATE); returns its id."""
    return _check(_semget(key, nsems, IPC_CREAT | IPC_EXCL | mode))


def sem_set_value(semid: int, num: int, value: int) -> None:
    _check(_semctl(semid, num, SETVAL, ctypes.c_int(value)))


def sem_op(semid: int, num: int, delta: int, *, wait: bool = True) -> bool:
    """semop on one member; False when it would block and wait is False."""
    buf = _Sembuf(num, delta, 0 if wait else IPC_NOWAIT)
    if _semop(semid, ctypes.byref(buf), 1) == 0:
        return True
    err = ctypes.get_errno()
    if err == errno.EAGAIN and not wait:
        return False
    raise OSError(err, os.strerror(err))


def sem_remove(semid: int) -> None:
    _check(_semctl(semid, 0, IPC_RMID))


# Reading a set's members, and copying a queue's messages without taking them ----------------

GETPID, GETALL, GETNCNT, GETZCNT = 11, 13, 14, 15
IPC_NOWAIT_FLAG, MSG_NOERROR, MSG_COPY = 0o4000, 0o10000, 0o40000

_msgrcv = _libc.msgrcv
_msgrcv.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long, ctypes.c_int)
_msgrcv.restype = ctypes.c_ssize_t


def _semctl_int(semid: int, num: int, command: int) -> int:
    result = _semctl(semid, num, command)
    return _check(result)


def sem_pids(semid: int, nsems: int) -> list[int]:
    """The pid of each member's last operation (GETPID: one call per member)."""
    return [_semctl_int(semid, num, GETPID) for num in range(nsems)]


def sem_waiting(semid: int, nsems: int) -> list[tuple[int, int]]:
    """(ncnt, zcnt) of each member: processes waiting for it to grow, or to reach zero."""
    return [
        (_semctl_int(semid, num, GETNCNT), _semctl_int(semid, num, GETZCNT)) for num in range(nsems)
    ]


def sem_members(semid: int, nsems: int, limit: int) -> list[tuple[int, int, int, int]]:
    """(value, ncnt, zcnt, pid) of the first `limit` members. Raises OSError (EACCES,
    EINVAL/EIDRM)."""
    values = (ctypes.c_ushort * max(nsems, 1))()
    _check(_semctl(semid, 0, GETALL, ctypes.byref(values)))
    return [
        (
            int(values[num]),
            _semctl_int(semid, num, GETNCNT),
            _semctl_int(semid, num, GETZCNT),
            _semctl_int(semid, num, GETPID),
        )
        for num in range(min(nsems, limit))
    ]


class MessageCopier:
    """Copies a queue's messages, each left on the queue, into one buffer reused for all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buffer = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + capacity)

    def copy(self, msqid: int, index: int) -> tuple[int, bytes] | None:
        """(mtype, bytes) of the index-th message; None past the end. The queue's qnum, lrpid
        and rtime do not change. Raises OSError (ENOSYS without CONFIG_CHECKPOINT_RESTORE,
        EACCES, EINVAL/EIDRM when gone)."""
        flags = MSG_COPY | IPC_NOWAIT_FLAG | MSG_NOERROR
        size = _msgrcv(msqid, self._buffer, self.capacity, index, flags)
        if size < 0:
            err = ctypes.get_errno()
            if err == errno.ENOMSG:
                return None
            raise OSError(err, os.strerror(err))
        mtype = ctypes.c_long.from_buffer(self._buffer).value
        start = ctypes.sizeof(ctypes.c_long)
        return mtype, self._buffer.raw[start : start + size]


# The filesystem a descriptor is on -----------------------------------------------------------

TMPFS_MAGIC = 0x01021994
MQUEUE_MAGIC = 0x19800202
FILESYSTEM_NAMES = {
    TMPFS_MAGIC: "tmpfs",
    MQUEUE_MAGIC: "mqueue",
    0xEF53: "ext4 (or ext2/ext3)",
    0x58465342: "xfs",
    0x9123683E: "btrfs",
    0x794C7630: "overlayfs",
    0x2FC12FC1: "zfs",
    0x6969: "nfs",
    0xFF534D42: "cifs",
    0x65735546: "fuse",
    0x858458F6: "ramfs",
    0x9FA0: "proc",
    0x62656572: "sysfs",
    0x1CD1: "devpts",
    0x4D44: "vfat",
    0x5346544E: "ntfs",
    0x9660: "iso9660",
    0x73717368: "squashfs",
}

_fstatfs = _libc.fstatfs
_fstatfs.argtypes = (ctypes.c_int, ctypes.c_void_p)
_fstatfs.restype = ctypes.c_int
# struct statfs begins with f_type, a long (__fsword_t) on every Linux ABI but s390x's (an
# unsigned int there); the buffer is larger than the whole structure on all of them.
_F_TYPE = ctypes.c_uint if os.uname().machine == "s390x" else ctypes.c_long
_STATFS_BUFFER = 256


def filesystem_type(fd: int) -> int:
    """The magic number of the filesystem the descriptor is on (TMPFS_MAGIC...)."""
    buffer = ctypes.create_string_buffer(_STATFS_BUFFER)
    _check(_fstatfs(fd, buffer))
    return int(_F_TYPE.from_buffer(buffer).value) & 0xFFFFFFFF


def filesystem_name(magic: int) -> str:
    """'tmpfs', 'ext4 (or ext2/ext3)'..., or the number for a type not known here."""
    return FILESYSTEM_NAMES.get(magic, f"a filesystem of type {magic:#x}")
