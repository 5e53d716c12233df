"""The dashboard's pages: HTML fragments for the shell to show, photos and export files.

Every handler here runs behind `server.authenticate`, which found the enrolled, active staff
member or administrator (`VIEWER`); each area, registration and photo is checked
again with `bot.access.may_access` before anything about it is read.
"""

import asyncio
import io
import mimetypes
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.access import may_access
from bot.export import Format, export
from bot.i18n import _, current_locale, format_number, format_share, ngettext
from bot.labels import flag_text, history_sentence, kind_label, local_day, state_words, status_name
from bot.web.auth import link_valid, sign_link
from storage import Storage
from storage.browse import Filters, browse
from storage.criteria import ModelKind
from storage.households import (
    CLAN_TARGET,
    FAMILY_TARGET,
    Households,
    family_rate,
)
from storage.models import Area, AreaLevel, Person
from storage.registrations import Registration, Status
from storage.summary import KINDS, Counts
from storage.usecases.refusals import refused

PAGE_SIZE = 20
THUMBNAIL = 320  # pixels, the longer side
DISPLAYABLE = {"image/jpeg", "image/png", "image/webp"}

templates = Environment(
    loader=PackageLoader("bot.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals.update(_=_, ngettext=ngettext, number=format_number)


@dataclass(frozen=True)
class Viewer:
    person: Person
    area: Area | None  # their own area; None for an administrator (the whole country)


# Who is asking, set by `server.authenticate` for the request being handled.
VIEWER: ContextVar[Viewer] = ContextVar("viewer")


class Denied(web.HTTPForbidden):
    def __init__(self) -> None:
        super().__init__(text=_("You do not have access to that."))


def render(name: str, **values) -> web.Response:
    html = templates.get_template(name).render(**values)
    return web.Response(text=html, content_type="text/html")


def go(page: str, **params) -> str:
    """A link inside the dashboard: `page?params`, without empty values."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return f"{page}?{urlencode(kept)}" if kept else page


class Pages:
    def __init__(self, storage: Storage, settings, now) -> None:
        self.storage, self.settings, self.now = storage, settings, now

    # --- access ---------------------------------------------------------------------------

    async def deny(self, viewer: Viewer, action: str, subject: dict) -> Denied:
        """Audit the attempt, like the commands do, and answer with nothing about it."""
        person = viewer.person
        await refused(self.storage, person, person.telegram_id, f"web.{action}", subject)
        return Denied()

    async def area_of(self, request: web.Request, name: str = "area") -> Area | None:
        """The area a request names by id (0 or none: the viewer's own), in reach or refused."""
        viewer = VIEWER.get()
        raw = request.query.get(name, "")
        if not raw:
            return viewer.area
        area_id = _int(raw)
        area = None if area_id == 0 else await self.storage.areas.get(area_id)
        if (area_id != 0 and area is None) or not may_access(viewer.person, viewer.area, area):
            raise await self.deny(viewer, "area", {"area_id": raw})
        return area

    async def path_up(self, viewer: Viewer, area: Area | None) -> list[tuple[str, str]]:
        """(name, link) from the top the viewer may see down to `area`'s parent."""
        chain = list(reversed(await self.storage.areas.lineage(area))) if area else []
        path = [(_("The whole country"), go("summary", area=0))]
        path += [(a.name, go("summary", area=a.id)) for a in chain]
        visible = [None, *chain]
        return [
            step
            for step, place in zip(path, visible, strict=True)
            if may_access(viewer.person, viewer.area, place)
        ][:-1]

    def year(self, request: web.Request) -> int:
        year = _int(request.query.get("year", ""))
        return year if 2000 <= year <= 2100 else self.now().year

    # --- the summary ----------------------------------------------------------------------

    async def summary(self, request: web.Request) -> web.Response:
        viewer = VIEWER.get()
        area = await self.area_of(request)
        year, now = self.year(request), self.now()
        summary = await self.storage.summary.summary(area, year, now)
        households = await self.storage.households.per_child(area)
        child_is_hamlet = area is not None and area.level in (AreaLevel.COMMUNE, AreaLevel.HAMLET)
        rows = []
        for row in summary.rows:
            key = str(row.area.id) if child_is_hamlet else row.area.code
            counted = households.get(key, Households())
            rows.append(figure_row(row.area.name, row.by_kind, counted, row.area, year))
        total_households = sum(households.values(), Households())
        if area is not None and area.level is AreaLevel.HAMLET:
            total_households = households.get(str(area.id), Households())
        totals = figure_row(
            _("Total"), {k: summary.total(k) for k in KINDS}, total_households, None, year
        )
        kinds = []
        for kind in KINDS:
            biggest = max([r["kinds"][kind]["registered"] for r in rows] + [1])
            kinds.append({"kind": kind, "label": kind_label(kind), "biggest": biggest})
        return render(
            "summary.html",
            title=area.name if area else _("The whole country"),
            year=year,
            taken=f"{summary.taken_at:%d/%m/%Y %H:%M}",
            path=await self.path_up(viewer, area),
            rows=rows,
            totals=totals,
            kinds=kinds,
            targets={
                ModelKind.FAMILY: format_share(round(FAMILY_TARGET * 100), 100),
                ModelKind.CLAN: format_share(round(CLAN_TARGET * 100), 100),
            },
            family_target=FAMILY_TARGET,
            list_link=go("registrations", area=area.id if area else 0, year=year),
            xlsx=go("export/xlsx", area=area.id if area else 0, year=year),
            csv=go("export/csv", area=area.id if area else 0, year=year),
        )

    # --- the registrations ----------------------------------------------------------------

    async def registrations(self, request: web.Request) -> web.Response:
        viewer = VIEWER.get()
        area = await self.area_of(request)
        hamlet = await self.area_of(request, "hamlet") if request.query.get("hamlet") else None
        if hamlet is not None and (hamlet.level is not AreaLevel.HAMLET or area is None):
            hamlet = None
        if hamlet is not None and not area.contains(hamlet):
            hamlet = None
        year = self.year(request)
        query = request.query
        filters = Filters(
            kind=_choice(ModelKind, query.get("kind")),
            status=_choice(Status, query.get("status")),
            missing=query.get("missing") == "1",
            text=query.get("q", "")[:100],
        )
        page = max(1, _int(query.get("page", "1")))
        found, total = await browse(
            self.storage.db,
            hamlet or area,
            year,
            filters,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        hamlets = []
        if area is not None and area.level is AreaLevel.COMMUNE:
            hamlets = await self.storage.areas.children(area)
        elif area is not None and area.level is AreaLevel.HAMLET:
            hamlets = [area]
        common = {
            "area": area.id if area else 0,
            "year": year,
            "hamlet": hamlet.id if hamlet else "",
            "kind": filters.kind.value if filters.kind else "",
            "status": filters.status.value if filters.status else "",
            "missing": "1" if filters.missing else "",
            "q": filters.text,
        }
        pages = -(-total // PAGE_SIZE)
        return render(
            "registrations.html",
            title=area.name if area else _("The whole country"),
            year=year,
            path=[
                *await self.path_up(viewer, area),
                (common_title(area), go("summary", area=common["area"])),
            ],
            found=[
                {
                    "number": item.registration.number,
                    "name": item.registration.name,
                    "kind": kind_label(item.registration.kind),
                    "status": status_name(item.registration.status),
                    "hamlet": item.hamlet_name,
                    "link": go("registration/" + str(item.registration.id)),
                }
                for item in found
            ],
            total=total,
            page=page,
            pages=pages,
            previous=go("registrations", **common, page=page - 1) if page > 1 else None,
            next=go("registrations", **common, page=page + 1) if page < pages else None,
            filters=common,
            hamlets=hamlets,
            kinds=[(k.value, kind_label(k)) for k in KINDS],
            statuses=[(s.value, status_name(s)) for s in Status],
        )

    # --- one registration -----------------------------------------------------------------

    async def registration(self, request: web.Request) -> web.Response:
        viewer = VIEWER.get()
        registration_id = _int(request.match_info["id"])
        registration, hamlet = await self.registration_in_reach(viewer, registration_id)
        storage = self.storage
        stored = await storage.criteria.get(registration.criteria_set_id)
        criteria = stored.criteria_set if stored else None
        assessment = await storage.registrations.assessment(registration.id)
        photos = await storage.evidence.of_registration(registration.id)
        reviews = await storage.facts.reviews(registration.id)
        decisions = {review.evidence_id: review for review in reviews}
        recognition = await storage.facts.recognition(registration.id)
        history = await storage.facts.history(registration, 20)
        states = {
            s.code: s.state for s in await storage.evidence_states.of_registration(registration.id)
        }
        zone, now, token = self.settings.tzinfo, self.now(), self.settings.token()
        indicators = []
        listed = criteria.all_indicators() if criteria else []
        codes = [i.code for i in listed] + sorted(
            {p.indicator_code for p in photos} - {i.code for i in listed}
        )
        names = {i.code: i.text.get(current_locale()) for i in listed}
        # flags and history name an indicator in words (its short name), as the bot does
        locale = current_locale()
        short = {i.code: i.short.get(locale) if i.short else names[i.code] for i in listed}
        required = {i.code for i in listed if i.evidence_required}
        for code in codes:
            mine = [p for p in photos if p.indicator_code == code]
            indicators.append(
                {
                    "code": code,
                    "name": names.get(code, ""),
                    "required": code in required,
                    "value": assessment.get(code),
                    "state": state_words(states[code]) if code in states else "",
                    "photos": [
                        {
                            "thumb": sign_link(f"photo/{p.id}/thumb", token, now),
                            "full": sign_link(f"photo/{p.id}/full", token, now),
                            "decision": decision_text(decisions.get(p.id)),
                            "flags": [flag_text(f, short) for f in p.flags],
                        }
                        for p in mine
                        if p.path
                    ],
                    "pending": sum(1 for p in mine if not p.path),
                }
            )
        lineage = await storage.areas.lineage(hamlet)
        return render(
            "registration.html",
            r=registration,
            kind=kind_label(registration.kind),
            status=status_name(registration.status),
            place=", ".join(a.name for a in lineage),
            path=[
                *await self.path_up(viewer, hamlet),
                (hamlet.name, go("summary", area=hamlet.id)),
                (
                    _("Registrations"),
                    go("registrations", area=hamlet.id, year=registration.year),
                ),
            ],
            answers=answer_rows(registration),
            indicators=indicators,
            recognition=recognition,
            recognition_result=status_name(Status(recognition.result)) if recognition else "",
            decision_date=local_day(recognition.decision_date) if recognition else "",
            history=[history_sentence(entry, zone, short) for entry in history],
        )

    async def registration_in_reach(
        self, viewer: Viewer, registration_id: int
    ) -> tuple[Registration, Area]:
        registration = await self.storage.registrations.get(registration_id)
        hamlet = await self.storage.areas.get(registration.hamlet_id) if registration else None
        if hamlet is None or not may_access(viewer.person, viewer.area, hamlet):
            raise await self.deny(viewer, "registration", {"registration_id": registration_id})
        return registration, hamlet

    # --- photos and files -----------------------------------------------------------------

    async def photo(self, request: web.Request) -> web.Response:
        """A photo by a signed, unexpired link, for a viewer who may reach its registration."""
        viewer = VIEWER.get()
        evidence_id, size = _int(request.match_info["id"]), request.match_info["size"]
        path = f"photo/{evidence_id}/{size}"
        query = request.query
        token = self.settings.token()
        if not link_valid(path, query.get("exp", ""), query.get("sig", ""), token, self.now()):
            raise web.HTTPForbidden(text=_("This link has expired. Open the page again."))
        evidence = await self.storage.evidence.get(evidence_id)
        if evidence is None:
            raise await self.deny(viewer, "photo", {"evidence_id": evidence_id})
        await self.registration_in_reach(viewer, evidence.registration_id)
        file = Path(self.settings.media_dir) / (evidence.path or "")
        if not evidence.path or not file.is_file():
            raise web.HTTPNotFound(text=_("This photo is not on the server (yet)."))
        if size == "full" and (evidence.mime_type or "") in DISPLAYABLE:
            return web.Response(body=file.read_bytes(), content_type=evidence.mime_type)
        data = await asyncio.to_thread(as_jpeg, file, THUMBNAIL if size == "thumb" else None)
        return web.Response(body=data, content_type="image/jpeg")

    async def download(self, request: web.Request) -> web.Response:
        area = await self.area_of(request)
        fmt = Format(request.match_info["format"])
        data, name = await export(self.storage, area, self.year(request), fmt, self.now())
        kind = "application/zip" if fmt is Format.CSV else mimetypes.types_map[".xlsx"]
        return web.Response(
            body=data,
            content_type=kind,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


# --- pure helpers ------------------------------------------------------------------------------

MAX_NUMBER = 2**53  # any id or page; a page times its size stays within SQLite's integers


def _int(text: str) -> int:
    """A whole number from the address, or -1; one too big for SQLite (an id, a page) is -1
    too, so that it finds nothing instead of failing the request."""
    try:
        value = int(text)
    except ValueError:
        return -1
    return value if abs(value) <= MAX_NUMBER else -1


def _choice(enum, value: str | None):
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def common_title(area: Area | None) -> str:
    return area.name if area else _("The whole country")


def figure_row(
    name: str, by_kind: dict, households: Households, area: Area | None, year: int
) -> dict:
    """One line of the summary table: the five figures per kind, and the families' rate."""
    kinds = {}
    for kind in KINDS:
        counts: Counts = by_kind.get(kind, Counts())
        rate = family_rate(counts.recognised, households) if kind is ModelKind.FAMILY else None
        kinds[kind] = {
            "registered": counts.registered,
            "complete": counts.evidence_complete,
            "assessed": counts.assessed,
            "recognised": counts.recognised,
            "not_recognised": counts.not_recognised,
            "rate": rate,
            "rate_text": format_share(counts.recognised, households.known)
            if rate is not None
            else "",
        }
    link = None
    if area is not None:
        page = "registrations" if area.level is AreaLevel.HAMLET else "summary"
        link = go(page, area=area.id, year=year)
    return {
        "name": name,
        "link": link,
        "kinds": kinds,
        "households": households.known,
        "counted": households.counted,
        "hamlets": households.hamlets,
    }


def decision_text(review) -> str:
    if review is None:
        return _("not reviewed")
    if review.decision == "accepted":
        return _("accepted")
    return _("needs more") + (f": {review.reason}" if review.reason else "")


def answer_rows(registration: Registration) -> list[tuple[str, object]]:
    labels = {
        "head_name": _("Head of household / clan head"),
        "clan_name": _("Clan"),
        "branch": _("Branch"),
        "members": _("Members"),
        "school_age_children": _("Children of school age"),
        "households": _("Households"),
        "address": _("Address"),
        "phone": _("Phone"),
    }
    return [
        (label, getattr(registration, field))
        for field, label in labels.items()
        if getattr(registration, field) not in (None, "")
    ]


def as_jpeg(file: Path, longest: int | None) -> bytes:
    """The image as JPEG (HEIC and others included), shrunk to `longest` pixels if given."""
    from PIL import Image, ImageOps

    import storage.images  # noqa: F401  (registers the HEIC opener)

    with Image.open(file) as image:
        picture = ImageOps.exif_transpose(image).convert("RGB")
    if longest:
        picture.thumbnail((longest, longest))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()
