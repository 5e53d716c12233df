"""The /bieudo chart: registered and recognised per child area, as a PNG bar chart.

matplotlib draws with the Agg backend (no display) and DejaVu Sans, which matplotlib ships and
which has every Vietnamese letter. It is imported on first use only.
"""

import io

from bot.i18n import _
from bot.labels import area_title
from storage.summary import Summary

WIDTH_INCHES = 10
DPI = 100
MIN_HEIGHT_INCHES = 6
ROW_INCHES = 0.32  # a horizontal pair of bars per area


def render_chart(summary: Summary) -> bytes:
    """PNG bytes, at least 1000 × 600 pixels; taller with more areas."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = [row.area.name for row in summary.rows]
    registered = [row.both.registered for row in summary.rows]
    recognised = [row.both.recognised for row in summary.rows]
    height = max(MIN_HEIGHT_INCHES, ROW_INCHES * len(names) + 2)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    axes = figure.add_subplot()
    positions = range(len(names))
    bar = 0.4
    axes.barh(
        [p - bar / 2 for p in positions],
        registered,
        height=bar,
        label=_("Registered"),
        color="#1f77b4",
    )
    axes.barh(
        [p + bar / 2 for p in positions],
        recognised,
        height=bar,
        label=_("Recognised"),
        color="#2ca02c",
    )
    axes.set_yticks(list(positions), names, fontfamily="DejaVu Sans")
    axes.invert_yaxis()
    axes.set_xlabel(_("Families and clans"), fontfamily="DejaVu Sans")
    axes.set_title(
        _("Registered and recognised in {year}: {area}").format(
            year=summary.year, area=area_title(summary.area)
        ),
        fontfamily="DejaVu Sans",
    )
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(prop={"family": "DejaVu Sans"})
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
