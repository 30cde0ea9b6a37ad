"""The funds' schedules: SPEC §2.2's worked figures, exactly, and their invariants."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import weeks
from members.models import Community, Membership
from rewards import ledger, schedules, services
from rewards.models import Account, Payment, Refund
from tests.factories import bulk_members, bulk_payments, make_community

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def _bulk_pay(members: list[Membership], kind: str, amount: int, when: datetime.datetime) -> None:
    """The fees as ``payment_record`` writes them (payments and their ledger transactions),
    in a handful of queries (tests.factories.bulk_payments) rather than a few per payment."""
    bulk_payments(members[0].community, [(m, kind, amount, when) for m in members])


def test_500_entrance_fees_in_one_week_give_36_weeks_of_1923_08_and_16_of_1923_07() -> None:
    # given 500 members paying 200.00 in the same week, a year ago
    community = make_community(slug="five-hundred", privacy_threshold=10_000)
    members = bulk_members(community, 500)
    received = weeks.start_of(community) - datetime.timedelta(days=7 * 60)
    _bulk_pay(members, Payment.Kind.ENTRANCE, 20000, _at(received + datetime.timedelta(days=2)))
    # when
    shares = schedules.reward_shares(community=community)
    # then: the 52 weeks after the week of receipt, nothing in it or after
    expected = {received + datetime.timedelta(days=7 * k): 192308 for k in range(1, 37)}
    expected |= {received + datetime.timedelta(days=7 * k): 192307 for k in range(37, 53)}
    assert shares == expected
    assert sum(shares.values()) == 500 * 20000


def test_with_52_members_a_week_s_reward_budget_is_one_entrance_fee() -> None:
    community = make_community(slug="fifty-two", privacy_threshold=10_000)
    members = bulk_members(community, 52)
    this_week = weeks.start_of(community)
    # one member a week joined over the past 52 weeks
    for k, membership in enumerate(members, start=1):
        day = this_week - datetime.timedelta(days=7 * k) + datetime.timedelta(days=3)
        _bulk_pay([membership], Payment.Kind.ENTRANCE, 20000, _at(day))
    [budget] = schedules.budgets(community=community, weeks=[this_week])
    assert budget.reward_budget == 20000


def test_500_monthly_fees_for_a_year_give_about_1153_85_a_week() -> None:
    community = make_community(slug="monthly", privacy_threshold=10_000)
    members = bulk_members(community, 500)
    start = weeks.start_of(community) - datetime.timedelta(days=400)
    day = start
    for _month in range(12):
        _bulk_pay(members, Payment.Kind.MONTHLY, 1000, _at(day))
        day = schedules.month_after(day)
    shares = schedules.operations_shares(community=community)
    assert sum(shares.values()) == 500 * 1000 * 12
    # 6,000,000.00 a year ≈ 1,153.85 a week: a week's share depends on its month's length
    # (7/31 or 7/28 of 5,000.00), so take the 52 weeks in the middle of the year
    year = sorted(shares)[1:53]
    assert abs(sum(shares[w] for w in year) / 52 - 115385) < 1154  # within 1 %
    assert all(112903 <= shares[w] <= 125000 for w in year)


def test_a_monthly_fee_is_spread_by_the_days_of_its_month_in_each_week() -> None:
    # received Tuesday 3 March 2026 (Shanghai): covers 3 March to 2 April, 31 days
    community = make_community(slug="spread")
    membership = bulk_members(community, 1)[0]
    Payment.objects.create(
        community=community, membership=membership, kind=Payment.Kind.MONTHLY,
        method=Payment.Method.CASH, amount=3100, currency="CNY",
        received_at=_at(datetime.date(2026, 3, 3)),
    )  # fmt: skip
    shares = schedules.operations_shares(community=community)
    monday = datetime.date(2026, 3, 2)
    days = [6, 7, 7, 7, 4]  # Tue–Sun, three full weeks, Mon 30 Mar – Thu 2 Apr
    assert shares == {monday + datetime.timedelta(days=7 * i): d * 100 for i, d in enumerate(days)}


def test_month_after() -> None:
    assert schedules.month_after(datetime.date(2026, 3, 3)) == datetime.date(2026, 4, 3)
    assert schedules.month_after(datetime.date(2026, 1, 31)) == datetime.date(2026, 2, 28)
    assert schedules.month_after(datetime.date(2026, 12, 15)) == datetime.date(2027, 1, 15)


def test_a_refund_enters_negatively_from_its_own_week() -> None:
    community = make_community(slug="refund-week")
    membership = bulk_members(community, 1)[0]
    received = weeks.start_of(community) - datetime.timedelta(days=70)
    payment = services.payment_record(
        community=community, membership=membership, kind=Payment.Kind.ENTRANCE, amount=5200,
        received_at=_at(received), method=Payment.Method.CASH,
    )  # fmt: skip
    refunded = received + datetime.timedelta(days=21)
    services.payment_reverse(payment=payment, reason=Refund.Reason.REFUND, at=_at(refunded))
    shares = schedules.reward_shares(community=community)
    assert sum(shares.values()) == 0
    assert shares[received + datetime.timedelta(days=7)] == 100  # before the refund: +100
    assert shares[received + datetime.timedelta(days=7 * 53)] == -100  # the refund's last share


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("pay"),
            st.sampled_from(["entrance", "monthly"]),
            st.integers(min_value=1, max_value=5_000_000),
            st.integers(min_value=0, max_value=700),
        ),
        st.tuples(
            st.just("reverse"),
            st.integers(min_value=0, max_value=50),
            st.one_of(st.none(), st.integers(min_value=1, max_value=5_000_000)),
            st.sampled_from(["refund", "dispute", "correction"]),
        ),
    ),
    min_size=1,
    max_size=25,
)


@given(sequence=ops)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_sequence_of_payments_refunds_and_reversals_keeps_the_books_straight(
    sequence: list[tuple], db: None
) -> None:
    savepoint = transaction.savepoint()
    try:
        community = Community.objects.filter(slug="random").first() or make_community(slug="random")
        membership = Membership.objects.filter(community=community).first()
        assert membership is not None
        now = timezone.now()
        payments: list[Payment] = []
        for op in sequence:
            if op[0] == "pay":
                _kind, kind, amount, days_ago = op
                payments.append(
                    services.payment_record(
                        community=community,
                        membership=membership,
                        kind=kind,
                        amount=amount,
                        received_at=now - datetime.timedelta(days=days_ago, minutes=1),
                        method=Payment.Method.BANK_TRANSFER,
                    )
                )
            elif payments:
                _kind, index, amount, reason = op
                payment = payments[index % len(payments)]
                left = services.refundable(payment)
                if left == 0:
                    continue
                services.payment_reverse(
                    payment=payment, reason=reason,
                    amount=None if amount is None else min(amount, left),
                )  # fmt: skip
        # then the books balance, in Python and in PostgreSQL's commit-time check
        assert ledger.trial_balance(community=community) == 0
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        paid = dict.fromkeys(("entrance", "monthly"), 0)
        for payment in payments:
            payment.refresh_from_db()
            paid[payment.kind] += services.refundable(payment)
        assert sum(schedules.reward_shares(community=community).values()) == paid["entrance"]
        assert sum(schedules.operations_shares(community=community).values()) == paid["monthly"]
        funds = {a.kind: b for a, b in ledger.balances(community=community)}
        assert funds.get(Account.Kind.REWARD_FUND, 0) == -paid["entrance"]
        assert funds.get(Account.Kind.OPERATIONS_FUND, 0) == -paid["monthly"]
        assert funds.get(Account.Kind.OFFLINE_CASH, 0) == paid["entrance"] + paid["monthly"]
    finally:
        transaction.savepoint_rollback(savepoint)
