"""/soho: staff show and set a hamlet's households in chat, within their area, audited."""

import json

from storage.models import Role

DENIED = "Bạn không có quyền truy cập nội dung này."


async def test_staff_set_show_and_clear_a_hamlets_households(bot, api, storage, enrol, hamlets):
    staff = await enrol(920, Role.STAFF, "00070")
    chat = api.person(920)
    (reply,) = await chat.send("/soho 00070/Thôn Đông")
    assert reply.text == "Thôn Đông: chưa có số hộ."
    (reply,) = await chat.send("/soho 00070/thôn đông 120")
    assert reply.text == "Thôn Đông: 120 hộ."
    assert await storage.households.of(hamlets["Thôn Đông"]) == 120
    rows = await storage.db.conn.execute_fetchall(
        "SELECT actor_id, before, after FROM audit_log WHERE action = 'hamlet.households_set'"
    )
    assert [tuple(r) for r in rows] == [
        (staff.id, json.dumps({"households": None}), json.dumps({"households": 120}))
    ]
    (reply,) = await chat.send("/soho 00070/Thôn Đông chưa rõ")
    assert reply.text == "Thôn Đông: chưa có số hộ."
    assert await storage.households.of(hamlets["Thôn Đông"]) is None
    for bad in ("/soho", "/soho 00070/Thôn Đông -5", "/soho 00070 12"):
        (reply,) = await chat.send(bad)
        assert reply.text.startswith("Gửi /soho kèm thôn và số hộ"), bad
    (reply,) = await chat.send("/soho 00073/Thôn Bắc 50")  # another commune
    assert reply.text == DENIED
    assert await storage.households.of(hamlets["Thôn Bắc"]) is None


async def test_hamlet_heads_cannot_set_households(bot, api, enrol, hamlets):
    await enrol(921, Role.HAMLET_HEAD, "00070/Thôn Đông")
    (reply,) = await api.person(921).send("/soho 00070/Thôn Đông 10")
    assert reply.text == "Bạn không có quyền dùng lệnh này."
