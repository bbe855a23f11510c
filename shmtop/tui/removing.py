"""The dashboard's Remove (Delete, F9) and Clean (C) actions, mixed into the app.

Remove asks about the marked rows (Insert or m marks them), else the object under the
cursor, with what the person should know first; Clean takes a fresh snapshot with a /proc
scan, judges every object, and asks about those that look leaked, with the reasons.
Judging, removing and the backup run in a thread; every removal is identity-checked against
the object as it was shown in the question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual import work
from textual.app import App

from shmtop.clean.audit import AuditLog
from shmtop.clean.lifetime import refusals
from shmtop.clean.remove import Outcome, Remover, can_be_removed
from shmtop.clean.stale import verdicts
from shmtop.clean.warnings import warnings
from shmtop.collect import Roots
from shmtop.collect.everywhere import places_of
from shmtop.model import IpcObject, Snapshot
from shmtop.tui.poller import Poller
from shmtop.tui.removal import (
    CleanChoice,
    ConfirmRemoval,
    RemovalResults,
    not_removable,
    planned,
)
from shmtop.tui.safe import tell
from shmtop.tui.tablemodel import TableModel


class RemovalActions(App[None]):
    """Mixed into ShmtopApp, which provides these."""

    model: TableModel
    snapshot: Snapshot | None
    poller: Poller
    roots: Roots
    backup_dir: str | None
    fresh: Callable[[], Snapshot]

    def action_remove(self) -> None:
        chosen = sorted(self.model.selected) or ([self.model.cursor] if self.model.cursor else [])
        objects = [self.model.objects[ref] for ref in chosen if ref in self.model.objects]
        if not objects or self.snapshot is None:
            tell(self, "no object under the cursor")
            return
        kept = [o for o in objects if not can_be_removed(o)]
        if kept:
            tell(self, not_removable(kept), "warning")
        objects = [o for o in objects if can_be_removed(o)]
        if not objects:
            return
        shown = replace(self.snapshot, attach=self.model.context.attach)
        self._ask_removal(shown, objects)

    def action_clean(self) -> None:
        tell(self, "looking for leaked objects…")
        self._find_leaks()

    @work(thread=True, exclusive=True, group="removal")
    def _ask_removal(self, snapshot: Snapshot, objects: list[IpcObject]) -> None:
        judged = verdicts(snapshot, objects=objects)
        users = snapshot.users
        plan = [planned(o, users, warnings(o, snapshot, judged[o.ref])) for o in objects]
        title = (
            f"Remove {objects[0].ref}?" if len(objects) == 1 else f"Remove {len(objects)} objects?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(objects, False)

        self.call_from_thread(self.push_screen, ConfirmRemoval(title, plan), answered)

    @work(thread=True, exclusive=True, group="removal")
    def _find_leaks(self) -> None:
        snapshot = self.fresh()
        judged = verdicts(snapshot)
        leaked = [o for o in snapshot.objects if judged[o.ref].stale]
        doubtful = sum(1 for verdict in judged.values() if verdict.unknown)
        if not leaked:
            self.call_from_thread(tell, self, _nothing_leaked(doubtful))
            return
        plan = [planned(o, snapshot.users, judged[o.ref].reasons) for o in leaked]
        title = (
            "1 object looks leaked. Remove it?"
            if len(leaked) == 1
            else f"{len(leaked)} objects look leaked. Pick what to remove:"
        )

        def answered(refs: list[str] | None) -> None:
            chosen = [o for o in leaked if o.ref in (refs or ())]
            if chosen:
                self._remove(chosen, True)  # chosen as leaked: any use since refuses one

        self.call_from_thread(self.push_screen, CleanChoice(title, plan), answered)

    @work(thread=True, group="removal")
    def _remove(self, objects: list[IpcObject], by_policy: bool) -> None:
        users = self.snapshot.users if self.snapshot else {}
        namespaces = self.snapshot.namespaces if self.snapshot else ()
        remover = Remover(self.roots, users, self.backup_dir, AuditLog(), by_policy=by_policy,
                          places=places_of(self.roots, namespaces),
                          refused=refusals(namespaces))  # fmt: skip
        outcomes = [remover.remove(obj) for obj in objects]
        self.call_from_thread(self._removed, outcomes)

    def _removed(self, outcomes: list[Outcome]) -> None:
        self.model.selected.difference_update(o.ref for o in outcomes if o.result == "removed")
        self.push_screen(RemovalResults(outcomes))
        self.poller.wake()


def _nothing_leaked(doubtful: int) -> str:
    if not doubtful:
        return "nothing looks leaked"
    return (
        f"nothing was found leaked; {doubtful} objects could not be judged (their detail "
        "says why; `shmtop clean` lists them and how to vouch)"
    )
