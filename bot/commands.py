"""The command registry: every command, what it is for, and who may use it.

Menus, the help text and the gate's role check all read this one list.
"""

from dataclasses import dataclass

from bot.actions import action_of
from bot.i18n import LazyString
from bot.i18n import __ as _l
from storage.models import Role

EVERYONE = frozenset(Role)
STAFF_AND_ADMIN = frozenset({Role.ADMIN, Role.STAFF})
ADMIN_ONLY = frozenset({Role.ADMIN})
EVIDENCE_ROLES = frozenset({Role.BRANCH_CHAIR, Role.HAMLET_HEAD, Role.STAFF, Role.ADMIN})


@dataclass(frozen=True)
class Command:
    name: str
    description: LazyString
    roles: frozenset[Role] = EVERYONE
    in_menu: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("start", _l("Start, or enrol with an invite code")),
    Command("trogiup", _l("Help: what you can do here")),
    Command("help", _l("Help (English name of /trogiup)"), in_menu=False),
    Command("huy", _l("Cancel what you are doing")),
    Command("toi", _l("Me: my role, area, name and phone")),
    Command("ngonngu", _l("Language: Tiếng Việt / English")),
    Command(
        "dangky",
        _l("Register a learning family or clan"),
        frozenset({Role.HAMLET_HEAD, Role.STAFF, Role.ADMIN}),
    ),
    Command(
        "nhapds",
        _l("Register many families or clans at once: a list, or last year's again"),
        frozenset({Role.HAMLET_HEAD, Role.STAFF, Role.ADMIN}),
    ),
    Command(
        "danhgia",
        _l("Self-assessment of a registered family or clan"),
        EVIDENCE_ROLES,
    ),
    Command(
        "minhchung",
        _l("Send evidence photos for a registration"),
        EVIDENCE_ROLES,
    ),
    Command(
        "xemminhchung",
        _l("See a registration's evidence photos"),
        EVIDENCE_ROLES,
    ),
    Command("moi", _l("Invite someone to use the bot"), STAFF_AND_ADMIN),
    Command("nguoidung", _l("People in my area"), STAFF_AND_ADMIN),
    Command("danhsach", _l("Registered families and clans in my area")),
    Command("namhoc", _l("Programme year dates of a province"), ADMIN_ONLY),
    Command("duyet", _l("Review evidence photos"), STAFF_AND_ADMIN),
    Command(
        "congnhan",
        _l("Recognise a registration (or not), showing how"),
        STAFF_AND_ADMIN,
    ),
    Command("nhacnho", _l("Weekly digest: switch on or off"), STAFF_AND_ADMIN),
    Command(
        "tongket",
        _l("Summary figures of my area, per hamlet or commune"),
        STAFF_AND_ADMIN,
    ),
    Command(
        "tinhtrang",
        _l("Everything about one registration"),
        STAFF_AND_ADMIN,
    ),
    Command(
        "thieu",
        _l("Registrations still missing required evidence"),
        EVIDENCE_ROLES,
    ),
    Command("xuat", _l("Export my area's year as an Excel file (or CSV)"), STAFF_AND_ADMIN),
    Command("bieudo", _l("Chart: registered and recognised per area"), STAFF_AND_ADMIN),
    Command("soho", _l("Households of a hamlet: show or set"), STAFF_AND_ADMIN),
)

# What the menu offers someone who is not enrolled.
GUEST_COMMANDS = frozenset({"start", "trogiup"})


def command(name: str) -> Command | None:
    return next((c for c in COMMANDS if c.name == name), None)


def command_of_button(data: str) -> Command | None:
    """The command of the declared action that wrote `data` (see bot.actions)."""
    action = action_of(data)
    return command(action.command) if action else None


def commands_for(role: Role | None) -> list[Command]:
    """The commands a role may use (a guest when role is None), in menu order."""
    if role is None:
        return [c for c in COMMANDS if c.name in GUEST_COMMANDS]
    return [c for c in COMMANDS if role in c.roles]


def menu_for(role: Role | None) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands, translated in the current locale."""
    return [(c.name, str(c.description)) for c in commands_for(role) if c.in_menu]
