"""The demo's year of payments for "product-circle", written through rewards.services.

Every member but the organiser joined at some point in the past year — a few founders at the
start, then more and more (the membership grows) — paying the entrance fee on the day they
joined and the monthly fee on the same day of each month since, by bank transfer (every
fifth member in cash). A few mistakes and refunds, as a real year has them: a monthly fee
recorded twice and the duplicate corrected, an entrance fee typed as 220.00 and corrected to
200.00, a monthly fee refunded in full and another in part. So the organiser's ledger has
transactions of every kind, the weekly statements' chart has the shape of a growing
community, and each member's fund page has their own payments.

Idempotent: a payment is found by its ``reference`` (``demo:entrance:<account>``,
``demo:monthly:<account>:<n>``), a correction or refund by its payment and note; what exists
is left as it is. The year is the one before the demo first ran (recovered from the first
member's entrance fee): a later run adds the monthly fees that have fallen due since, and
nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from members.models import Community, Membership, User
from rewards import schedules, services
from rewards.models import Payment, Refund

ENTRANCE_FEE = 20000
MONTHLY_FEE = 1000
YEAR = 365  # days
LAST_JOIN = 340  # days after the year's start: the newest members joined about a month ago
FOUNDERS = 6  # joined in the first week


@dataclass(frozen=True)
class Mistake:
    """Money going back: ``amount`` (None: all of it) of one demo payment, ``days`` after it."""

    reference: str
    reason: str
    amount: int | None
    days: int
    note: str


# Payments recorded wrongly at first, with the reference of the mistaken record and the
# amount typed (None: the fee); they are put right by the MISTAKES below.
WRONG_RECORDS = {
    "demo:monthly:haoran:3:again": ("haoran", 3, None),  # the same transfer entered twice
    "demo:entrance:benc": ("benc", 0, 22000),  # 220.00 typed for 200.00
}
MISTAKES = [
    Mistake(
        reference="demo:monthly:haoran:3:again",
        reason=Refund.Reason.CORRECTION,
        amount=None,
        days=1,
        note="demo: recorded twice — the same bank transfer",
    ),
    Mistake(
        reference="demo:entrance:benc",
        reason=Refund.Reason.CORRECTION,
        amount=2000,
        days=3,
        note="demo: typed 220.00 for 200.00",
    ),
    Mistake(
        reference="demo:monthly:jiayi:5",
        reason=Refund.Reason.REFUND,
        amount=None,
        days=2,
        note="demo: refunded — away for the whole month",
    ),
    Mistake(
        reference="demo:monthly:gracel:2",
        reason=Refund.Reason.REFUND,
        amount=500,
        days=4,
        note="demo: half the month refunded — joined a fortnight late",
    ),
]


def joined_on(start: datetime.date, index: int, count: int) -> datetime.date:
    """The day member ``index`` of ``count`` joined: founders in the first week, then the
    rest spread over the year, joining faster as word gets round."""
    if index < FOUNDERS:
        return start + datetime.timedelta(days=index)
    share = (index - FOUNDERS + 1) / max(count - FOUNDERS, 1)
    return start + datetime.timedelta(days=7 + round((LAST_JOIN - 7) * share**0.7))


def _at(zone: ZoneInfo, day: datetime.date, index: int) -> datetime.datetime:
    """A time in office hours that differs from member to member."""
    return datetime.datetime.combine(
        day, datetime.time(9 + index * 5 % 11, index * 17 % 60), tzinfo=zone
    )


def load(*, community: Community, organiser: Membership) -> None:
    """Write the year of payments into ``community`` (see the module docstring). Call inside
    a transaction."""
    zone = ZoneInfo(community.time_zone)
    now = timezone.now()
    payers = list(
        Membership.objects.filter(community=community)
        .exclude(role__in=[Membership.Role.ORGANISER, Membership.Role.CANDIDATE])
        # the challenge winner paid with their prize (community/demo_weekly.py)
        .exclude(joined_via=Membership.JoinedVia.CHALLENGE)
        .select_related("user", "profile", "community")
        .order_by("pk")
    )
    if not payers:
        return
    recorded = {
        p.reference: p
        for p in Payment.objects.filter(community=community, reference__startswith="demo:")
    }
    first = recorded.get(f"demo:entrance:{payers[0].user.username}")
    start = (
        timezone.localtime(first.received_at, zone).date()
        if first is not None
        else timezone.localtime(now, zone).date() - datetime.timedelta(days=YEAR)
    )
    # Up to yesterday: a second run the same day finds the same payments due.
    today = timezone.localtime(now, zone).date()
    user: User = organiser.user
    for index, membership in enumerate(payers):
        username = membership.user.username
        day = joined_on(start, index, len(payers))
        method = Payment.Method.CASH if index % 5 == 4 else Payment.Method.BANK_TRANSFER
        dues = [(f"demo:entrance:{username}", Payment.Kind.ENTRANCE, ENTRANCE_FEE, day)]
        month = 1
        while day < today:
            dues.append(
                (f"demo:monthly:{username}:{month}", Payment.Kind.MONTHLY, MONTHLY_FEE, day)
            )
            day = schedules.month_after(day)
            month += 1
        dues += [
            (reference, Payment.Kind.MONTHLY, MONTHLY_FEE, dues[n][3])
            for reference, (who, n, _typed) in WRONG_RECORDS.items()
            if who == username and n and n < len(dues)
        ]
        for reference, kind, amount, paid_on in dues:
            if reference in recorded:
                continue
            typed = WRONG_RECORDS.get(reference, ("", 0, None))[2]
            recorded[reference] = services.payment_record(
                community=community,
                membership=membership,
                kind=kind,
                amount=typed or amount,
                received_at=_at(zone, paid_on, index),
                method=method,
                recorded_by=user,
                reference=reference,
            )
    for mistake in MISTAKES:
        payment = recorded.get(mistake.reference)
        if payment is None or payment.refunds.filter(note=mistake.note).exists():
            continue
        at = payment.received_at + datetime.timedelta(days=mistake.days)
        if timezone.localtime(at, zone).date() >= today:
            continue
        services.payment_reverse(
            payment=payment,
            reason=mistake.reason,
            amount=mistake.amount,
            at=at,
            recorded_by=user,
            note=mistake.note,
        )
