"""Tests for geo.privacy: masking never reveals, suppression cannot be undone by subtraction."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes
from pandas.testing import assert_frame_equal

from geo.privacy import (
    PERSONAL_COLUMNS,
    mask_frame,
    mask_name,
    mask_phone,
    round_to,
    suppress_small,
)

cjk_names = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=6
)
latin_words = st.text(
    alphabet=st.characters(categories=["Lu", "Ll"], max_codepoint=0x24F), min_size=1, max_size=12
)
latin_names = st.lists(latin_words, min_size=1, max_size=4).map(" ".join)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("王小华", "王*华"),
        ("李明", "李*"),
        ("欧阳娜娜", "欧**娜"),
        ("王", "*"),
        ("司马相如", "司**如"),
        ("阿沛·阿旺晋美", "阿*****美"),
        (" 王 小华 ", "王*华"),
        ("Maria Garcia", "M** G**"),
        ("Jean-Luc  Picard", "J** P**"),
        ("J", "*"),
        ("A B", "A** B**"),
        ("王Mary", "王***y"),
        (None, ""),
        (np.nan, ""),
        (pd.NA, ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name_hand_cases(name: object, expected: str) -> None:
    assert mask_name(name) == expected


@given(st.one_of(cjk_names, latin_names))
def test_mask_name_never_reveals(name: str) -> None:
    masked = mask_name(name)
    assert masked != name
    if len(name) >= 2:
        assert name not in masked


@given(cjk_names)
def test_mask_name_cjk_shape(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)  # one star per hidden character
    assert masked[0] == (name[0] if len(name) >= 2 else "*")
    assert masked.count("*") == max(len(name) - 2, 1)


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("0086 13812341234", "138****1234"),
        (13812341234, "138****1234"),
        (13812341234.0, "138****1234"),  # as read from an Excel number cell
        ("021-62541234", "021-****1234"),
        ("(021) 6254 1234", "021-****1234"),
        ("02162541234", "021-****1234"),
        ("010-8888888", "010-***8888"),
        ("0571-87654321", "0571-****4321"),
        ("62541234", "****1234"),
        ("6254123", "***4123"),
        ("400-820-8820", "******8820"),
        ("021-62541234-801", "021*******4801"),  # with an extension
        ("123456", "******"),
        ("12", "**"),
        ("n/a", "*"),
        (None, ""),
        (np.nan, ""),
        ("", ""),
        (" ", ""),
    ],
)
def test_mask_phone_hand_cases(phone: object, expected: str) -> None:
    assert mask_phone(phone) == expected


@given(
    mobiles,
    st.sampled_from(["{}{}{}", "{} {} {}", "{}-{}-{}", "+86 {}{}{}"]),
)
def test_mask_phone_mobile_never_reveals(mobile: str, layout: str) -> None:
    masked = mask_phone(layout.format(mobile[:3], mobile[3:7], mobile[7:]))
    assert mobile not in masked
    assert masked[3:7] == "****"
    assert masked == mobile[:3] + "****" + mobile[7:]


@given(st.text(alphabet="0123456789 -+()", min_size=1, max_size=20))
def test_mask_phone_never_returns_the_digits(phone: str) -> None:
    digits = "".join(c for c in phone if c.isdigit())
    masked = mask_phone(phone)
    if digits:
        assert digits not in masked.replace("-", "")
        assert masked.count("*") >= min(3, len(digits))


# ---------------------------------------------------------------- frames


def test_mask_frame_default_columns() -> None:
    df = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "head_name": ["王小华", None, "李明"],
            "phone": ["13812341234", "021-62541234", np.nan],
            "residents": [3, 1, 2],
        }
    )
    before = df.copy()
    got = mask_frame(df)
    expected = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "head_name": ["王*华", "", "李*"],
            "phone": ["138****1234", "021-****1234", ""],
            "residents": [3, 1, 2],
        }
    ).astype({"head_name": object, "phone": object})
    assert_frame_equal(got, expected)
    assert_frame_equal(df, before)  # the input is untouched


def test_mask_frame_custom_columns_and_unknown_kind() -> None:
    df = pd.DataFrame({"name": ["长寿路街道"], "leader": ["王小华"], "tel": ["13812341234"]})
    got = mask_frame(df, columns={"leader": "name", "tel": "phone"})
    assert got.to_dict("records") == [{"name": "长寿路街道", "leader": "王*华", "tel": "138****1234"}]
    with pytest.raises(ValueError, match="email"):
        mask_frame(df, columns={"tel": "email"})


def test_personal_columns_are_read_only() -> None:
    with pytest.raises(TypeError):
        PERSONAL_COLUMNS["unit"] = "name"  # type: ignore[index]


def test_mask_frame_5000_rows_speed(capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(42)
    surnames = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    given_chars = list("小华明娜伟芳敏静丽强磊军洋勇艳杰娟涛")
    n = 5000
    df = pd.DataFrame(
        {
            "head_name": [
                rng.choice(surnames) + "".join(rng.choice(given_chars, size=rng.integers(1, 3)))
                for _ in range(n)
            ],
            "phone": [f"1{rng.integers(3, 10)}{rng.integers(0, 10**9):09d}" for _ in range(n)],
        }
    )
    start = time.perf_counter()
    got = mask_frame(df)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nmask_frame on {n} rows: {elapsed * 1000:.1f} ms")
    assert got["head_name"].tolist() == [mask_name(v) for v in df["head_name"]]
    assert got["phone"].tolist() == [mask_phone(v) for v in df["phone"]]


# ---------------------------------------------------------------- suppression


def test_suppress_small_primary_only() -> None:
    df = pd.DataFrame({"area": ["C1", "C2", "C3"], "met": [0, 4, 5], "issues": [1, 12, 3]})
    got = suppress_small(df, ["met", "issues"])
    expected = pd.DataFrame(
        {"area": ["C1", "C2", "C3"], "met": [0.0, np.nan, 5.0], "issues": [np.nan, 12.0, np.nan]}
    )
    assert_frame_equal(got, expected)
    assert df["met"].tolist() == [0, 4, 5]  # the input is untouched


def test_suppress_small_differencing_case() -> None:
    # Row C1: 3 + 12 + 20 = 35. Hiding only the 3 would let anyone compute
    # 35 - 12 - 20 = 3, so the next smallest cell (12) is hidden too.
    df = pd.DataFrame(
        {
            "area": ["C1", "C2", "C3", "C4", "C5"],
            "met": [3, 40, 2, 10, 0],
            "not_home": [12, 2, 1, 20, 3],
            "refused": [20, 0, 30, 30, 0],
            "total": [35, 42, 33, 60, 3],
        }
    )
    got = suppress_small(df, ["met", "not_home", "refused"], total_column="total")
    nan = np.nan
    expected = pd.DataFrame(
        {
            "area": ["C1", "C2", "C3", "C4", "C5"],
            # C2: 2 hidden; the only other positive cell is 40 (0 is skipped).
            # C3: two cells already hidden, nothing more needed.
            # C4: nothing small.
            # C5: 3 hidden; no positive cell left, so the smallest (a zero) goes.
            "met": [nan, nan, nan, 10.0, nan],
            "not_home": [nan, nan, nan, 20.0, nan],
            "refused": [20.0, 0.0, 30.0, 30.0, 0.0],
            "total": [35.0, 42.0, 33.0, 60.0, 3.0],
        }
    )
    assert_frame_equal(got, expected)


def test_suppress_small_without_total_has_no_complement() -> None:
    df = pd.DataFrame({"met": [3], "not_home": [12], "total": [15]})
    got = suppress_small(df, ["met", "not_home"])
    assert_frame_equal(got, pd.DataFrame({"met": [np.nan], "not_home": [12.0], "total": [15]}))


def test_suppress_small_total_suppressed_itself_needs_no_complement() -> None:
    df = pd.DataFrame({"met": [1, 1], "not_home": [2, 6], "total": [3, 7]})
    got = suppress_small(df, ["met", "not_home", "total"], total_column="total")
    expected = pd.DataFrame({"met": [np.nan, np.nan], "not_home": [np.nan, np.nan], "total": [np.nan, 7.0]})
    assert_frame_equal(got, expected)


def test_suppress_small_single_cell_hides_the_total() -> None:
    df = pd.DataFrame({"met": [3, 8], "total": [3, 8]})
    got = suppress_small(df, ["met"], total_column="total")
    assert_frame_equal(got, pd.DataFrame({"met": [np.nan, 8.0], "total": [np.nan, 8.0]}))


def test_suppress_small_ties_and_existing_missing() -> None:
    df = pd.DataFrame(
        {"a": [2, 2], "b": [9, np.nan], "c": [9, 7], "total": [20, 9]},
    )
    got = suppress_small(df, ["a", "b", "c"], total_column="total")
    # Row 0: tie between b and c, the leftmost (b) goes. Row 1: b was
    # already missing, so 9 - 7 does not reveal a; nothing more is hidden.
    expected = pd.DataFrame(
        {"a": [np.nan, np.nan], "b": [np.nan, np.nan], "c": [9.0, 7.0], "total": [20.0, 9.0]}
    )
    assert_frame_equal(got, expected)


def test_suppress_small_k_and_errors() -> None:
    df = pd.DataFrame({"n": [1, 2, 9, 10]})
    assert suppress_small(df, ["n"], k=10)["n"].isna().tolist() == [True, True, True, False]
    assert suppress_small(df, ["n"], k=1)["n"].tolist() == [1.0, 2.0, 9.0, 10.0]
    with pytest.raises(ValueError, match="k must be at least 1"):
        suppress_small(df, ["n"], k=0)
    with pytest.raises(ValueError, match=r"\['missing'\]"):
        suppress_small(df, ["n", "missing"])
    with pytest.raises(ValueError, match=r"\['total'\]"):
        suppress_small(df, ["n"], total_column="total")


counts = st.integers(min_value=0, max_value=30)


@settings(max_examples=200)
@given(
    data_frames(
        [column("a", elements=counts), column("b", elements=counts), column("c", elements=counts)],
        index=range_indexes(min_size=1, max_size=8),
    ),
    st.integers(min_value=1, max_value=10),
)
def test_suppress_small_properties(df: pd.DataFrame, k: int) -> None:
    df = df.assign(total=df[["a", "b", "c"]].sum(axis=1))
    got = suppress_small(df, ["a", "b", "c"], k=k, total_column="total")
    cells = got[["a", "b", "c"]]
    original = df[["a", "b", "c"]].astype(float)
    # no small count is published
    assert not ((cells > 0) & (cells < k)).any().any()
    # every published value is the original one
    assert ((cells == original) | cells.isna()).all().all()
    # every small count is hidden
    assert cells[(original > 0) & (original < k)].isna().all().all()
    # where the total is published, a row never has exactly one hidden cell
    published_total = got["total"].notna()
    assert not ((cells.isna().sum(axis=1) == 1) & published_total).any()
    assert (got["total"][published_total] == df["total"][published_total]).all()


# ---------------------------------------------------------------- rounding


def test_round_to_hand_cases() -> None:
    df = pd.DataFrame(
        {
            "n": [0, 2, 3, 7, 8, 12, 13],
            "x": [0.0, 2.5, np.nan, 7.4, 7.5, 12.5, 1.0],
            "s": list("abcdefg"),
        }
    )
    got = round_to(df, ["n", "x"])
    expected = pd.DataFrame(
        {
            "n": [0, 0, 5, 5, 10, 10, 15],
            "x": [0.0, 5.0, np.nan, 5.0, 10.0, 15.0, 0.0],
            "s": list("abcdefg"),
        }
    )
    assert_frame_equal(got, expected)
    assert df["n"].tolist() == [0, 2, 3, 7, 8, 12, 13]


def test_round_to_base_ten_and_nullable() -> None:
    df = pd.DataFrame({"n": pd.array([15, None, 24], dtype="Int64")})
    got = round_to(df, ["n"], base=10)
    assert_frame_equal(got, pd.DataFrame({"n": pd.array([20, None, 20], dtype="Int64")}))
    with pytest.raises(ValueError, match="base must be at least 1"):
        round_to(df, ["n"], base=0)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20), st.integers(1, 50))
def test_round_to_properties(values: list[int], base: int) -> None:
    got = round_to(pd.DataFrame({"n": values}), ["n"], base=base)["n"].to_numpy()
    assert (got % base == 0).all()
    assert (np.abs(got - np.array(values)) * 2 <= base).all()
