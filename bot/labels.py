"""Words that the kernel, the features (export, chart, the dashboard) and the dialogs all show.

They live here, below `conversations/`, so that no module of `bot/` has to import a dialog.
"""

from bot.i18n import _
from storage.criteria import ModelKind
from storage.evidence import Flag, FlagKind
from storage.evidence_state import IndicatorState
from storage.models import Area
from storage.registrations import Status
from storage.summary import HistoryEntry


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


def state_words(state: IndicatorState) -> str:
    return {
        IndicatorState.ACCEPTED: _("accepted"),
        IndicatorState.NEEDS_MORE: _("needs more"),
        IndicatorState.WAITING: _("waiting for review"),
        IndicatorState.MISSING: _("no photo"),
    }[state]


def flag_text(flag: Flag, names: dict[str, str] | None = None) -> str:
    """`names`: indicators' short names by code, for the flag that names another indicator."""
    if flag.kind is FlagKind.DUPLICATE:
        return _("⚠️ The same photo is already evidence of {number}.").format(
            number=flag.registration_number
        )
    if flag.kind is FlagKind.NEAR_DUPLICATE:
        return _("⚠️ This photo looks like a copy of a photo of {number}.").format(
            number=flag.registration_number
        )
    if flag.kind is FlagKind.SAME_REGISTRATION:
        return _("⚠️ This looks like the photo already sent for indicator {code}.").format(
            code=(names or {}).get(flag.indicator_code, flag.indicator_code)
        )
    if flag.kind is FlagKind.BLANK:
        return _(
            "⚠️ This photo looks blank (almost one colour). It is kept; if it was a mistake, "
            "send a clearer photo (you can delete this one with /xemminhchung)."
        )
    return _("⚠️ Taken on {date:%d/%m/%Y}, outside the programme year.").format(
        date=flag.captured_at
    )


def history_sentence(entry: HistoryEntry, zone, names: dict[str, str] | None = None) -> str:
    """An audit entry as a sentence in the reader's language, with the local time; never the
    action's code. `names`: indicators' short names by code, said instead of the code."""
    who = entry.actor or _("the system")
    when = local_moment(entry.at, zone)
    after = entry.after or {}
    code = after.get("indicator", "")
    if code in (names or {}):
        code = f"“{names[code]}”"
    sentences = {
        "registration.created": _("Registered by {who}, {when}"),
        "registration.edited": _("Answers edited by {who}, {when}"),
        "registration.withdrawn": _("Withdrawn by {who}, {when}"),
        "registration.recognised": _("Recognised by {who}, {when}"),
        "registration.not_recognised": _("Not recognised by {who}, {when}"),
        "recognition.reopened": _("Decision reopened by {who}, {when}"),
        "evidence.deleted": _("A photo deleted by {who}, {when}"),
    }
    if entry.action == "evidence.reviewed" and after.get("decision") == "accepted":
        text = _("Photo for {code} accepted by {who}, {when}")
    elif entry.action == "evidence.reviewed":
        text = _("Photo for {code} marked “needs more” by {who}, {when}")
    else:
        text = sentences.get(entry.action, _("Changed by {who}, {when}"))
    return text.format(who=who, when=when, code=code)


def local_moment(moment, zone) -> str:
    """dd/mm/yyyy HH:MM in local time."""
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M}"


def local_day(value: str | None) -> str:
    if not value:
        return "—"
    year, month, day = value[:10].split("-")
    return f"{day}/{month}/{year}"
