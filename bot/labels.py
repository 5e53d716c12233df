"""Words that the kernel, the features (export, chart) and the dialogs all show.

They live here, below `conversations/`, so that no module of `bot/` has to import a dialog; the
dialog modules that used to define them import them from here, under the same names.
"""

from bot.i18n import _
from storage.criteria import ModelKind
from storage.models import Area
from storage.registrations import Status


def kind_label(kind: ModelKind) -> str:
    return {ModelKind.FAMILY: _("Learning family"), ModelKind.CLAN: _("Learning clan")}[kind]


def status_name(status: Status) -> str:
    return {
        Status.REGISTERED: _("registered"),
        Status.WITHDRAWN: _("withdrawn"),
        Status.RECOGNISED: _("recognised"),
        Status.NOT_RECOGNISED: _("not recognised"),
    }[status]


def area_title(area: Area | None) -> str:
    return _("the whole country") if area is None else area.name


def render_not_enrolled() -> str:
    """The answer to anyone not enrolled (the gate sends it; /start without a code too)."""
    return _(
        "You are not enrolled in the learning-society bot yet.\n\n"
        "Ask the commune's education-promotion association or the commune office for an "
        "invite code, then send /start followed by the code, for example:\n"
        "/start ABCD2345EFGH"
    )
