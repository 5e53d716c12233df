"""The command line: `python -m bot <command>`, also installed as `hoctap`."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.errors import RedactingFilter
from bot.hamlet_import import import_hamlets
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.backup import RestoreError, backup, restore
from storage.clock import utcnow
from storage.models import AreaLevel, Role


class UsageError(Exception):
    """A mistake in what was asked, reported as one line."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hoctap", description="hoctap-bot")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="create or migrate the database, then long-poll")
    commands.add_parser("init-db", help="create or migrate the database, load provinces/communes")
    hamlets = commands.add_parser("import-hamlets", help="import hamlets from a CSV file")
    hamlets.add_argument("file", type=Path)
    invite = commands.add_parser("invite", help="create an invite code")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--area", help="01 (province), 00070 (commune) or 00070/Thôn Đông")
    invite.add_argument("--expires-days", type=int, default=14)
    copy = commands.add_parser("backup", help="copy the database and media to DEST_DIR")
    copy.add_argument("dest_dir", type=Path)
    back = commands.add_parser("restore", help="put a backup folder back (stop the bot first)")
    back.add_argument("source", type=Path)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings)
        return asyncio.run(COMMANDS[args.command](settings, args))
    except (ConfigError, UsageError, RestoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    handler.addFilter(RedactingFilter(token))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runner import run

    settings.token()
    await run(settings)
    return 0


async def _with_storage(settings: Settings, work: Callable[[Storage], Awaitable[int]]) -> int:
    storage = await Storage.open(settings.db_path)
    try:
        return await work(storage)
    finally:
        await storage.close()


async def _init_db(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        added = await storage.areas.load_official(official_provinces(), official_communes())
        provinces = await storage.areas.count(AreaLevel.PROVINCE)
        communes = await storage.areas.count(AreaLevel.COMMUNE)
        print(f"{settings.db_path}: {provinces} provinces, {communes} communes ({added} added)")
        return 0

    return await _with_storage(settings, work)


async def _import_hamlets(settings: Settings, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")

    async def work(storage: Storage) -> int:
        report = await import_hamlets(storage, args.file)
        for line, problem in report.problems:
            print(f"line {line}: {problem}")
        print(report.summary())
        return 0

    return await _with_storage(settings, work)


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    role = Role(args.role)
    if (role is Role.ADMIN) != (args.area is None):
        raise UsageError("--area is required for every role but admin, and not allowed for admin")
    if args.expires_days < 1:
        raise UsageError("--expires-days must be at least 1")

    async def work(storage: Storage) -> int:
        area = await storage.areas.resolve(args.area) if args.area else None
        if args.area and area is None:
            raise UsageError(f"unknown area {args.area!r} (run init-db and import-hamlets first)")
        invite = await storage.invites.create(
            role, area.id if area else None, expires_days=args.expires_days
        )
        await storage.audit.record(
            "invite.created",
            "invite",
            invite.id,
            area_id=invite.area_id,
            after={"role": role.value, "area": args.area, "by": "command line"},
        )
        where = f" for {area.name}" if area else ""
        print(f"Invite for {role.value}{where}, valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC")
        print(invite.code)
        return 0

    return await _with_storage(settings, work)


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        target = await backup(storage.db, settings.media_dir, args.dest_dir, utcnow())
        print(f"backup written to {target}")
        return 0

    return await _with_storage(settings, work)


async def _restore(settings: Settings, args: argparse.Namespace) -> int:
    restore(args.source, settings.db_path, settings.media_dir)
    storage = await Storage.open(settings.db_path)  # an older copy: bring its schema up
    await storage.close()
    print(f"restored {args.source} to {settings.db_path} and {settings.media_dir}")
    return 0


COMMANDS = {
    "run": _run,
    "init-db": _init_db,
    "import-hamlets": _import_hamlets,
    "invite": _invite,
    "backup": _backup,
    "restore": _restore,
}
