"""The few libc calls sysv_ipc and posix_ipc do not offer, through ctypes.

- msgctl(IPC_STAT / MSG_STAT_ANY) by id: sysv_ipc opens queues by key only, and IPC_PRIVATE
  queues have no key to open them by.
- mq_getattr on a descriptor opened from /dev/mqueue: posix_ipc opens queues by name in the
  caller's IPC namespace, which need not be the queue whose file we just read.

Structure layouts are the 64-bit generic ones (x86_64, aarch64); elsewhere these return None.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass
from typing import Any

IPC_STAT = 2
MSG_STAT_ANY = 13
_IDX_MASKS = (0x7FFF, 0xFFFFFF)  # default IPCMNI, and with the ipcmni_extend boot option

_SUPPORTED = platform.machine() in {"x86_64", "aarch64"} and struct.calcsize("l") == 8
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


@dataclass(frozen=True, slots=True)
class MsgStat:
    """What msgctl says of a queue that the caller needs to confirm and complete a row."""

    key: int
    ctime: int
    qbytes: int


class Vanished(Exception):
    """The object named by the id no longer exists."""


def msg_stat(msqid: int) -> MsgStat | None:
    """IPC_STAT, or MSG_STAT_ANY when permission is lacking; None when neither is allowed.

    Raises Vanished when the queue is gone. Changes nothing on the queue.
    """
    if not _SUPPORTED or not 0 <= msqid <= 0x7FFFFFFF:
        return None
    buf = _MsqidDs()
    if _msgctl(msqid, IPC_STAT, ctypes.byref(buf)) == 0:
        return _msg_stat_of(buf)
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.EIDRM):
        raise Vanished(msqid)
    if err != errno.EACCES:
        return None
    return _msg_stat_any(msqid, buf)


def _msg_stat_any(msqid: int, buf: _MsqidDs) -> MsgStat | None:
    """MSG_STAT_ANY takes an index, not an id: try each index width, accept a matching id."""
    for mask in _IDX_MASKS:
        if _msgctl(msqid & mask, MSG_STAT_ANY, ctypes.byref(buf)) == msqid:
            return _msg_stat_of(buf)
    return None


def _msg_stat_of(buf: _MsqidDs) -> MsgStat:
    return MsgStat(key=buf.key & 0xFFFFFFFF, ctime=buf.ctime, qbytes=buf.qbytes)


@dataclass(frozen=True, slots=True)
class MqAttr:
    flags: int
    maxmsg: int
    msgsize: int
    curmsgs: int


def mq_getattr(fd: int) -> MqAttr | None:
    """mq_getattr on an open descriptor; None when it is not a message queue descriptor."""
    attr = _MqAttr()
    if _mq_getattr(fd, ctypes.byref(attr)) != 0:
        return None
    return MqAttr(attr.flags, attr.maxmsg, attr.msgsize, attr.curmsgs)
