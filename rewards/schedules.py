"""The two funds' weekly schedules (SPEC §2.2), computed from what was paid in.

- Entrance fees enter the reward fund in 52 equal weekly shares over the 52 weeks after the
  week they were received; all fees received in one week are split together, remainder fen
  to the earliest weeks (500 × 200.00 → 36 weeks of 1,923.08 and 16 of 1,923.07).
- A monthly fee covers the month that starts on the day it is received (3 March → 3 March to
  2 April) and enters the operations fund spread over the weeks of that month in proportion
  to its days in each week, remainder fen to the earliest.
- A refund (or a correction) enters the same way, negatively, from its own date: the fund's
  future budgets shrink by what went back, and the schedule always sums to what stayed paid.

A week's budget is its scheduled shares plus what rolled over from the week before, plus
*late* shares, plus *adjustments*:

- the weekly close (rewards.weekly) freezes each week's budget when it closes the week and
  stores what it paid and what rolled over; the next week's rollover in is that rollover out;
- a payment recorded after the weeks its shares fall in were closed (a bank transfer entered
  late) cannot change a closed week: those *late* shares enter the budget of the first week
  not yet closed, so no fen is lost;
- a voided prize goes back into the reward fund's budget of the week it was voided in (a
  ``BudgetAdjustment``), as an adjusted moderator pay does for the operations fund.

So every fen a fund received is, for each fund, scheduled into a week and then either paid
or rolled over. Shares scheduled before the community's first week (payments recorded from
before it ran here) belong to those weeks, which are never closed.

Scheduled shares are recomputed from payments, in two queries per fund whatever the number
of payments; the closes and adjustments are two more.
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
from rewards.models import BudgetAdjustment, Payment, Refund, WeekClose
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
    reward_late: int = 0
    operations_late: int = 0
    reward_adjustments: int = 0
    operations_adjustments: int = 0
    # Once the week is closed: what it paid and what rolled over into the next week.
    closed: WeekClose | None = None

    @property
    def reward_budget(self) -> int:
        return (
            self.reward_scheduled
            + self.reward_rollover_in
            + self.reward_late
            + self.reward_adjustments
        )

    @property
    def operations_budget(self) -> int:
        return (
            self.operations_scheduled
            + self.operations_rollover_in
            + self.operations_late
            + self.operations_adjustments
        )

    @property
    def is_closed(self) -> bool:
        return self.closed is not None and self.closed.is_closed

    @property
    def reward_rollover_out(self) -> int | None:
        return self.closed.reward_rollover_out if self.is_closed and self.closed else None

    @property
    def operations_rollover_out(self) -> int | None:
        return self.closed.operations_rollover_out if self.is_closed and self.closed else None


def _late(
    shares: dict[datetime.date, int],
    closes: list[WeekClose],
    week: datetime.date,
    scheduled: str,
    late: str,
) -> int:
    """Shares that came to closed weeks before ``week`` after they closed, and that no closed
    week has taken in yet."""
    before = [c for c in closes if c.week < week]
    arrived = sum(shares.get(c.week, 0) - int(getattr(c, scheduled)) for c in before)
    return arrived - sum(int(getattr(c, late)) for c in before)


def budgets(
    *, community: Community, weeks: list[datetime.date], operations_fund: bool = True
) -> list[WeekBudget]:
    """The budgets of the given weeks (first days), in six queries. A week the close froze
    reads what it froze; an open week whose previous week is closed gets that week's
    rollover out and the late shares; weeks further ahead know only their shares (and
    adjustments) until the weeks before them close.

    ``operations_fund=False``, for a page that shows the reward fund only (a member's home):
    the monthly fees' per-day spread, the costly part, is not worked out, and the
    operations fund's scheduled and late shares of a week not yet closed read 0."""
    reward = reward_shares(community=community)
    operations = operations_shares(community=community) if operations_fund else {}
    closes = sorted(
        WeekClose.objects.filter(community=community).select_related("moderator__profile"),
        key=lambda c: c.week,
    )
    by_week = {c.week: c for c in closes}
    adjusted: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for row in (
        BudgetAdjustment.objects.filter(community=community, week__in=weeks)
        .values("week", "fund")
        .annotate(total=Sum("amount"))
    ):
        adjusted[(row["week"], row["fund"])] += int(row["total"])
    result = []
    for week in weeks:
        frozen = by_week.get(week)
        if frozen is not None:
            result.append(
                WeekBudget(
                    week=week,
                    reward_scheduled=frozen.reward_scheduled,
                    operations_scheduled=frozen.operations_scheduled,
                    reward_rollover_in=frozen.reward_rollover_in,
                    operations_rollover_in=frozen.operations_rollover_in,
                    reward_late=frozen.reward_late,
                    operations_late=frozen.operations_late,
                    reward_adjustments=frozen.reward_adjustments,
                    operations_adjustments=frozen.operations_adjustments,
                    closed=frozen,
                )
            )
            continue
        previous = by_week.get(week - WEEK)
        follows_close = previous is not None and previous.is_closed
        result.append(
            WeekBudget(
                week=week,
                reward_scheduled=reward.get(week, 0),
                operations_scheduled=operations.get(week, 0),
                reward_rollover_in=(previous.reward_rollover_out or 0)
                if follows_close and previous
                else 0,
                operations_rollover_in=(previous.operations_rollover_out or 0)
                if follows_close and previous
                else 0,
                reward_late=_late(reward, closes, week, "reward_scheduled", "reward_late")
                if follows_close
                else 0,
                operations_late=_late(
                    operations, closes, week, "operations_scheduled", "operations_late"
                )
                if follows_close
                else 0,
                reward_adjustments=adjusted[(week, BudgetAdjustment.Fund.REWARD)],
                operations_adjustments=adjusted[(week, BudgetAdjustment.Fund.OPERATIONS)],
            )
        )
    return result
