"""Consistent online copies of the database and the media folder, and putting one back."""

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.db import Database

DB_FILE = "hoctap.sqlite3"
MEDIA_FOLDER = "media"
PREFIX = "hoctap-"


class RestoreError(Exception):
    """Why a restore was refused, as one line."""


async def backup(db: Database, media_dir: Path, dest_dir: Path, now: datetime) -> Path:
    """Copy the database with SQLite's backup API, and the media, into a new folder."""
    target = dest_dir / f"{PREFIX}{now:%Y%m%d-%H%M%S}"
    target.mkdir(parents=True)
    async with aiosqlite.connect(target / DB_FILE) as copy:
        await db.conn.backup(copy)
    if media_dir.exists():
        shutil.copytree(media_dir, target / MEDIA_FOLDER)
    return target


def prune(dest_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `dest_dir`; return the deleted folders."""
    folders = sorted(p for p in dest_dir.glob(f"{PREFIX}*") if (p / DB_FILE).is_file())
    doomed = folders[: max(len(folders) - keep, 0)]
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def in_use(db_path: Path) -> Iterator[None]:
    """Held by a running bot: an exclusive lock on `<database>.lock` (released on any exit).

    Raises RestoreError if another process holds it already.
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreError(
                f"{db_path} is in use by a running bot: stop the bot first"
            ) from None
        yield
    finally:
        os.close(fd)


def restore(source: Path, db_path: Path, media_dir: Path) -> None:
    """Put a backup folder back: the database through SQLite's backup API, then the media.

    The bot must be stopped; a bot started by `run` holds the lock that `in_use` checks.
    The media folder is replaced as a whole (a copy is made beside it first, then swapped).
    """
    copy = source / DB_FILE
    if not copy.is_file():
        raise RestoreError(f"{source} is not a backup folder (no {DB_FILE} in it)")
    with in_use(db_path):
        src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            if src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise RestoreError(f"{copy} is damaged (quick_check failed)")
            db_path.parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(db_path)
            try:
                src.backup(dst)
            finally:
                dst.close()
        except sqlite3.DatabaseError as error:
            raise RestoreError(f"{copy} is not a usable SQLite database: {error}") from None
        finally:
            src.close()
        _replace_media(source / MEDIA_FOLDER, media_dir)


def _replace_media(saved: Path, media_dir: Path) -> None:
    fresh = media_dir.with_name(media_dir.name + ".restoring")
    old = media_dir.with_name(media_dir.name + ".replaced")
    for leftover in (fresh, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    if saved.is_dir():
        shutil.copytree(saved, fresh)
    else:
        fresh.mkdir(parents=True)
    if media_dir.exists():
        media_dir.rename(old)
    fresh.rename(media_dir)
    if old.exists():
        shutil.rmtree(old)
