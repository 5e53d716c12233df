"""Consistent online copies of the database and the media folder."""

import shutil
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.db import Database

DB_FILE = "hoctap.sqlite3"
MEDIA_FOLDER = "media"


async def backup(db: Database, media_dir: Path, dest_dir: Path, now: datetime) -> Path:
    """Copy the database with SQLite's backup API, and the media, into a new folder."""
    target = dest_dir / f"hoctap-{now:%Y%m%d-%H%M%S}"
    target.mkdir(parents=True)
    async with aiosqlite.connect(target / DB_FILE) as copy:
        await db.conn.backup(copy)
    if media_dir.exists():
        shutil.copytree(media_dir, target / MEDIA_FOLDER)
    return target
