"""The two funds' weekly schedules (SPEC §2.2), computed from what was paid in.

- Entrance fees enter the reward fund in 52 equal weekly shares over the 52 weeks after the
  week they were received; all fees received in one week are split together, remainder fen
  to the earliest weeks (500 × 200.00 → 36 weeks of 1,923.08 and 16 of 1,923.07).
- A monthly fee covers the month that starts on the day it is received (3 March → 3 March to
  2 April) and enters the operations fund spread over the weeks of that month in proportion
  to its days in each week, remainder fen to the earliest.
- A refund (or a correction) enters the same way, negatively, from its own date: the fund's
  future budgets shrink by what went back, and the schedule always sums to what stayed paid.

A week's budget is its scheduled shares plus what rolled over from the week before (posted by
the weekly close). Nothing here is stored: budgets are recomputed from payments, in two
queries per fund whatever the number of payments.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.db.models.functions import TruncDate

from members.models import Community
from rewards.models import Payment, Refund
from rewards.money import allocate, split_equally

WEEKS_OF_SHARES = 52
DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)


def week_of(community: Community, day: datetime.date) -> datetime.date:
    """The first day of the community's week containing ``day``."""
    return day - datetime.timedelta(days=(day.weekday() - community.week_start) % 7)


def month_after(day: datetime.date) -> datetime.date:
    """The same day a month later (the 31st → the month's last day): the end, exclusive, of
    the month a fee paid on ``day`` covers."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def net_receipts(*, community: Community, kind: str) -> dict[datetime.date, int]:
    """Payments of a kind less their refunds, by local day of receipt, in two queries."""
    zone = ZoneInfo(community.time_zone)
    net: dict[datetime.date, int] = defaultdict(int)
    paid = (
        Payment.objects.filter(community=community, kind=kind)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    for row in paid:
        net[row["day"]] += int(row["total"])
    returned = (
        Refund.objects.filter(payment__community=community, payment__kind=kind)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    for row in returned:
        net[row["day"]] -= int(row["total"])
    return {day: total for day, total in net.items() if total}


def reward_shares(*, community: Community) -> dict[datetime.date, int]:
    """The reward fund's scheduled shares by week."""
    by_week: dict[datetime.date, int] = defaultdict(int)
    for day, total in net_receipts(community=community, kind=Payment.Kind.ENTRANCE).items():
        by_week[week_of(community, day)] += total
    shares: dict[datetime.date, int] = defaultdict(int)
    for received, total in by_week.items():
        for k, share in enumerate(split_equally(total, WEEKS_OF_SHARES), start=1):
            shares[received + k * WEEK] += share
    return dict(shares)


def operations_shares(*, community: Community) -> dict[datetime.date, int]:
    """The operations fund's scheduled shares by week."""
    shares: dict[datetime.date, int] = defaultdict(int)
    for day, total in net_receipts(community=community, kind=Payment.Kind.MONTHLY).items():
        days_in_week: dict[datetime.date, int] = defaultdict(int)
        covered = day
        while covered < month_after(day):
            days_in_week[week_of(community, covered)] += 1
            covered += DAY
        weeks = sorted(days_in_week)
        for week, part in zip(
            weeks, allocate(total, [days_in_week[w] for w in weeks]), strict=True
        ):
            shares[week] += part
    return dict(shares)


@dataclass(frozen=True)
class WeekBudget:
    week: datetime.date
    reward_scheduled: int
    operations_scheduled: int
    reward_rollover_in: int = 0
    operations_rollover_in: int = 0

    @property
    def reward_budget(self) -> int:
        return self.reward_scheduled + self.reward_rollover_in

    @property
    def operations_budget(self) -> int:
        return self.operations_scheduled + self.operations_rollover_in


def budgets(*, community: Community, weeks: list[datetime.date]) -> list[WeekBudget]:
    """The budgets of the given weeks (first days), in four queries. Rollover comes from the
    weekly close, which posts it; until a week is closed nothing rolls into the next."""
    reward = reward_shares(community=community)
    operations = operations_shares(community=community)
    return [
        WeekBudget(
            week=week,
            reward_scheduled=reward.get(week, 0),
            operations_scheduled=operations.get(week, 0),
        )
        for week in weeks
    ]
