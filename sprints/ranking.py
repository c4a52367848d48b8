"""Fractional ranks: a string strictly between two others, so moving one item writes one row.

Ranks are strings over ``0-9a-z`` compared byte-wise (the column uses the "C" collation).
They never end in "0", which keeps a key available between any two ranks.
"""

from __future__ import annotations

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(DIGITS)}


def _validate(rank: str) -> None:
    if not rank or rank.endswith("0") or any(ch not in _INDEX for ch in rank):
        raise ValueError(f"invalid rank {rank!r}")


def _midpoint(low: str, high: str | None) -> str:
    """A key strictly between ``low`` ("" = start) and ``high`` (None = end)."""
    if high is not None:
        shared = 0
        while shared < len(high) and (low[shared] if shared < len(low) else "0") == high[shared]:
            shared += 1
        if shared:
            return high[:shared] + _midpoint(low[shared:], high[shared:])
    digit_low = _INDEX[low[0]] if low else 0
    digit_high = _INDEX[high[0]] if high is not None else len(DIGITS)
    if digit_high - digit_low > 1:
        return DIGITS[(digit_low + digit_high) // 2]
    if high is not None and len(high) > 1:
        return high[0]
    return DIGITS[digit_low] + _midpoint(low[1:], None)


def rank_between(before: str | None, after: str | None) -> str:
    """A rank sorting after ``before`` and before ``after`` (either may be None for an end)."""
    if before is not None:
        _validate(before)
    if after is not None:
        _validate(after)
    if before is not None and after is not None and before >= after:
        raise ValueError(f"{before!r} must sort before {after!r}")
    return _midpoint(before or "", after)
