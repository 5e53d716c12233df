"""Backups while the bot works (issue 11): off the event loop, consistent while photos come
and go, and a failed backup leaves nothing behind that could count as one."""

import asyncio
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.backup import DB_FILE, MEDIA_FOLDER, backup, prune
from storage.criteria import ModelKind
from storage.evidence import MediaFolder, MediaKind, Received
from storage.images import Fingerprint, ImageFacts
from storage.models import Role

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def photos_on_disk(storage, enrol, hamlets, media: MediaFolder, count: int, size: int):
    """`count` evidence rows, each with its file in the media folder."""
    head = await enrol(950, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hamlet = hamlets["Thôn Đông"]
    draft = await storage.registrations.start_draft(head.id, hamlet.id, 2026)
    criteria = await storage.criteria.in_force(hamlet.province_code, 2026, ModelKind.FAMILY)
    answers = {"kind": "family", "criteria_set_id": criteria.set_id, "head_name": "Hà Văn Ba"}
    answers |= {"members": 3, "school_age_children": 1, "assessment": {"GD.1.1": 10}}
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    registration = await storage.registrations.register(
        await storage.registrations.draft_of(head.id), hamlet, head.id
    )
    paths = []
    for index in range(count):
        digest = f"{index:064x}"
        relative = f"2026/{registration.number}/{digest}.jpg"
        media.write(relative, random.randbytes(size))
        received = Received(
            registration_id=registration.id,
            indicator_code="GD.1.1",
            media_kind=MediaKind.PHOTO,
            file_id=f"file-{index}",
            file_unique_id=f"unique-{index}",
            message_date=datetime.now(TZ),
            uploaded_by=head.id,
        )
        fingerprint = Fingerprint(hash=index, fine=bytes(32), blank=False)
        facts = ImageFacts(
            digest, size, 10, 10, "image/jpeg", "jpg", None, f"{index:016x}", fingerprint
        )
        await storage.evidence.add(received, facts, relative)
        paths.append(relative)
    return paths


def referenced(folder: Path) -> list[str]:
    with sqlite3.connect(folder / DB_FILE) as db:
        return [row[0] for row in db.execute("SELECT path FROM evidence WHERE path IS NOT NULL")]


async def test_backups_hold_every_photo_their_database_needs_while_photos_come_and_go(
    storage, enrol, hamlets, tmp_path
):
    media = MediaFolder(tmp_path / "media")
    paths = await photos_on_disk(storage, enrol, hamlets, media, 60, 20_000)
    stop = threading.Event()

    def churn() -> None:  # others sending photos and deleting them, as the bot does
        rng = random.Random(7)
        while not stop.is_set():
            media.write(f"2026/new/{rng.getrandbits(64):016x}.jpg", rng.randbytes(5_000))
            media.trash(rng.choice(paths))
            for moved in (media.root / "trash").rglob("*.jpg"):  # and the trash emptied
                if rng.random() < 0.3:
                    moved.rename(media.root / moved.relative_to(media.root / "trash"))

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        folders = []
        for day in range(6):
            moment = datetime(2026, 3, 1, tzinfo=TZ) + timedelta(days=day)
            folders.append(await backup(storage.db, media.root, tmp_path / "backups", moment))
    finally:
        stop.set()
        worker.join()
    for folder in folders:
        needed = referenced(folder)
        assert len(needed) == 60
        assert all((folder / MEDIA_FOLDER / p).is_file() for p in needed), folder
        assert not list(folder.rglob(".part-*"))


async def test_a_backup_does_not_stop_the_event_loop(storage, tmp_path):
    media = tmp_path / "media"
    for index in range(500):
        folder = media / f"{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index}.jpg").write_bytes(os.urandom(150_000))
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    started = time.monotonic()
    shutil.copytree(media, tmp_path / "plain-copy")  # what copying on the loop would stall
    stall = time.monotonic() - started
    ticker = asyncio.create_task(tick())
    await backup(storage.db, media, tmp_path / "backups", datetime(2026, 3, 1, tzinfo=TZ))
    await asyncio.sleep(0.05)  # the ticker notes the pause that ended with the backup, if any
    ticker.cancel()
    # Other updates are served all along: the loop never pauses for the length of the copy.
    print(f"longest pause {max(gaps):.3f} s; copying the media takes {stall:.3f} s")
    assert max(gaps) < stall / 2, (max(gaps), stall)


def test_a_failed_backup_leaves_nothing_and_says_one_line(cli_env, tmp_path):
    media = Path(cli_env["HOCTAP_MEDIA_DIR"])
    media.mkdir(parents=True)
    (media / "big.jpg").write_bytes(b"x" * 3_000_000)
    dest = tmp_path / "backups"

    def small_files() -> None:  # as a full disk would: no file over 2 MB can be written
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))

    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(dest)],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_files,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nothing kept" in done.stderr, done.stderr
    assert list(dest.iterdir()) == []
    assert prune(dest, 1) == []
