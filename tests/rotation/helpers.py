"""Builders shared by the rotation's tests: a roster signed up in order, the published
schedule as ``(label, membership id)`` pairs, a funded week with an operations budget, and
ratings. Time is moved with time-machine only."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions.models import Answer
from rewards.models import Payment
from rotation import services
from rotation.models import RosterEntry
from tests.factories import bulk_payments
from tests.rewards.weekly_helpers import SHANGHAI, W45, WEEK

# A monthly fee received on Monday of 2026-W45 covers 2 November to 1 December (30 days):
# 7 days in each of W45..W48, 2 in W49. 30,000 fen → an operations budget of 7,000 in W45.
MONTHLY_FEE = 30_000
OPERATIONS_W45 = 7_000
MONDAY_W45_MORNING = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=SHANGHAI)


def label(week: datetime.date) -> str:
    return weeks.label(week)


def w(n: int) -> datetime.date:
    """The first day of 2026-W{n} (W45 is 2 November 2026)."""
    return W45 + (n - 45) * WEEK


def sign_up(people: Sequence[Membership]) -> list[RosterEntry]:
    """Each of ``people`` signs up, in that order (the clock ticks between them)."""
    return [services.roster_join(membership=m) for m in people]


def schedule_of(community: Community) -> list[tuple[str, int | None]]:
    """The published schedule now: ``[(week label, membership id or None), …]``."""
    return [(label(s.week), s.membership_id) for s in services.published_weeks(community)]


def who(community: Community) -> list[int | None]:
    return [m for _week, m in schedule_of(community)]


def roster_ids(community: Community) -> list[int]:
    return [e.membership_id for e in services.active_entries(community)]


def fund_operations(community: Community, payer: Membership, amount: int = MONTHLY_FEE) -> None:
    """A monthly fee received early on Monday of W45: W45's operations budget is
    ``amount × 7 / 30`` (7,000 for the default)."""
    bulk_payments(community, [(payer, Payment.Kind.MONTHLY, amount, MONDAY_W45_MORNING)])


def rate(answer: Answer, raters: Sequence[Membership], stars: Sequence[int]) -> None:
    for rater, n in zip(raters, stars, strict=True):
        question_services.rating_set(rater=rater, answer=answer, stars=n)
