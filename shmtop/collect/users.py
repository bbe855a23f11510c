"""uid -> user name, looked up once per distinct uid (ipcs reads the user database per row)."""

from __future__ import annotations

import pwd
from collections.abc import Iterable


def resolve_users(uids: Iterable[int]) -> dict[int, str | None]:
    """Each distinct uid's name, or None when the user database has no entry for it."""
    return {uid: _name(uid) for uid in set(uids)}


def _name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError, ValueError):
        return None
