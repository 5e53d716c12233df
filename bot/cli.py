"""The command line: `python -m bot <command>`, also installed as `hoctap`."""

import argparse
import asyncio
import logging
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from telegram.warnings import PTBUserWarning

from bot.config import ConfigError, Settings, load_settings
from bot.errors import RedactingFilter, install_redaction, redact
from bot.hamlet_import import households_of, import_hamlets
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.backup import BackupError, RestoreError, backup, restore
from storage.clock import utcnow
from storage.criteria import CriteriaFileError, LoadedSet, read_criteria_file
from storage.criteria_repo import CriteriaError
from storage.evidence import TRASH, MediaFolder
from storage.models import AreaLevel, Role
from storage.usecases.criteria import activate_criteria
from storage.usecases.invites import AREA_LEVELS, fits_area, revoke
from storage.usecases.invites import invite as make_invite
from storage.usecases.programme_year import set_dates


class UsageError(Exception):
    """A mistake in what was asked, reported as one line."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hoctap", description="hoctap-bot")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="create or migrate the database, then long-poll")
    commands.add_parser("init-db", help="create or migrate the database, load provinces/communes")
    hamlets = commands.add_parser("import-hamlets", help="import hamlets from a CSV file")
    hamlets.add_argument("file", type=Path)
    homes = commands.add_parser(
        "households", help="show, or set, a hamlet's number of households (for the rates)"
    )
    homes.add_argument("hamlet", help="the commune code and hamlet, e.g. 00070/Thôn Đông")
    homes.add_argument("count", nargs="?", help="the number of households, or 'unknown'")
    invite = commands.add_parser("invite", help="create an invite code")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--area", help="01 (province), 00070 (commune) or 00070/Thôn Đông")
    invite.add_argument("--expires-days", type=int, default=14)
    revoke = commands.add_parser("revoke-invite", help="withdraw an unused invite code")
    revoke.add_argument("code")
    demo = commands.add_parser("demo", help="play a scripted conversation against a fake Bot API")
    demo.add_argument(
        "--web", action="store_true", help="then keep the dashboard running until Ctrl-C"
    )
    demo.add_argument("--port", type=int, default=0, help="the dashboard's port (default: any)")
    copy = commands.add_parser("backup", help="copy the database and media to DEST_DIR")
    copy.add_argument("dest_dir", type=Path)
    commands.add_parser("purge-trash", help="delete the evidence photos moved to the trash")
    commands.add_parser(
        "reindex-evidence", help="put stored evidence photos missing from the copy index in it"
    )
    criteria = commands.add_parser("criteria", help="check or activate a criteria set (YAML)")
    actions = criteria.add_subparsers(dest="criteria_command", required=True)
    validate = actions.add_parser("validate", help="check a criteria file, change nothing")
    validate.add_argument("file", type=Path)
    activate = actions.add_parser(
        "activate", help="check a criteria file, then put it in force for a province and year"
    )
    activate.add_argument("file", type=Path)
    activate.add_argument("--province", required=True, help="province code, e.g. 01")
    activate.add_argument("--year", required=True, type=int)
    year = commands.add_parser(
        "programme-year", help="show, or change, a province's dates for a programme year"
    )
    year.add_argument("--province", required=True, help="province code, e.g. 01")
    year.add_argument("--year", required=True, type=int)
    for option in ("--registration-close", "--evaluation-lock", "--recognition"):
        year.add_argument(option, type=_iso_date, metavar="YYYY-MM-DD")
    back = commands.add_parser("restore", help="put a backup folder back (stop the bot first)")
    back.add_argument("source", type=Path)
    out = commands.add_parser(
        "export", help="write an area's year as XLSX (or a zip of CSV files), in Vietnamese"
    )
    out.add_argument(
        "--area",
        help="01 (province), 00070 (commune) or 00070/Thôn Đông; without it, the whole country",
    )
    out.add_argument("--year", required=True, type=int)
    out.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    out.add_argument("out", type=Path)
    tallies = commands.add_parser("tallies", help="check the report tallies, or rebuild them")
    tally_actions = tallies.add_subparsers(dest="tallies_command", required=True)
    check = tally_actions.add_parser(
        "check", help="recount from the rows; print every difference (exit 1 if any)"
    )
    check.add_argument("--year", type=int)
    tally_actions.add_parser("rebuild", help="rebuild the tallies from the rows")
    return top


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; `python -m bot` exits with it.

    Leaves the process as it found it (logging, event loop), so tests call it in-process.
    """
    # Our dialogs are private-chat wizards mixing text and buttons, which PTB warns about.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    try:
        args = parser().parse_args(argv)
    except SystemExit as done:  # --help, or a mistake argparse has already reported
        return done.code if isinstance(done.code, int) else 2
    try:
        settings = load_settings()
        with logging_to_stderr(settings):
            return asyncio.run(COMMANDS[args.command](settings, args))
    except (ConfigError, UsageError, RestoreError, BackupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


@contextmanager
def logging_to_stderr(settings: Settings) -> Iterator[None]:
    """Log at HOCTAP_LOG_LEVEL to stderr, token redacted; the root logger is restored on exit."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    install_redaction(token)
    handler.addFilter(RedactingFilter(token))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError

    from bot.runner import run

    settings.token()
    try:
        await run(settings)
    except InvalidToken:  # PTB's message repeats the token: say it our way
        raise UsageError(
            "Telegram rejected the bot token (HOCTAP_BOT_TOKEN): check it with @BotFather"
        ) from None
    except NetworkError as error:
        raise UsageError(
            f"cannot reach the Bot API at {settings.api_base_url} ({redact(str(error))}); "
            "check the network and HOCTAP_API_BASE_URL"
        ) from None
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


async def _households(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        hamlet = await storage.areas.resolve(args.hamlet)
        if hamlet is None or hamlet.level is not AreaLevel.HAMLET:
            raise UsageError(f"unknown hamlet {args.hamlet!r} (write it as 00070/Thôn Đông)")
        if args.count is not None:
            try:
                count = None if args.count == "unknown" else households_of(args.count)
            except ValueError:
                raise UsageError(
                    "the count must be a whole number from 0 to 100000, or 'unknown'"
                ) from None
            await storage.households.change(hamlet, count, actor=None)
        current = await storage.households.of(hamlet)
        shown = "unknown" if current is None else current
        print(f"{hamlet.name} ({hamlet.commune_code}): households {shown}")
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
        if not fits_area(role, area):
            levels = ", ".join(level.value for level in AREA_LEVELS[role])
            raise UsageError(f"a {role.value} is invited for a {levels}, not a {area.level.value}")
        invite = await make_invite(storage, None, role, area, expires_days=args.expires_days)
        where = f" for {area.name}" if area else ""
        print(f"Invite for {role.value}{where}, valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC")
        print(invite.code)
        return 0

    return await _with_storage(settings, work)


async def _revoke_invite(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        invite = await storage.invites.by_code(args.code)
        if invite is None:
            raise UsageError(f"no invite with the code {args.code!r}")
        if invite.used_at is not None:
            raise UsageError("that invite has already been used; deactivate the person instead")
        if await revoke(storage, None, invite):
            print(f"invite {invite.code} revoked")
        else:
            print(f"invite {invite.code} was revoked already")
        return 0

    return await _with_storage(settings, work)


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        target = await backup(storage.db, settings.media_dir, args.dest_dir, utcnow())
        print(f"backup written to {target}")
        return 0

    return await _with_storage(settings, work)


async def _purge_trash(settings: Settings, args: argparse.Namespace) -> int:
    count = MediaFolder(settings.media_dir).purge_trash()
    print(f"{count} file(s) deleted from {settings.media_dir / TRASH}")
    return 0


async def _reindex_evidence(settings: Settings, args: argparse.Namespace) -> int:
    from storage.near_duplicates import reindex

    async def work(storage: Storage) -> int:
        indexed, unreadable = await reindex(storage.evidence.near, settings.media_dir)
        print(f"{indexed} photo(s) indexed, {unreadable} unreadable (see the log)")
        return 0

    return await _with_storage(settings, work)


def _read_criteria(path: Path) -> LoadedSet:
    try:
        return read_criteria_file(path)
    except CriteriaFileError as error:
        raise UsageError(str(error)) from None


async def _criteria(settings: Settings, args: argparse.Namespace) -> int:
    loaded = _read_criteria(args.file)
    criteria_set = loaded.criteria_set
    if args.criteria_command == "validate":
        print(
            f"OK: {criteria_set.id}, {len(criteria_set.criteria)} criteria,"
            f" {len(criteria_set.all_indicators())} indicators"
        )
        return 0

    async def activate(storage: Storage) -> int:
        province = await storage.areas.by_code(args.province)
        if province is None or province.level is not AreaLevel.PROVINCE:
            raise UsageError(
                f"unknown province code {args.province!r} (two digits, e.g. 01; run init-db first)"
            )
        try:
            set_id, previous = await activate_criteria(
                storage, None, loaded, province, args.year, str(args.file)
            )
        except CriteriaError as error:
            raise UsageError(str(error)) from None
        replaced = f" (replaces {previous})" if previous and previous != set_id else ""
        print(
            f"Activated {set_id} for {criteria_set.model_kind.value} in {province.name}"
            f" ({province.code}), {args.year}{replaced}"
        )
        return 0

    return await _with_storage(settings, activate)


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import demo

    logging.getLogger().setLevel(logging.WARNING)
    return await demo(serve=args.web, port=args.port)


async def _programme_year(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        province = await storage.areas.by_code(args.province)
        if province is None or province.level is not AreaLevel.PROVINCE:
            raise UsageError(
                f"unknown province code {args.province!r} (two digits, e.g. 01; run init-db first)"
            )
        changes = {
            name: getattr(args, name)
            for name in ("registration_close", "evaluation_lock", "recognition")
            if getattr(args, name) is not None
        }
        if changes:
            done = await set_dates(storage, None, province, args.year, changes)
            dates = done.dates
            if done.problem == "year":
                raise UsageError(f"every date must be in {args.year}")
            if done.problem == "order":
                raise UsageError(
                    "the dates must be in order: registration close <= evaluation lock"
                    f" <= recognition (would be {dates.registration_close},"
                    f" {dates.evaluation_lock}, {dates.recognition})"
                )
        else:
            dates = await storage.registrations.programme_year(province.code, args.year)
        print(f"Programme year {args.year} in {province.name} ({province.code}):")
        print(f"registration close: {dates.registration_close.isoformat()}")
        print(f"evaluation lock: {dates.evaluation_lock.isoformat()}")
        print(f"recognition: {dates.recognition.isoformat()}")
        return 0

    return await _with_storage(settings, work)


async def _restore(settings: Settings, args: argparse.Namespace) -> int:
    restore(args.source, settings.db_path, settings.media_dir)
    storage = await Storage.open(settings.db_path)  # an older copy: bring its schema up
    await storage.close()
    print(f"restored {args.source} to {settings.db_path} and {settings.media_dir}")
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.export import Format, export
    from bot.i18n import use_locale

    async def work(storage: Storage) -> int:
        area = await storage.areas.resolve(args.area) if args.area else None
        if args.area and area is None:
            raise UsageError(f"unknown area {args.area!r}")
        with use_locale("vi"):
            now = utcnow().astimezone(settings.tzinfo)
            data, _name = await export(storage, area, args.year, Format(args.format), now)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
        print(f"{args.out}: {len(data)} bytes")
        return 0

    return await _with_storage(settings, work)


async def _tallies(settings: Settings, args: argparse.Namespace) -> int:
    async def work(storage: Storage) -> int:
        if args.tallies_command == "rebuild":
            rows = await storage.tallies.rebuild()
            print(f"tallies rebuilt: {rows} rows")
            return 0
        differences = await storage.tallies.check(args.year)
        stale = await storage.tallies.stale_states(args.year)
        for difference in differences:
            print(difference)
        for number, kept, counted in stale:
            print(f"{number}: evidence state {kept} (counted {counted})")
        where = f" of {args.year}" if args.year else ""
        if differences or stale:
            print(f"{len(differences)} tallies and {len(stale)} registrations{where} differ")
            return 1
        print(f"tallies{where} equal the recount")
        return 0

    return await _with_storage(settings, work)


COMMANDS = {
    "run": _run,
    "init-db": _init_db,
    "import-hamlets": _import_hamlets,
    "households": _households,
    "invite": _invite,
    "revoke-invite": _revoke_invite,
    "backup": _backup,
    "criteria": _criteria,
    "demo": _demo,
    "programme-year": _programme_year,
    "purge-trash": _purge_trash,
    "reindex-evidence": _reindex_evidence,
    "restore": _restore,
    "export": _export,
    "tallies": _tallies,
}
