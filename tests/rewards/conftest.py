"""Fixtures of the money tests: a small set of books (a payment of each kind, a correction,
a prize)."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from members.models import Membership
from rewards import services
from rewards.models import Payment, Refund, Transaction
from tests.factories import bulk_prizes, organiser_of
from tests.rewards.helpers import SHANGHAI, pay
from tests.rewards.weekly_helpers import W45, Week, voted_week


@pytest.fixture
def books(member: Membership, moderator: Membership) -> dict[str, Transaction]:
    """An entrance fee in 2026-W10; a monthly fee, a partial correction and a prize in W19."""
    entrance = pay(member)
    monthly = pay(
        moderator, Payment.Kind.MONTHLY, 1000, datetime.datetime(2026, 5, 6, 9, 30, tzinfo=SHANGHAI)
    )
    correction = services.payment_reverse(
        payment=entrance,
        reason=Refund.Reason.CORRECTION,
        amount=5000,
        at=datetime.datetime(2026, 5, 7, 18, 0, tzinfo=SHANGHAI),
        note="typed 200 for 150",
        recorded_by=organiser_of(member.community).user,
    )
    bulk_prizes(
        member.community,
        [(moderator, 3000, datetime.datetime(2026, 5, 10, 23, 0, tzinfo=SHANGHAI))],
    )
    return {
        "entrance": Transaction.objects.get(payment=entrance),
        "monthly": Transaction.objects.get(payment=monthly),
        "correction": Transaction.objects.get(refund=correction),
        "prize": Transaction.objects.get(kind=Transaction.Kind.WEEK_CLOSE),
    }


@pytest.fixture
def closed(time_machine: time_machine.TimeMachineFixture) -> Week:
    """2026-W45 voted (tests.rewards.weekly_helpers.voted_week) and closed: prizes of
    100.00, 60.00 and 40.00; the clock just after the week's end."""
    from community import weekly

    week = voted_week(time_machine)
    weekly.week_close(community=week.community, week=W45)
    return week
