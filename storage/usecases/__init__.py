"""Use cases: one async function per domain change, the only way dialogs change the domain.

Each takes the storage, the acting Person (None: the command line or a background job, which
act for the machine's operator) and plain arguments; it checks the domain rule,
writes the rows and their audit entry in one transaction (repository functions that open
their own transaction nest in it as savepoints, see `Database.transaction`), and returns what
the dialog shows. The tallies follow by SQLite triggers, in the same statements. Dialogs render
the result; they never write an audit entry, open a transaction or touch `storage.db`
(tests/test_usecases.py checks this).
"""

from storage import Storage
from storage.models import Person


class NotAllowed(Exception):
    """The actor may not make this change (the dialog checked and refused before; a use case
    called without that check raises this instead of writing)."""


COMMAND_LINE = {"by": "command line"}  # added to what a change made without an actor audits


async def record(
    storage: Storage,
    actor: Person | None,
    action: str,
    subject_type: str,
    subject_id: object,
    *,
    area_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """The audit entry of a change `actor` made, in the caller's transaction; `actor` None:
    the command line or a background job (`after` says which)."""
    await storage.audit.record(
        action,
        subject_type,
        subject_id,
        actor_id=actor.id if actor else None,
        actor_telegram_id=actor.telegram_id if actor else None,
        area_id=area_id,
        before=before,
        after=after,
    )
