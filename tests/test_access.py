"""restrict(): the one narrowing of grid rows to what a role may see, against a plain oracle."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.access import (
    Sight,
    aggregates_in_sight,
    pace_of_own_grids,
    restrict,
    staffing_in_sight,
    workers_in_sight,
)

IDS = [f"G{i}" for i in range(8)]


def test_a_frame_by_its_index_keeps_order_and_columns() -> None:
    m = pd.DataFrame({"visited": [3, 1, 2]}, index=pd.Index(["G3", "G1", "G2"], name="grid_id"))
    out = restrict(m, frozenset({"G1", "G3", "G9"}))
    pd.testing.assert_frame_equal(out, m.loc[["G3", "G1"]])


def test_a_frame_by_a_column() -> None:
    g = pd.DataFrame({"grid_id": ["G1", "G2", "G3"], "committee_id": ["C1", "C1", "C2"]})
    out = restrict(g, {"G2", "G3"}, on="grid_id")
    pd.testing.assert_frame_equal(out, g.iloc[[1, 2]])


def test_a_series_or_index_of_ids() -> None:
    s = pd.Series(["G1", "G2", "G3"], index=[10, 11, 12])
    pd.testing.assert_series_equal(restrict(s, {"G1", "G3"}), s.loc[[10, 12]])
    pd.testing.assert_index_equal(restrict(pd.Index(["G1", "G2"]), {"G2"}), pd.Index(["G2"]))


def test_none_sees_everything_and_an_empty_scope_nothing() -> None:
    m = pd.DataFrame({"x": [1, 2]}, index=["G1", "G2"])
    assert restrict(m, None) is m
    assert restrict(m, frozenset()).empty


def test_an_index_has_no_columns() -> None:
    with pytest.raises(TypeError):
        restrict(pd.Index(["G1"]), {"G1"}, on="grid_id")


@given(
    rows=st.lists(st.sampled_from(IDS), max_size=20),
    visible=st.one_of(st.none(), st.frozensets(st.sampled_from(IDS))),
)
def test_matches_a_row_by_row_oracle(rows: list[str], visible: frozenset[str] | None) -> None:
    frame = pd.DataFrame({"grid_id": rows, "n": range(len(rows))})
    out = restrict(frame, visible, on="grid_id")
    expected = [n for n, g in enumerate(rows) if visible is None or g in visible]
    assert out["n"].tolist() == expected


# ---------------------------------------------------------------- aggregates

STREET_ROLE = Sight(grids=frozenset({"G1", "G2", "G3"}), committees=frozenset({"C1"}), streets=frozenset())


def test_aggregates_only_of_areas_wholly_in_sight() -> None:
    pace = pd.DataFrame({"behind": [True, False, True]}, index=["C1", "C2", "C3"])
    assert aggregates_in_sight(pace, STREET_ROLE, "committee").index.tolist() == ["C1"]
    streets = pd.DataFrame({"behind": [True]}, index=["S1"])
    assert aggregates_in_sight(streets, STREET_ROLE, "street").empty
    assert aggregates_in_sight(pace, Sight(), "committee") is pace


def test_staffing_hides_the_district_ratio_from_everyone_but_the_district_role() -> None:
    district = pd.DataFrame({"district_id": ["district"], "ratio": [19.5]})
    assert staffing_in_sight(district, STREET_ROLE, "district").empty
    pd.testing.assert_frame_equal(staffing_in_sight(district, Sight(), "district"), district)
    committees = pd.DataFrame({"committee_id": ["C2", "C1"], "ratio": [18.0, 21.0]})
    expected = pd.DataFrame({"committee_id": ["C1"], "ratio": [21.0]})
    pd.testing.assert_frame_equal(staffing_in_sight(committees, STREET_ROLE, "committee"), expected)


def test_pace_of_own_grids_only_without_a_chosen_area_and_without_the_whole_district() -> None:
    assert pace_of_own_grids(STREET_ROLE, street_id=None, committee_id=None)
    assert not pace_of_own_grids(STREET_ROLE, street_id="S1", committee_id=None)
    assert not pace_of_own_grids(STREET_ROLE, street_id=None, committee_id="C1")
    assert not pace_of_own_grids(Sight(), street_id=None, committee_id=None)


def test_workers_in_sight_are_those_assigned_to_a_visible_grid() -> None:
    gw = pd.DataFrame({"grid_id": ["G1", "G2", "G2"], "worker_id": ["W1", "W2", "W3"]})
    standings = pd.DataFrame({"worker_id": ["W3", "W1", "W4"], "points": [9, 12, 11]})
    pd.testing.assert_frame_equal(workers_in_sight(standings, gw, {"G2"}), standings.iloc[[0]])
    assert workers_in_sight(standings, gw, None) is standings
