"""Order and concurrency: one person's updates in order, different people at the same time."""

import asyncio
import sqlite3

from telegram import Chat, Message, Update, User

from bot.ordering import PerPersonUpdateProcessor, person_key
from storage.models import Role

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà"]


def update_from(update_id: int, user_id: int) -> Update:
    user = User(user_id, "P", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text=str(update_id))
    return Update(update_id, message=message)


async def test_processor_keeps_each_persons_order_and_runs_people_concurrently():
    processor = PerPersonUpdateProcessor(64)
    seen: dict[int, list[int]] = {}
    running = peak = 0

    async def work(update: Update, delay: float) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(delay)
        seen.setdefault(person_key(update), []).append(update.update_id)
        running -= 1

    updates = [update_from(i, 100 + i % 5) for i in range(40)]
    # Earlier updates sleep longer: without the chain, later ones would overtake them.
    await asyncio.gather(
        *(processor.process_update(u, work(u, 0.05 - i * 0.001)) for i, u in enumerate(updates))
    )
    for person, ids in seen.items():
        assert ids == sorted(ids), person
    assert sum(len(ids) for ids in seen.values()) == 40
    assert peak == 5  # the five people ran side by side, each one update at a time
    assert processor.waiting_people == 0


async def test_a_failing_update_does_not_block_the_persons_next_one():
    processor = PerPersonUpdateProcessor(4)
    done = []

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> None:
        done.append("next")

    first = asyncio.ensure_future(processor.process_update(update_from(1, 7), boom()))
    second = asyncio.ensure_future(processor.process_update(update_from(2, 7), fine()))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and done == ["next"]


async def test_fifty_people_enrol_at_the_same_time(bot, api, storage, hamlets, tmp_path):
    people = []
    for i in range(50):
        invite = await storage.invites.create(Role.HAMLET_HEAD, hamlets["Thôn Đông"].id)
        name = f"{SURNAMES[i % 10]} Văn {GIVEN[i // 10]}"
        people.append((api.person(1000 + i), invite, name, f"09120{i:05d}"))

    async def enrol(person, invite, name, phone) -> None:
        (card,) = await person.send(f"/start {invite.code}", timeout=30)
        assert card.text.startswith("Bước 1/4")
        await person.press("✅ Đúng, tiếp tục", expect=2, timeout=30)
        (ask_phone,) = await person.send(name, timeout=30)
        assert ask_phone.text.startswith("Bước 3/4"), ask_phone.text
        await person.send(phone, expect=2, timeout=30)
        *_, welcome = await person.press("Tiếng Việt", expect=2, timeout=30)
        assert f"Chào mừng {name}" in welcome.text

    await asyncio.gather(*(enrol(*p) for p in people))

    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        rows = conn.execute(
            "SELECT p.telegram_id, p.full_name, p.phone, i.code FROM people p"
            " JOIN invites i ON i.used_by = p.id"
        ).fetchall()
        apologies = [m for p, *_ in people for m in p.messages if m.text.startswith("Xin lỗi")]
    assert len(rows) == 50
    expected = {
        p.user_id: (name, "+849120" + phone[5:], invite.code) for p, invite, name, phone in people
    }
    assert {row[0]: tuple(row[1:]) for row in rows} == expected
    assert apologies == []


async def test_a_quick_burst_from_one_person_is_answered_in_order(bot, api, enrol):
    await enrol(600, Role.STAFF, "00070")
    person = api.person(600)
    commands = ["/toi", "/trogiup", "/xyz", "/toi", "/trogiup", "/xyz"] * 2
    expected = {}
    for command in dict.fromkeys(commands):
        (reply,) = await person.send(command)
        expected[command] = reply.text
    for command in commands:
        await person.send(command, wait=False)
    replies = await person.wait(expect=len(commands))
    assert [r.text for r in replies] == [expected[c] for c in commands]
