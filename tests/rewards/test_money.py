from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.money import allocate, split_equally


def test_the_spec_s_worked_figures() -> None:
    # 500 entrance fees of 200.00 in one week, in 52 weekly shares
    shares = split_equally(500 * 20000, 52)
    assert shares == [192308] * 36 + [192307] * 16
    # 52 members: one entrance fee a week
    assert split_equally(52 * 20000, 52) == [20000] * 52


def test_prize_split_remainder_goes_to_the_higher_place() -> None:
    assert allocate(100, [50, 30, 20]) == [50, 30, 20]
    assert allocate(1, [50, 30, 20]) == [1, 0, 0]
    assert allocate(101, [1, 1, 1]) == [34, 34, 33]
    assert allocate(200, [1, 1, 1]) == [67, 67, 66]


def test_negative_amounts_mirror_positive_ones() -> None:
    assert allocate(-101, [1, 1, 1]) == [-34, -34, -33]


@pytest.mark.parametrize(
    ("amount", "weights", "error"),
    [(10, [], ValueError), (10, [0, 0], ValueError), (10, [1, -1], ValueError),
     (10.5, [1], TypeError), ("10", [1], TypeError), (True, [1], TypeError)],
)  # fmt: skip
def test_bad_input_is_refused(amount: object, weights: list[int], error: type) -> None:
    with pytest.raises(error):
        allocate(amount, weights)  # type: ignore[arg-type]


@given(
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60).filter(
        any
    ),
)
def test_parts_always_sum_to_the_whole(amount: int, weights: list[int]) -> None:
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    assert len(parts) == len(weights)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = amount * weight / total
        assert abs(part - exact) < 1 + 1e-6 * abs(exact)  # never off by a whole fen or more
        if weight == 0:
            assert part == 0


@given(amount=st.integers(min_value=0, max_value=10**15), count=st.integers(1, 60))
def test_equal_weights_differ_by_at_most_one_fen_earliest_first(amount: int, count: int) -> None:
    shares = split_equally(amount, count)
    assert sum(shares) == amount
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)  # the larger shares come first
