"""Reads for the money pages and API, at a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from members import privacy, weeks
from members.models import Community, Membership
from rewards import ledger, schedules
from rewards.models import Account, Entry, Payment, Refund, Transaction

WEEK = datetime.timedelta(days=7)


def account_key(account: Account) -> str:
    """A stable name for an account in the API and exports: ``reward_fund``, or
    ``member_payable:42`` for member 42's payable account."""
    return f"{account.kind}:{account.membership_id}" if account.membership_id else account.kind


@dataclass
class LedgerFilters:
    kind: str = ""
    week: str = ""
    member: int | None = None  # an id (the API's filter)
    membership: Membership | None = None  # already found (ledger_member)


def ledger_member(*, viewer: Membership, community: Community, text: str) -> Membership:
    """The member the ledger filter names (members.privacy.member_named: a hidden field is
    searched only where the viewer may see it)."""
    return privacy.member_named(viewer=viewer, community=community, text=text)


def transactions(*, community: Community, filters: LedgerFilters) -> QuerySet[Transaction]:
    """The community's transactions with their entries, newest first; ValidationError naming
    the parameter for an unknown kind, week or member."""
    qs = Transaction.objects.filter(community=community)
    if filters.kind:
        if filters.kind not in Transaction.Kind.values:
            raise ValidationError({"kind": _("Unknown kind.")}, code="invalid")
        qs = qs.filter(kind=filters.kind)
    if filters.week:
        try:
            start = weeks.parse(community, filters.week)
        except ValidationError as exc:
            raise ValidationError({"week": exc.messages}) from None
        qs = qs.filter(
            occurred_at__gte=weeks.begins_at(community, start),
            occurred_at__lt=weeks.ends_at(community, start),
        )
    membership = filters.membership
    if membership is None and filters.member is not None:
        membership = Membership.objects.filter(community=community, pk=filters.member).first()
        if membership is None:
            raise ValidationError({"member": _("No such member.")}, code="invalid")
    if membership is not None:
        if membership.community_id != community.pk:
            raise ValidationError({"member": _("No such member.")}, code="invalid")
        qs = qs.filter(ledger.transactions_touching(membership=membership)).distinct()
    return (
        qs.select_related("payment", "refund", "posted_by")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=Entry.objects.select_related("account").order_by("pk"),
            )
        )
        .order_by("-occurred_at", "-pk")
    )


@dataclass(frozen=True)
class Statement:
    """One week as organisers review it: budgets, money in and back, paid out, rolled over."""

    week: datetime.date
    label: str
    reward_budget: int
    operations_budget: int
    entrance_in: int
    monthly_in: int
    tips_in: int
    refunded: int
    paid_out: int  # prizes and the moderator's pay, once the week is closed
    rollover_out: int | None  # both funds; known once the week is closed
    reward_rollover_out: int | None = None
    operations_rollover_out: int | None = None


def _by_week(community: Community, rows: QuerySet[Any]) -> dict[tuple[datetime.date, str], int]:
    totals: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for row in rows:
        totals[(schedules.week_of(community, row["day"]), row["key"])] += int(row["total"])
    return totals


def _paid(budget: schedules.WeekBudget) -> int:
    close = budget.closed
    if close is None or not close.is_closed:
        return 0
    return int(close.reward_paid or 0) + int(close.operations_paid or 0)


def statements(*, community: Community, starts: list[datetime.date]) -> list[Statement]:
    """Weekly statements for the given weeks, in eight queries whatever the history's
    length."""
    zone = ZoneInfo(community.time_zone)
    budgets = {b.week: b for b in schedules.budgets(community=community, weeks=starts)}
    paid_in = _by_week(
        community,
        Payment.objects.filter(community=community)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .values("day", key=F("kind"))
        .annotate(total=Sum("amount")),
    )
    returned = _by_week(
        community,
        Refund.objects.filter(payment__community=community)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .values("day", key=F("payment__kind"))
        .annotate(total=Sum("amount")),
    )
    return [
        Statement(
            week=start,
            label=weeks.label(start),
            reward_budget=budgets[start].reward_budget,
            operations_budget=budgets[start].operations_budget,
            entrance_in=paid_in.get((start, Payment.Kind.ENTRANCE), 0),
            monthly_in=paid_in.get((start, Payment.Kind.MONTHLY), 0),
            tips_in=paid_in.get((start, Payment.Kind.TIP), 0),
            refunded=sum(v for (w, _k), v in returned.items() if w == start),
            paid_out=_paid(budgets[start]),
            rollover_out=None
            if budgets[start].reward_rollover_out is None
            else int(budgets[start].reward_rollover_out or 0)
            + int(budgets[start].operations_rollover_out or 0),
            reward_rollover_out=budgets[start].reward_rollover_out,
            operations_rollover_out=budgets[start].operations_rollover_out,
        )
        for start in starts
    ]


@dataclass(frozen=True)
class ChartPoint:
    week: datetime.date
    reward_fund: int  # balance at the week's end, as a positive amount held
    operations_fund: int
    reward_budget: int
    operations_budget: int


def chart(*, community: Community, starts: list[datetime.date]) -> list[ChartPoint]:
    """The funds' balances at the end of each week and the weekly budgets, for the chart."""
    zone = ZoneInfo(community.time_zone)
    rows = (
        Entry.objects.filter(
            transaction__community=community,
            account__kind__in=[Account.Kind.REWARD_FUND, Account.Kind.OPERATIONS_FUND],
        )
        .annotate(day=TruncDate("transaction__occurred_at", tzinfo=zone))
        .values("day", "account__kind")
        .annotate(total=Sum("amount"))
    )
    weekly: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for row in rows:
        weekly[(schedules.week_of(community, row["day"]), row["account__kind"])] -= int(
            row["total"]
        )
    budgets = {b.week: b for b in schedules.budgets(community=community, weeks=starts)}
    points, reward, operations = [], 0, 0
    first = min(starts) if starts else None
    for (week, kind), amount in weekly.items():  # what came in before the chart starts
        if first is not None and week < first:
            if kind == Account.Kind.REWARD_FUND:
                reward += amount
            else:
                operations += amount
    for start in starts:
        reward += weekly.get((start, Account.Kind.REWARD_FUND), 0)
        operations += weekly.get((start, Account.Kind.OPERATIONS_FUND), 0)
        points.append(
            ChartPoint(
                week=start,
                reward_fund=reward,
                operations_fund=operations,
                reward_budget=budgets[start].reward_budget,
                operations_budget=budgets[start].operations_budget,
            )
        )
    return points


@dataclass(frozen=True)
class FundFigures:
    reward_fund: int  # what the reward fund holds now, as a positive amount
    owed: int  # what the community owes the member (their payable), as a positive amount


def fund_figures(*, membership: Membership) -> FundFigures:
    """For a member's fund page, in one query: what the reward fund holds and what they are
    owed, both as positive amounts. (The ledger keeps accounting signs: both are credit
    balances there, negative.)"""
    totals = Entry.objects.filter(account__community_id=membership.community_id).aggregate(
        reward_fund=Sum("amount", filter=Q(account__kind=Account.Kind.REWARD_FUND), default=0),
        owed=Sum(
            "amount",
            filter=Q(account__kind=Account.Kind.MEMBER_PAYABLE, account__membership=membership),
            default=0,
        ),
    )
    return FundFigures(reward_fund=-int(totals["reward_fund"]), owed=-int(totals["owed"]))


def recent_weeks(community: Community, *, back: int, ahead: int) -> list[datetime.date]:
    this = weeks.start_of(community)
    return [this + k * WEEK for k in range(-back, ahead + 1)]


def member_payments(*, membership: Membership) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(membership=membership)
        .prefetch_related("refunds")
        .order_by("-received_at", "-pk")
    )


def member_earnings(*, membership: Membership) -> QuerySet[Entry]:
    """Entries on the member's payable account: tips, prizes, pay, payouts. ``earned`` is the
    amount as the member sees it: what the community came to owe them (the account is a
    credit, so an entry's signed amount is the opposite)."""
    return (
        Entry.objects.filter(
            account__community_id=membership.community_id,
            account__kind=Account.Kind.MEMBER_PAYABLE,
            account__membership=membership,
        )
        .annotate(earned=-F("amount"))
        .select_related("transaction")
        .order_by("-transaction__occurred_at", "-pk")
    )


def payments(*, community: Community) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(community=community)
        .select_related("membership__profile", "recorded_by")
        .prefetch_related("refunds")
        .order_by("-received_at", "-pk")
    )
