"""Tallies: `python -m bot tallies check | rebuild`, and a process killed (SIGKILL) between and
during writes leaves tallies that equal the recount."""

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

from storage import Storage
from storage.areas import OfficialUnit
from storage.criteria import ModelKind
from storage.models import Role
from tests.conftest import ROOT

YEAR = 2026

# Writes for ever, through the storage functions the dialogs call, until killed.
WRITER = """
import asyncio, itertools, random, sys
from storage import Storage
from storage.criteria import ModelKind
from storage.evidence import MediaKind, Received
from storage.registrations import Status
from storage.reviews import Decision, Result
from datetime import UTC, datetime

async def main(path, seed):
    rng = random.Random(seed)
    storage = await Storage.open(path)
    rows = await storage.db.conn.execute_fetchall("SELECT id FROM areas WHERE level = 'hamlet'")
    hamlets = [await storage.areas.get(r[0]) for r in rows]
    for n in itertools.count():
        hamlet = rng.choice(hamlets)
        kind = rng.choice([ModelKind.FAMILY, ModelKind.CLAN])
        draft = await storage.registrations.start_draft(1, hamlet.id, 2026)
        criteria = await storage.criteria.in_force(hamlet.province_code, 2026, kind)
        answers = {"kind": kind.value, "criteria_set_id": criteria.set_id, "head_name": "A",
                   "clan_name": "Họ A"}
        await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
        made = await storage.registrations.register(
            await storage.registrations.draft_of(1), hamlet, 1)
        photos = []
        for indicator in criteria.criteria_set.all_indicators():
            if indicator.evidence_required or rng.random() < 0.3:
                received = Received(
                    registration_id=made.id, indicator_code=indicator.code,
                    media_kind=MediaKind.PHOTO, file_id=f"f{seed}-{n}-{indicator.code}",
                    file_unique_id=f"u{seed}-{n}-{indicator.code}",
                    message_date=datetime.now(UTC), uploaded_by=1)
                photos.append(await storage.evidence.add(received, None, None))
        for photo in photos:
            if rng.random() < 0.85:
                decision = Decision.ACCEPTED if rng.random() < 0.8 else Decision.NEEDS_MORE
                await storage.reviews.decide(photo.id, decision, None, 1)
        if photos and rng.random() < 0.2:
            await storage.evidence.delete(rng.choice(photos).id)
        if rng.random() < 0.2:
            await storage.registrations.move(made.id, rng.choice(hamlets))
        roll = rng.random()
        if roll < 0.4:
            result = Result.RECOGNISED if rng.random() < 0.8 else Result.NOT_RECOGNISED
            await storage.reviews.recognise(made.id, result, {}, None, None, 1)
            if rng.random() < 0.2:
                await storage.reviews.reopen(made.id)
        elif roll < 0.5:
            await storage.registrations.update(made.id, {"status": Status.WITHDRAWN})
        print(n, flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def prepare(path: Path) -> None:
    storage = await Storage.open(path)
    await storage.areas.load_official(
        [OfficialUnit("91", "Tỉnh Thử", "91")],
        [OfficialUnit("00001", "Xã Một", "91"), OfficialUnit("00002", "Xã Hai", "91")],
    )
    for code, name in (("00001", "Thôn Một"), ("00001", "Thôn Hai"), ("00002", "Thôn Ba")):
        await storage.areas.add_hamlet(await storage.areas.by_code(code), name)
    await storage.people.add(1, "Người Thử", "+84912345678", Role.ADMIN, None, "vi")
    for kind in (ModelKind.FAMILY, ModelKind.CLAN):
        await storage.criteria.in_force("91", YEAR, kind)
    await storage.close()


def tallies(run_cli, env, *args):
    return run_cli("tallies", *args, env=env)


async def test_check_finds_a_wrong_tally_and_rebuild_mends_it(run_cli, cli_env, tmp_path):
    path = tmp_path / "data" / "hoctap.sqlite3"
    await prepare(path)
    env = cli_env | {"HOCTAP_DB_PATH": str(path)}
    await write_some(path, 30)
    clean = tallies(run_cli, env, "check", "--year", str(YEAR))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip() == f"tallies of {YEAR} equal the recount"

    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE tallies SET assessed = assessed + 2 WHERE (year, level, parent, area, kind) ="
            " (SELECT year, level, parent, area, kind FROM tallies WHERE level = 'hamlet'"
            " ORDER BY area, kind LIMIT 1)"
        )
        area, kind, assessed = conn.execute(
            "SELECT area, kind, assessed FROM tallies WHERE level = 'hamlet' ORDER BY area, kind"
            " LIMIT 1"
        ).fetchone()
    wrong = tallies(run_cli, env, "check")
    assert wrong.returncode == 1
    assert f"{YEAR} hamlet {area} {kind}: assessed {assessed} (counted {assessed - 2})" in (
        wrong.stdout
    )
    assert "1 tallies and 0 registrations differ" in wrong.stdout
    rebuilt = tallies(run_cli, env, "rebuild")
    assert rebuilt.returncode == 0 and rebuilt.stdout.startswith("tallies rebuilt: ")
    assert tallies(run_cli, env, "check").returncode == 0


async def write_some(path: Path, count: int) -> None:
    """Run the writer until it has finished `count` registrations, then stop it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), "7", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    for _ in range(count):
        await asyncio.wait_for(process.stdout.readline(), 60)
    process.kill()
    await process.wait()


async def test_tallies_survive_sigkill_between_and_during_writes(run_cli, cli_env, tmp_path):
    path = tmp_path / "data" / "hoctap.sqlite3"
    await prepare(path)
    env = cli_env | {"HOCTAP_DB_PATH": str(path)}
    done = 0
    for seed, delay in enumerate([0.4, 0.9, 0.55, 1.3, 0.7, 1.1]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            str(path),
            str(seed),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        await asyncio.wait_for(process.stdout.readline(), 60)  # started and writing
        await asyncio.sleep(delay)
        process.send_signal(signal.SIGKILL)
        output, _ = await process.communicate()
        assert process.returncode == -signal.SIGKILL
        done += len(output.split())
    assert done > 0
    with sqlite3.connect(path) as conn:
        registrations = conn.execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
    assert registrations >= done
    check = tallies(run_cli, env, "check")
    assert check.returncode == 0, check.stdout
    assert check.stdout.strip() == "tallies equal the recount"
