"""Consistent online copies of the database and the media folder, and putting one back."""

import asyncio
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
from storage.evidence import TRASH

DB_FILE = "hoctap.sqlite3"
MEDIA_FOLDER = "media"
PREFIX = "hoctap-"
PARTIAL = ".partial-"


class RestoreError(Exception):
    """Why a restore was refused, as one line."""


class BackupError(Exception):
    """Why a backup failed, as one line; nothing of it was kept."""


async def backup(db: Database, media_dir: Path, dest_dir: Path, now: datetime) -> Path:
    """A new backup folder: the database (SQLite's backup API), then the media it refers to.

    Everything is written into a hidden `.partial-` folder that is renamed to `hoctap-…`
    only when complete, so a failed backup is deleted and never counted by `prune`. The
    copying runs in worker threads, never on the event loop: people keep being answered.

    Photos come and go while the bot runs. The database is copied first; the media copy
    then skips files that vanish under it, and afterwards every photo the copied database
    refers to is looked for again (in its place, or in the trash it was moved to since) so
    that the folder holds what its database needs.
    """
    target = dest_dir / f"{PREFIX}{now:%Y%m%d-%H%M%S}"
    partial = dest_dir / f"{PARTIAL}{target.name}"
    try:
        await asyncio.to_thread(_clear_partials, dest_dir)
        partial.mkdir(parents=True)
        await _copy_database(db, partial / DB_FILE)
        await asyncio.to_thread(_copy_media, media_dir, partial)
        await asyncio.to_thread(partial.rename, target)
    except (OSError, sqlite3.Error, shutil.Error) as error:
        await asyncio.to_thread(shutil.rmtree, partial, True)
        raise BackupError(f"backup to {dest_dir} failed, nothing kept: {error}") from error
    return target


async def _copy_database(db: Database, copy: Path) -> None:
    """From a connection of its own in a worker thread (WAL: the bot keeps reading and
    writing meanwhile); an in-memory database through the bot's connection."""
    rows = await db.conn.execute_fetchall("PRAGMA database_list")
    source = next((row[2] for row in rows if row[1] == "main"), "")
    if not source:
        async with aiosqlite.connect(copy) as target:
            await db.conn.backup(target)
        return

    def run() -> None:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()

    await asyncio.to_thread(run)


def _copy_media(media_dir: Path, folder: Path) -> None:
    target = folder / MEDIA_FOLDER
    if media_dir.is_dir():
        for root, _dirs, files in os.walk(media_dir):
            for name in files:
                if name.startswith(".part-"):
                    continue  # a photo being written; it is looked for again below if needed
                source = Path(root) / name
                _copy_file(source, target / source.relative_to(media_dir))
    db = sqlite3.connect(folder / DB_FILE)
    try:
        paths = [row[0] for row in db.execute("SELECT path FROM evidence WHERE path IS NOT NULL")]
    finally:
        db.close()
    for relative in paths:
        if not (target / relative).is_file():
            _copy_needed(media_dir, relative, target / relative)


def _copy_needed(media_dir: Path, relative: str, copy: Path, rounds: int = 5) -> bool:
    """A photo the copied database needs, from its place or the trash. It can move between
    the two looks (deleted, or put back from the trash), so it is looked for a few rounds."""
    for _ in range(rounds):
        for source in (media_dir / relative, media_dir / TRASH / relative):
            if _copy_file(source, copy):
                return True
    return False


def _copy_file(source: Path, copy: Path) -> bool:
    """Copy one regular file; False if it vanished (deleted or moved) meanwhile."""
    try:
        if not source.is_file():
            return False
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)
    except FileNotFoundError:
        return False
    return True


def _clear_partials(dest_dir: Path) -> None:
    """Remove what a backup interrupted by a crash left behind."""
    for leftover in dest_dir.glob(f"{PARTIAL}*"):
        shutil.rmtree(leftover, ignore_errors=True)


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
