"""A registration's self-assessment, one indicator's answer at a time."""

from storage import Storage
from storage.models import Person
from storage.registrations import Registration
from storage.usecases import record


async def assess(
    storage: Storage, actor: Person, registration: Registration, code: str, value: int
) -> bool:
    """Record one answer and its audit entry, in one transaction; False when the registration
    is no longer registered (checked by the write). The caller checks the code, the value and
    the evaluation lock."""
    async with storage.db.transaction():
        before = await storage.registrations.answer(registration.id, code)
        if not await storage.registrations.set_answer(registration.id, code, value):
            return False
        await record(
            storage,
            actor,
            "registration.assessed",
            "registration",
            registration.id,
            area_id=registration.hamlet_id,
            before={"number": registration.number, code: before},
            after={"number": registration.number, code: value},
        )
    return True
