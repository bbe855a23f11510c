"""Exceptions shared by the layers that touch the kernel."""

from __future__ import annotations


class Vanished(Exception):
    """The object was removed, or its name now means something else, since it was listed."""


class NotPermitted(Exception):
    """The caller may not read or change this object; the message says whose it is."""


class Unsupported(Exception):
    """What was asked cannot be done for this object, or on this kernel; the message says why."""
