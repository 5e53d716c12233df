"""The /bieudo chart: registered and recognised per child area, families and clans apart, as
PNG bar charts with the values written on the bars.

Telegram shrinks a photo to 1280 pixels on its longer side, so a tall chart of a province's
126 communes cannot be read; the areas are cut into pages of at most `PER_PAGE` rows, one
picture each (sent as an album), each about 1000 × 1100 pixels at most.

matplotlib draws with the Agg backend (no display) and DejaVu Sans, which matplotlib ships and
which has every Vietnamese letter. It is imported on first use only.
"""

import io

from bot.i18n import _
from bot.labels import area_title, kind_label
from storage.summary import KINDS, AreaFigures, Summary

WIDTH_INCHES = 10
DPI = 100
MIN_HEIGHT_INCHES = 6
ROW_INCHES = 0.3  # one row of bars per area
PER_PAGE = 30
FONT = {"family": "DejaVu Sans"}
REGISTERED, RECOGNISED = "#9ecae1", "#2e7d32"


def pages_of(rows: list[AreaFigures], per_page: int = PER_PAGE) -> list[list[AreaFigures]]:
    """The rows cut into nearly equal pages of at most `per_page` (one page when empty)."""
    if not rows:
        return [[]]
    count = -(-len(rows) // per_page)
    size = -(-len(rows) // count)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def render_charts(summary: Summary, per_page: int = PER_PAGE) -> list[bytes]:
    """One PNG per page of areas, at least 1000 × 600 pixels each."""
    pages = pages_of(summary.rows, per_page)
    return [
        render_page(summary, rows, number, len(pages)) for number, rows in enumerate(pages, start=1)
    ]


def render_chart(summary: Summary) -> bytes:
    """The whole chart on one page (for a few areas)."""
    return render_page(summary, summary.rows, 1, 1)


def render_page(summary: Summary, rows: list[AreaFigures], number: int, pages: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = [row.area.name for row in rows]
    height = max(MIN_HEIGHT_INCHES, ROW_INCHES * len(names) + 2)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    panels = figure.subplots(1, 2, sharey=True)
    positions = list(range(len(names)))
    for axes, kind in zip(panels, KINDS, strict=True):
        registered = [row.of(kind).registered for row in rows]
        recognised = [row.of(kind).recognised for row in rows]
        # Recognised drawn over registered: one bar per area, both values written at its end.
        axes.barh(positions, registered, height=0.7, color=REGISTERED, label=_("Registered"))
        axes.barh(positions, recognised, height=0.7, color=RECOGNISED, label=_("Recognised"))
        # the same scale on every page, so that pages compare
        biggest = max((row.of(kind).registered for row in summary.rows), default=0) or 1
        for place, (whole, part) in enumerate(zip(registered, recognised, strict=True)):
            axes.text(whole + biggest * 0.01, place, f"{part}/{whole}", va="center", **FONT)
        axes.set_xlim(0, biggest * 1.25)
        axes.set_title(kind_label(kind), fontdict=FONT)
        axes.set_xlabel(_("labels: recognised/registered"), fontdict=FONT)
        axes.xaxis.get_major_locator().set_params(integer=True)
    panels[0].set_yticks(positions, names, fontfamily="DejaVu Sans")
    panels[0].invert_yaxis()
    title = _("Registered and recognised in {year}: {area}").format(
        year=summary.year, area=area_title(summary.area)
    )
    if pages > 1:
        title += f" ({number}/{pages})"
    figure.suptitle(title, fontfamily="DejaVu Sans")
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, prop=FONT)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
