"""Trend charts (RPT-7): a bucketed report drawn as a PNG with matplotlib (no display needed).

Counts are bars or lines on the left axis, rates lines on the right axis in percent, one series
per campaign/agent when the report has several. Only reports grouped by hour, day or week have a
trend to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display

from matplotlib import pyplot
from matplotlib.ticker import PercentFormatter

from reports.tables import Kind, Report
from ringcast.errors import UserError


def draw(report: Report, out: Path, series: Sequence[str]) -> None:
    """Plot columns `series` of `report` (bucketed: its first column is the bucket) over its buckets."""
    header = report.header
    if not header or header[0] != "bucket":
        raise UserError("--chart needs a trend: give --by hour, day or week")
    unknown = [name for name in series if name not in header]
    if unknown:
        raise UserError(
            f"--chart-columns: no column {', '.join(unknown)}", hint=f"one of: {', '.join(header[1:])}"
        )
    kinds = {column.name: column.kind for column in report.columns}
    buckets = sorted({row[0] for row in report.rows})
    groups = sorted({row[1] for row in report.rows})  # campaign or agent
    figure, counts = pyplot.subplots(figsize=(max(6.0, len(buckets) * 0.45), 4.5))
    rates = counts.twinx() if any(kinds[name] is Kind.RATE for name in series) else None
    for name in series:
        axis = rates if kinds[name] is Kind.RATE and rates is not None else counts
        for group in groups:
            values = {row[0]: row[header.index(name)] for row in report.rows if row[1] == group}
            points = [values.get(bucket) for bucket in buckets]
            label = f"{name} ({group})" if len(groups) > 1 else name
            axis.plot(buckets, [float("nan") if v is None else v for v in points], marker="o", label=label)
    if rates is not None:
        rates.yaxis.set_major_formatter(PercentFormatter(1.0))
    counts.set_title(f"{report.title}: {', '.join(series)}")
    counts.tick_params(axis="x", labelrotation=45)
    handles = [h for axis in (counts, rates) if axis is not None for h in axis.get_legend_handles_labels()[0]]
    counts.legend(handles, [str(h.get_label()) for h in handles], loc="upper left", fontsize="small")
    figure.tight_layout()
    try:
        figure.savefig(out, format="png", dpi=120)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror}") from None
    finally:
        pyplot.close(figure)
