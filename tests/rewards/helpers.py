"""Helpers of the money tests: offline payments as an organiser records them."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from members.models import Membership
from rewards import services
from rewards.models import Payment
from tests.factories import organiser_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime.datetime(2026, 3, 4, 12, 0, tzinfo=SHANGHAI)  # Wednesday of 2026-W10


def pay(
    membership: Membership,
    kind: str = Payment.Kind.ENTRANCE,
    amount: int = 20000,
    received_at: datetime.datetime = RECEIVED,
    method: str = Payment.Method.BANK_TRANSFER,
) -> Payment:
    """An offline payment, recorded by the community's organiser."""
    return services.payment_record(
        community=membership.community,
        membership=membership,
        kind=kind,
        amount=amount,
        received_at=received_at,
        method=method,
        recorded_by=organiser_of(membership.community).user,
    )
