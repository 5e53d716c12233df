"""Backups: a round trip through `backup` and `restore`, refusal while the bot runs, the job."""

import hashlib
import sqlite3
from pathlib import Path

from bot.app import build_application
from bot.jobs import schedule_jobs
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.backup import in_use
from storage.models import Role
from tests.conftest import settings_for

PHOTO = bytes(range(256)) * 40


def counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        ]
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def sha256s(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


async def test_backup_then_restore_gives_back_the_same_data(run_cli, cli_env, tmp_path):
    db_path, media = Path(cli_env["HOCTAP_DB_PATH"]), Path(cli_env["HOCTAP_MEDIA_DIR"])
    storage = await Storage.open(db_path)
    try:
        await storage.areas.load_official(official_provinces(), official_communes())
        commune = await storage.areas.by_code("00070")
        hamlet, _ = await storage.areas.add_hamlet(commune, "Thôn Đông")
        for telegram_id, name, role, area in (
            (901, "Nguyễn Văn An", Role.HAMLET_HEAD, hamlet.id),
            (902, "Trần Thị Bình", Role.STAFF, commune.id),
        ):
            await storage.people.add(telegram_id, name, f"+84912000{telegram_id}", role, area, "vi")
        await storage.invites.create(Role.HAMLET_HEAD, hamlet.id)
    finally:
        await storage.close()
    (media / "evidence").mkdir(parents=True)
    (media / "evidence" / "a.jpg").write_bytes(PHOTO)
    before, media_before = counts(db_path), sha256s(media)
    assert before["people"] == 2 and before["areas"] > 3000

    result = run_cli("backup", str(tmp_path / "saved"))
    assert result.returncode == 0, result.stderr
    (source,) = (tmp_path / "saved").iterdir()

    for path in db_path.parent.glob(db_path.name + "*"):
        path.unlink()
    (media / "evidence" / "a.jpg").unlink()
    (media / "stray.txt").write_text("not in the backup")

    result = run_cli("restore", str(source))
    assert result.returncode == 0, result.stderr
    assert counts(db_path) == before
    assert sha256s(media) == media_before


def test_restore_is_refused_while_the_bot_runs(run_cli, cli_env, tmp_path):
    result = run_cli("backup", str(tmp_path / "saved"))
    assert result.returncode == 0, result.stderr
    (source,) = (tmp_path / "saved").iterdir()
    with in_use(Path(cli_env["HOCTAP_DB_PATH"])):
        result = run_cli("restore", str(source))
    assert result.returncode == 2
    assert "stop the bot first" in result.stderr
    result = run_cli("restore", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "not a backup folder" in result.stderr


async def test_the_daily_backup_job_keeps_the_newest_backups(api, storage, tmp_path):
    settings = settings_for(api, tmp_path, backup_keep=2)
    app = build_application(settings, storage)
    for stamp in ("20250101-000000", "20250102-000000"):
        old = settings.backup_dir / f"hoctap-{stamp}"
        old.mkdir(parents=True)
        (old / "hoctap.sqlite3").write_bytes(b"")
    async with app:
        schedule_jobs(app)  # what post_init does when the bot runs
        (job,) = app.job_queue.get_jobs_by_name("daily-backup")
        await job.run(app)
    kept = sorted(p.name for p in settings.backup_dir.iterdir())
    assert len(kept) == 2 and kept[0] == "hoctap-20250102-000000"
    assert counts(settings.backup_dir / kept[1] / "hoctap.sqlite3")["areas"] > 3000
