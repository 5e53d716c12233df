"""Every surface agrees with a plain model of the evidence rule (issue 12, point 2).

Hypothesis generates sequences of operations (register, photo, accept, needs more, delete a
photo, withdraw, recognise, not recognise, reopen, move to another hamlet) over three hamlets in
two communes, applies them through the storage functions the dialogs call, and then checks that
/tongket's figures, /thieu's list, /congnhan's ready list, the export's rows and /tinhtrang's
per-indicator lines equal what the model below says, and that the tallies equal the recount.

The model is written here, separately from `storage.evidence_state`: plain Python over plain
dicts. Each example works on a copy of one migrated template database.
"""

import asyncio
import shutil
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.export import registrations_sheet, summary_sheet
from bot.i18n import use_locale
from conversations.status import render_evidence
from storage import Storage
from storage.areas import OfficialUnit
from storage.criteria import ModelKind, shipped_default
from storage.evidence import MediaKind, Received
from storage.models import Role
from storage.registrations import Status
from storage.reviews import Decision, Result

YEAR = 2026
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
HAMLETS = [("00001", "Thôn Một"), ("00001", "Thôn Hai"), ("00002", "Thôn Ba")]
INDICATORS = {
    kind: [
        (i.code, i.evidence_required)
        for i in shipped_default(kind, YEAR).criteria_set.all_indicators()
    ]
    for kind in (ModelKind.FAMILY, ModelKind.CLAN)
}

# --- the plain model ---------------------------------------------------------------------------


def model_indicator(decisions: list[str | None]) -> str:
    if "accepted" in decisions:
        return "accepted"
    if "needs_more" in decisions:
        return "needs_more"
    return "waiting" if decisions else "missing"


class Model:
    def __init__(self) -> None:
        self.registrations: dict[int, dict] = {}  # id -> kind, hamlet, status
        self.photos: dict[int, dict] = {}  # id -> registration, code, decision

    def indicators(self, rid: int) -> dict[str, str]:
        r = self.registrations[rid]
        return {
            code: model_indicator(
                [
                    p["decision"]
                    for p in self.photos.values()
                    if p["reg"] == rid and p["code"] == code
                ]
            )
            for code, _required in INDICATORS[r["kind"]]
        }

    def required_states(self, rid: int) -> list[str]:
        states = self.indicators(rid)
        kind = self.registrations[rid]["kind"]
        return [states[code] for code, required in INDICATORS[kind] if required]

    def complete(self, rid: int) -> bool:
        return "missing" not in self.required_states(rid)

    def assessed(self, rid: int) -> bool:
        return all(s == "accepted" for s in self.required_states(rid))

    def counted(self) -> list[int]:
        return [rid for rid, r in self.registrations.items() if r["status"] != "withdrawn"]

    def figures(self, hamlet: int, kind: ModelKind) -> tuple[int, ...]:
        rids = [
            rid
            for rid in self.counted()
            if self.registrations[rid]["hamlet"] == hamlet
            and self.registrations[rid]["kind"] == kind
        ]
        status = [self.registrations[rid]["status"] for rid in rids]
        return (
            len(rids),
            sum(self.complete(rid) for rid in rids),
            sum(self.assessed(rid) for rid in rids),
            status.count("recognised"),
            status.count("not_recognised"),
        )


# --- operations --------------------------------------------------------------------------------

operation = st.one_of(
    st.tuples(st.just("register"), st.integers(0, 2), st.sampled_from(list(INDICATORS))),
    st.tuples(st.just("photo"), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(st.sampled_from(["accept", "needs_more", "delete"]), st.integers(0, 60)),
    st.tuples(
        st.sampled_from(["withdraw", "recognise", "not_recognise", "reopen"]), st.integers(0, 20)
    ),
    st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 2)),
    # A photo for every required indicator; a decision on every undecided photo: so that the
    # complete and assessed states are reached often.
    st.tuples(st.just("fill"), st.integers(0, 20)),
    st.tuples(st.sampled_from(["accept_all", "needs_more_one"]), st.integers(0, 20)),
)


async def apply(storage: Storage, model: Model, hamlets, person_id: int, op: tuple) -> None:
    regs, photos = sorted(model.registrations), sorted(model.photos)
    name = op[0]
    if name == "register":
        hamlet = hamlets[op[1]]
        draft = await storage.registrations.start_draft(person_id, hamlet.id, YEAR)
        criteria = await storage.criteria.in_force(hamlet.province_code, YEAR, op[2])
        answers = {"kind": op[2].value, "criteria_set_id": criteria.set_id, "head_name": "A"}
        answers |= {"clan_name": "Họ A"} if op[2] is ModelKind.CLAN else {}
        await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
        draft = await storage.registrations.draft_of(person_id)
        made = await storage.registrations.register(draft, hamlet, person_id)
        model.registrations[made.id] = {"kind": op[2], "hamlet": hamlet.id, "status": "registered"}
        return
    if name not in ("accept", "needs_more", "delete"):
        if not regs:
            return
        rid = regs[op[1] % len(regs)]
        r = model.registrations[rid]
        mine = [pid for pid in photos if model.photos[pid]["reg"] == rid]
    if name == "photo":
        code = INDICATORS[r["kind"]][op[2] % len(INDICATORS[r["kind"]])][0]
        await add_photo(storage, model, rid, code, person_id)
    elif name == "fill":
        for code, required in INDICATORS[r["kind"]]:
            if required and model.indicators(rid)[code] == "missing":
                await add_photo(storage, model, rid, code, person_id)
    elif name in ("accept_all", "needs_more_one"):
        undecided = [pid for pid in mine if model.photos[pid]["decision"] is None]
        if name == "needs_more_one":
            undecided = undecided[:1]
        decision = Decision.ACCEPTED if name == "accept_all" else Decision.NEEDS_MORE
        for pid in undecided:
            await storage.reviews.decide(pid, decision, None, person_id)
            model.photos[pid]["decision"] = decision.value
    elif name in ("accept", "needs_more", "delete"):
        if not photos:
            return
        pid = photos[op[1] % len(photos)]
        if name == "delete":
            await storage.evidence.delete(pid)
            del model.photos[pid]
        else:
            decision = Decision.ACCEPTED if name == "accept" else Decision.NEEDS_MORE
            await storage.reviews.decide(pid, decision, None, person_id)
            model.photos[pid]["decision"] = decision.value
    elif name == "withdraw" and r["status"] == "registered":
        await storage.registrations.update(rid, {"status": Status.WITHDRAWN})
        r["status"] = "withdrawn"
    elif name in ("recognise", "not_recognise"):
        result = Result.RECOGNISED if name == "recognise" else Result.NOT_RECOGNISED
        done = await storage.reviews.recognise(rid, result, {}, None, None, person_id)
        if r["status"] == "registered":
            assert done is not None
            r["status"] = result.value
        else:
            assert done is None
    elif name == "reopen":
        before = await storage.reviews.reopen(rid)
        if r["status"] in ("recognised", "not_recognised"):
            assert before is not None
            r["status"] = "registered"
    elif name == "move":
        hamlet = hamlets[op[2]]
        await storage.registrations.move(rid, hamlet)
        r["hamlet"] = hamlet.id


async def add_photo(storage: Storage, model: Model, rid: int, code: str, person_id: int) -> None:
    n = len(model.photos) + 1
    received = Received(
        registration_id=rid,
        indicator_code=code,
        media_kind=MediaKind.PHOTO,
        file_id=f"f{rid}-{code}-{n}",
        file_unique_id=f"u{rid}-{code}-{n}",
        message_date=NOW,
        uploaded_by=person_id,
    )
    stored = await storage.evidence.add(received, None, None)
    model.photos[stored.id] = {"reg": rid, "code": code, "decision": None}


# --- what the surfaces say ---------------------------------------------------------------------


async def check_surfaces(storage: Storage, model: Model, hamlets) -> None:
    communes = {code: await storage.areas.by_code(code) for code in ("00001", "00002")}
    # /tongket: per commune, per hamlet; and the country, per province.
    for commune in communes.values():
        summary = await storage.summary.summary(commune, YEAR, NOW)
        for row in summary.rows:
            for kind in INDICATORS:
                assert row.of(kind).as_tuple() == model.figures(row.area.id, kind), row.area.name
    country = await storage.summary.summary(None, YEAR, NOW)
    (province,) = [row for row in country.rows if row.area.code == "91"]
    for kind in INDICATORS:
        expected = [sum(f) for f in zip(*(model.figures(h.id, kind) for h in hamlets), strict=True)]
        assert list(province.of(kind).as_tuple()) == expected
    # /thieu: the registered ones not evidence complete, with their missing codes.
    missing, total = await storage.summary.missing(None, YEAR, 0, 1000)
    wanted = {
        rid: tuple(
            code
            for code, state in model.indicators(rid).items()
            if state == "missing" and dict(INDICATORS[model.registrations[rid]["kind"]])[code]
        )
        for rid in model.counted()
        if not model.complete(rid)
    }
    assert {m.registration.id: m.codes for m in missing} == wanted
    assert total == len(wanted)
    # /congnhan: ready are the registered, assessed ones without a decision.
    ready = await storage.reviews.ready_for_recognition(None, YEAR, 1000)
    assert {r.id for r in ready} == {
        rid
        for rid, r in model.registrations.items()
        if r["status"] == "registered" and model.assessed(rid)
    }
    # /xuat: the summary sheet and each registration's evidence column.
    with use_locale("en"):
        rows = [row async for row in summary_sheet(country, {}).rows]
        by_number = {
            row[0]: row[15] async for row in registrations_sheet(storage, None, YEAR, UTC, []).rows
        }
        for rid in model.registrations:
            registration = await storage.registrations.get(rid)
            words = (
                "assessed"
                if model.assessed(rid)
                else ("evidence complete" if model.complete(rid) else "evidence incomplete")
            )
            assert by_number[registration.number] == words
            # /tinhtrang: one line per indicator of the set, with its state in words.
            states = await storage.evidence_states.of_registration(rid)
            photos = await storage.evidence.of_registration(rid)
            lines = render_evidence(states, photos, {})[1:]
            words_of = {
                "accepted": "accepted",
                "needs_more": "needs more",
                "waiting": "waiting for review",
                "missing": "no photo",
            }
            assert [line.split(" · ")[-1] for line in lines] == [
                words_of[state] for state in model.indicators(rid).values()
            ]
    total_row = next(r for r in rows if r[0] == "Total" and r[2] == "Learning family")
    assert total_row[3:8] == [
        sum(f) for f in zip(*(model.figures(h.id, ModelKind.FAMILY) for h in hamlets), strict=True)
    ]
    # The tallies equal the recount from the rows.
    assert await storage.tallies.check() == []


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A migrated database with one province, two communes, three hamlets and a person."""
    path = tmp_path_factory.mktemp("agreement") / "template.sqlite3"

    async def make():
        storage = await Storage.open(path)
        await storage.areas.load_official(
            [OfficialUnit("91", "Tỉnh Thử", "91")],
            [OfficialUnit("00001", "Xã Một", "91"), OfficialUnit("00002", "Xã Hai", "91")],
        )
        for code, name in HAMLETS:
            await storage.areas.add_hamlet(await storage.areas.by_code(code), name)
        await storage.people.add(1, "Người Thử", "+84912345678", Role.ADMIN, None, "vi")
        for kind in INDICATORS:
            await storage.criteria.in_force("91", YEAR, kind)
        await storage.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await storage.close()

    asyncio.run(make())
    return path


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=1, max_size=25))
def test_every_surface_agrees_with_the_model(template, tmp_path, ops):
    path = tmp_path / f"run-{id(ops)}.sqlite3"
    shutil.copy(template, path)

    async def run():
        storage = await Storage.open(path)
        try:
            hamlets = [
                await storage.areas.hamlet(await storage.areas.by_code(c), n) for c, n in HAMLETS
            ]
            model = Model()
            for op in ops:
                await apply(storage, model, hamlets, 1, op)
            await check_surfaces(storage, model, hamlets)
        finally:
            await storage.close()

    asyncio.run(run())
    path.unlink()
