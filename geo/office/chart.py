"""The pace chart: the burn-up of :func:`geo.office.pace.burn_up` drawn with Altair."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from geo import words

if TYPE_CHECKING:
    import altair as alt


_CHART_TEXT = words.by_lang("uncovered.chart.")


def burn_up_chart(frame: pd.DataFrame, *, lang: str = "zh", title: str = "") -> alt.Chart:
    """Return an Altair burn-up chart of a :func:`burn_up` frame (labels in ``lang``).

    Examples
    --------
    >>> f = pd.DataFrame({"date": pd.to_datetime(["2026-01-04", "2026-12-31"]),
    ...                   "series": ["goal", "goal"], "coverage": [0.0, 1.0]})
    >>> spec = burn_up_chart(f, lang="en").to_dict()
    >>> spec["encoding"]["y"]["axis"]["format"], spec["encoding"]["color"]["scale"]["domain"][0]
    ('%', 'Coverage so far')
    """
    import altair as alt

    text = _CHART_TEXT["en" if lang == "en" else "zh"]
    data = frame.assign(label=frame["series"].map(text))
    domain = [text["actual"], text["goal"], text["projected"]]
    return (
        alt.Chart(data, title=title or alt.Undefined)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=text["month"], labelAngle=0)),
            y=alt.Y(
                "coverage:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "label:N",
                title=None,
                legend=alt.Legend(orient="top", direction="horizontal"),
                scale=alt.Scale(domain=domain, range=["#2166ac", "#969696", "#f4a582"]),
            ),
            strokeDash=alt.StrokeDash(
                "label:N", legend=None, scale=alt.Scale(domain=domain, range=[[1, 0], [4, 3], [2, 2]])
            ),
            tooltip=[
                alt.Tooltip("label:N", title=text["series"]),
                alt.Tooltip("date:T", title=text["date"]),
                alt.Tooltip("coverage:Q", title=text["coverage"], format=".1%"),
            ],
        )
    )
