"""Storage behind repository interfaces: aiosqlite today, portable SQL for a later backend."""

from pathlib import Path

from storage.areas import AreaRepository
from storage.audit import AuditLog
from storage.criteria_repo import CriteriaRepository
from storage.db import Database
from storage.evidence import EvidenceRepository
from storage.evidence_state import EvidenceStates
from storage.households import HouseholdRepository
from storage.invites import EnrolmentFailures, InviteRepository
from storage.people import PeopleRepository
from storage.registrations import RegistrationRepository
from storage.reminders import ReminderRepository
from storage.reviews import ReviewRepository
from storage.summary import RegistrationFacts, SummaryRepository
from storage.updates import ProcessedUpdates


class Storage:
    """The repositories over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.areas = AreaRepository(db)
        self.people = PeopleRepository(db)
        self.invites = InviteRepository(db)
        self.audit = AuditLog(db)
        self.enrolment_failures = EnrolmentFailures(db)
        self.criteria = CriteriaRepository(db)
        self.registrations = RegistrationRepository(db)
        self.evidence = EvidenceRepository(db)
        self.reviews = ReviewRepository(db)
        self.reminders = ReminderRepository(db)
        self.updates = ProcessedUpdates(db)
        self.summary = SummaryRepository(db, self.criteria)
        self.facts = RegistrationFacts(db)
        self.households = HouseholdRepository(db, self.audit)
        self.evidence_states = EvidenceStates(db)
        self.tallies = self.summary.tallies

    @classmethod
    async def open(cls, path: str | Path) -> "Storage":
        """Open the database and bring its schema up to date."""
        db = await Database.open(path)
        await db.migrate()
        return cls(db)

    def update_writes(self):
        """While one update is processed, the writes it may hold back (`Database.write_at_end`)
        to commit them with its dialog state and processed mark: the unit of work of an update."""
        return self.db.update_writes()

    def take_update_writes(self) -> list:
        """The writes held back for the current update (see `update_writes`)."""
        return self.db.take_update_writes()

    async def close(self) -> None:
        await self.db.close()
