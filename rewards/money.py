"""The one allocation helper: split an integer amount by weights, exactly.

Largest-remainder method: each part gets the floor of its exact share, then the fen left
over go one each to the parts with the largest remainders — ties to the earliest part (for
weekly shares: the earliest week; for prizes: the higher place). The parts always sum to the
amount. Used for the 52 weekly shares of entrance fees, the per-day spread of monthly fees
over weeks, and prize splits.
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` (integer minor units, may be negative) in proportion to ``weights``
    (non-negative integers, not all zero). ``sum(result) == amount`` always."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int of minor units")
    if not weights or any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise ValueError("weights must be non-negative ints")
    total = sum(weights)
    if total == 0:
        raise ValueError("weights must not all be zero")
    if amount < 0:
        return [-part for part in allocate(-amount, weights)]
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(parts)
    # Largest remainder first; among equal remainders the earliest (stable sort).
    for index in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
        parts[index] += 1
    return parts


def split_equally(amount: int, count: int) -> list[int]:
    """``count`` equal shares of ``amount``, the remainder fen to the earliest shares."""
    return allocate(amount, [1] * count)
