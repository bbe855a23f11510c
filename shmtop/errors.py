"""Exceptions shared by the layers that touch the kernel."""

from __future__ import annotations


class Vanished(Exception):
    """The object was removed, or its name now means something else, since it was listed."""
