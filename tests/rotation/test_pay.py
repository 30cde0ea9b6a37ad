"""The moderator's KPIs and pay (SPEC §2.6): the formula to the fen, the close pipeline's
moderator-pay step (one ledger transaction, the rest rolling over, paid once), and the
organiser's review of a closed week's pay."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from community import weekly
from members.models import CommunityAuditLog, Membership
from rewards import ledger, schedules
from rewards.models import Account, BudgetAdjustment, Entry, Transaction, WeekClose
from rewards.weekly import close_key
from rotation import services
from rotation.audit import Event as RotationEvent
from rotation.models import PayAdjustment, Shift
from rotation.services import pay_for
from tests.factories import organiser_of
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    W45,
    WEEK,
    funded_community,
    questions_with_answers,
)
from tests.rotation.helpers import OPERATIONS_W45, fund_operations, rate, sign_up

pytestmark = pytest.mark.django_db
W46 = W45 + WEEK
FOUR = Decimal("4.0")


# --- The formula ----------------------------------------------------------------------------------


def _pay(**kwargs: Any) -> int:
    figures = {
        "budget": 10_000,
        "answerers": 10,
        "rating_sum": 8,
        "rating_count": 2,
        "target_answerers": 10,
        "target_quality": FOUR,
    }
    return pay_for(**{**figures, **kwargs})


def test_no_answers_pay_nothing() -> None:
    assert _pay(answerers=0, rating_sum=0, rating_count=0) == 0


def test_no_ratings_is_quality_zero_and_pays_nothing() -> None:
    assert services.quality(0, 0) == 0
    assert _pay(answerers=12, rating_sum=0, rating_count=0) == 0


def test_targets_met_or_exceeded_pay_the_whole_budget() -> None:
    assert _pay() == 10_000
    assert _pay(answerers=11, rating_sum=9, rating_count=2) == 10_000  # 4.5 of 4
    assert _pay(budget=10_001, answerers=500, rating_sum=5, rating_count=1) == 10_001


def test_partial_pay_is_floored_exactly() -> None:
    # 7 answerers of 10, quality 3.5 of 4
    expected = math.floor(Fraction(10_001) * Fraction(7, 10) * Fraction(7, 2) / Fraction(4))
    assert expected == 6125  # 6,125.6125
    assert _pay(budget=10_001, answerers=7, rating_sum=7, rating_count=2) == expected
    # exact thirds and a fraction of a fen
    assert _pay(budget=3, answerers=1, rating_sum=4, rating_count=1, target_answerers=3) == 1
    assert _pay(budget=1, answerers=9, rating_sum=8, rating_count=2) == 0  # 0.9


def test_a_budget_at_or_below_zero_pays_nothing() -> None:
    assert _pay(budget=0) == 0
    assert _pay(budget=-500) == 0


def test_a_fractional_target_quality_is_exact() -> None:
    # 10,000 × 1 × 4 / 4.25 = 9,411.76…
    assert _pay(target_quality=Decimal("4.25")) == 9411
    # 3.99 of 4.00 on 1,000,000: 997,500 exactly (no float rounding)
    assert _pay(budget=1_000_000, rating_sum=399, rating_count=100) == 997_500
    assert _pay(budget=1_000_000, rating_sum=1, rating_count=3, target_quality=Decimal("0.1")) == (
        1_000_000
    )


def test_quality_is_shown_to_two_places() -> None:
    assert services.quality_display(7, 2) == 3.5
    assert services.quality_display(10, 3) == 3.33
    assert services.quality_display(0, 0) == 0.0


# --- The close ----------------------------------------------------------------------------------


def _week_with_a_moderator(
    traveller: Any, *, ratings: tuple[int, ...] = (4, 3)
) -> tuple[Any, list[Membership]]:
    """W45 of a community with 12 members and an operations budget of 7,000; people[0] on
    duty; 2 questions, 8 answers by 7 people; the first answer rated ``ratings``."""
    community, people = funded_community(traveller, members=12)
    fund_operations(community, people[11])
    sign_up(people[:2])
    services.rotation_tick(community=community)
    week = questions_with_answers(community, people, questions=2, answers=4)
    rate(week.answers[0], people[2 : 2 + len(ratings)], ratings)
    return community, people


def _books(community: Any) -> tuple[Any, ...]:
    return (
        Transaction.objects.filter(community=community).count(),
        sorted(
            (f"{a.kind}{a.membership_id or ''}", b) for a, b in ledger.balances(community=community)
        ),
        PayAdjustment.objects.filter(shift__community=community).count(),
        BudgetAdjustment.objects.filter(community=community).count(),
        CommunityAuditLog.objects.filter(community=community).count(),
        list(
            Shift.objects.filter(community=community)
            .order_by("week")
            .values_list("week", "pay", "pay_at_close")
        ),
        list(WeekClose.objects.filter(community=community).values_list("week", "moderator_pay")),
    )


def test_the_close_pays_the_moderator_against_the_kpis(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _week_with_a_moderator(time_machine)
    moderator = people[0]
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    # the shift: KPIs, targets, budget and pay floor(7,000 × 7/10 × 3.5/4) = 4,287
    shift = Shift.objects.get(community=community, week=W45)
    assert (shift.moderator_id, shift.answerers, shift.answers) == (moderator.pk, 7, 8)
    assert (shift.rating_sum, shift.rating_count) == (7, 2)
    assert (shift.target_answerers, shift.target_quality) == (10, Decimal("4.00"))
    assert (shift.operations_budget, shift.pay_at_close, shift.pay) == (OPERATIONS_W45, 4287, 4287)
    assert shift.computed_at is not None
    # one ledger transaction, from the operations fund to the moderator's payable
    [posted] = Transaction.objects.filter(community=community, kind=Transaction.Kind.MODERATOR_PAY)
    assert posted.idempotency_key == close_key(community, W45, "moderator_pay")
    assert shift.transaction == posted
    assert sorted(
        (e.account.kind, e.account.membership_id, e.amount)
        for e in Entry.objects.filter(transaction=posted).select_related("account")
    ) == sorted(
        [
            (Account.Kind.OPERATIONS_FUND, None, 4287),
            (Account.Kind.MEMBER_PAYABLE, moderator.pk, -4287),
        ]
    )
    assert ledger.member_balance(membership=moderator) == 4287
    assert ledger.trial_balance(community=community) == 0
    # the week's close: moderator, pay, KPIs; the rest of the budget rolls over
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.moderator_id, close.moderator_pay) == (moderator.pk, 4287)
    assert close.kpis == {"answerers": 7, "answers": 8, "quality": 3.5}
    assert close.operations_budget == OPERATIONS_W45
    assert (close.operations_paid, close.operations_rollover_out) == (4287, 7000 - 4287)
    [following] = schedules.budgets(community=community, weeks=[W46])
    assert following.operations_rollover_in == 2713


def test_the_week_s_results_page_names_the_moderator_with_the_kpis_and_pay(
    time_machine: time_machine.TimeMachineFixture, client: Any
) -> None:
    community, people = _week_with_a_moderator(time_machine)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    client.force_login(people[5].user)
    page = client.get(f"/c/{community.slug}/week/2026-W45/results/").content.decode()
    handle = people[0].profile.handle
    assert f'<dd id="moderator">{handle}</dd>' in page
    assert '<dd id="kpis">7 answerers, 8 answers, quality 3.5</dd>' in page
    assert "42.87" in page  # the moderator's pay, 4,287 fen


def test_closing_twice_pays_once(time_machine: time_machine.TimeMachineFixture) -> None:
    community, people = _week_with_a_moderator(time_machine)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    books = _books(community)
    weekly.week_close(community=community, week=W45)
    services.moderator_pay(community=community, week=W45)
    assert _books(community) == books
    assert ledger.member_balance(membership=people[0]) == 4287


def test_no_ratings_pay_nothing_and_the_whole_budget_rolls_over(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = _week_with_a_moderator(time_machine, ratings=())
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    shift = Shift.objects.get(community=community, week=W45)
    assert (shift.answerers, shift.rating_count, shift.pay, shift.transaction) == (7, 0, 0, None)
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.moderator_id, close.moderator_pay) == (people[0].pk, 0)
    assert close.kpis == {"answerers": 7, "answers": 8, "quality": 0.0}
    assert close.operations_rollover_out == OPERATIONS_W45
    assert not Transaction.objects.filter(
        community=community, kind=Transaction.Kind.MODERATOR_PAY
    ).exists()
    assert ledger.member_balance(membership=people[0]) == 0


def test_a_week_without_a_moderator_rolls_its_operations_budget_over(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=12)
    fund_operations(community, people[11])
    services.rotation_tick(community=community)  # nobody on the roster
    questions_with_answers(community, people, questions=1, answers=3)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.moderator_id, close.moderator_pay) == (None, None)
    assert close.kpis == {"answerers": 3, "answers": 3, "quality": 0.0}
    assert (close.operations_paid, close.operations_rollover_out) == (0, OPERATIONS_W45)
    shift = Shift.objects.get(community=community, week=W45)
    assert (shift.moderator_id, shift.answers, shift.pay, shift.operations_budget) == (
        None,
        3,
        None,
        OPERATIONS_W45,
    )
    assert not Transaction.objects.filter(
        community=community, kind=Transaction.Kind.MODERATOR_PAY
    ).exists()


def test_a_week_the_beat_never_fixed_had_nobody_on_duty_and_pays_nobody(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=12)
    fund_operations(community, people[11])
    sign_up(people[:1])  # the beat never ran in W45
    week = questions_with_answers(community, people, questions=1, answers=4)
    rate(week.answers[1], people[1:3], (5, 5))
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    # nobody had the week's powers: it is recorded without a moderator, with its KPIs, and its
    # operations budget rolls over whole
    shift = Shift.objects.get(community=community, week=W45)
    assert (shift.moderator_id, shift.turn_id, shift.answerers, shift.pay) == (None, None, 4, None)
    assert ledger.member_balance(membership=people[0]) == 0
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.moderator_id, close.moderator_pay) == (None, None)
    assert close.operations_rollover_out == close.operations_budget == 7000
    # and the rotation begins with the week that is on now
    services.rotation_tick(community=community)
    assert Shift.objects.get(community=community, week=W45 + WEEK).moderator_id == people[0].pk


# --- The organiser's review ---------------------------------------------------------------------


@pytest.fixture
def paid(time_machine: time_machine.TimeMachineFixture) -> tuple[Any, list[Membership], Shift]:
    """W45 closed with 4,287 paid to people[0]; the clock in W46."""
    community, people = _week_with_a_moderator(time_machine)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    return community, people, Shift.objects.get(community=community, week=W45)


def _entries(transaction: Transaction) -> list[tuple[str, int]]:
    return sorted(
        (e.account.kind, e.amount)
        for e in Entry.objects.filter(transaction=transaction).select_related("account")
    )


@pytest.mark.parametrize(
    ("pay", "difference"),
    [(5000, 713), (3000, -1287), (7000, 2713), (0, -4287)],
)
def test_adjusting_the_pay_moves_the_difference_and_enters_this_week_s_budget(
    paid: Any, pay: int, difference: int
) -> None:
    community, people, shift = paid
    moderator = people[0]
    organiser = organiser_of(community)
    adjustment = services.pay_adjust(
        organiser=organiser, shift=shift, pay=pay, reason="  counted the late answers "
    )
    assert (adjustment.pay_before, adjustment.pay_after, adjustment.week) == (4287, pay, W46)
    assert (adjustment.reason, adjustment.created_by) == (
        "counted the late answers",
        organiser.user,
    )
    # the ledger: the difference between the operations fund and the moderator's payable
    assert adjustment.transaction.kind == Transaction.Kind.MODERATOR_PAY
    assert _entries(adjustment.transaction) == sorted(
        [(Account.Kind.OPERATIONS_FUND, difference), (Account.Kind.MEMBER_PAYABLE, -difference)]
    )
    assert ledger.member_balance(membership=moderator) == pay
    assert ledger.trial_balance(community=community) == 0
    # −difference enters the operations budget of the week it was adjusted in (W46)
    [entered] = BudgetAdjustment.objects.filter(community=community)
    assert (entered.week, entered.fund, entered.amount) == (
        W46,
        BudgetAdjustment.Fund.OPERATIONS,
        -difference,
    )
    assert entered.transaction == adjustment.transaction
    [w46] = schedules.budgets(community=community, weeks=[W46])
    assert w46.operations_adjustments == -difference
    assert w46.operations_budget == 7000 + 2713 - difference
    # the shift's pay is the new one; the closed week's accounts stay as the close froze them
    shift.refresh_from_db()
    assert (shift.pay_at_close, shift.pay) == (4287, pay)
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.moderator_pay, close.operations_rollover_out) == (4287, 2713)
    log = CommunityAuditLog.objects.get(
        community=community, event=RotationEvent.MODERATOR_PAY_ADJUSTED
    )
    assert (log.actor, log.membership, log.data) == (
        organiser.user,
        moderator,
        {
            "week": "2026-W45",
            "before": 4287,
            "after": pay,
            "entered_week": "2026-W46",
            "reason": "counted the late answers",
        },
    )


def test_adjusting_up_then_down_keeps_both_in_the_audit_trail(paid: Any) -> None:
    community, people, shift = paid
    organiser = organiser_of(community)
    services.pay_adjust(organiser=organiser, shift=shift, pay=6000, reason="up")
    shift.refresh_from_db()
    services.pay_adjust(organiser=organiser, shift=shift, pay=1000, reason="down")
    assert list(
        PayAdjustment.objects.filter(shift=shift)
        .order_by("pk")
        .values_list("pay_before", "pay_after", "reason")
    ) == [(4287, 6000, "up"), (6000, 1000, "down")]
    assert sorted(
        BudgetAdjustment.objects.filter(community=community).values_list("amount", flat=True)
    ) == [-1713, 5000]
    assert ledger.member_balance(membership=people[0]) == 1000


@pytest.mark.parametrize(
    ("pay", "reason", "field"),
    [
        (7001, "too much", "pay"),  # above the week's operations budget
        (-1, "below zero", "pay"),
        ("12.5", "not whole", "pay"),
        ("", "empty", "pay"),
        (5000, "", "reason"),
        (5000, "   ", "reason"),
        (5000, "x" * 501, "reason"),
        (4287, "the same", "pay"),  # unchanged
    ],
)
def test_a_bad_adjustment_is_refused_and_changes_nothing(
    paid: Any, pay: object, reason: str, field: str
) -> None:
    community, people, shift = paid
    books = _books(community)
    with pytest.raises(ValidationError) as error:
        services.pay_adjust(organiser=organiser_of(community), shift=shift, pay=pay, reason=reason)
    assert set(error.value.message_dict) == {field}
    assert _books(community) == books
    assert ledger.member_balance(membership=people[0]) == 4287


def test_a_week_not_closed_cannot_be_adjusted(
    paid: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community, _people, _shift = paid
    services.rotation_tick(community=community)  # W46 fixed, not closed
    shift = Shift.objects.get(community=community, week=W46)
    assert shift.moderator_id is not None
    books = _books(community)
    with pytest.raises(ValidationError) as error:
        services.pay_adjust(
            organiser=organiser_of(community), shift=shift, pay=100, reason="too early"
        )
    assert set(error.value.message_dict) == {"shift"}
    assert _books(community) == books


def test_a_week_without_a_moderator_cannot_be_adjusted(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine, members=12)
    fund_operations(community, people[11])
    services.rotation_tick(community=community)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    shift = Shift.objects.get(community=community, week=W45)
    books = _books(community)
    with pytest.raises(ValidationError) as error:
        services.pay_adjust(organiser=organiser_of(community), shift=shift, pay=1, reason="why")
    assert set(error.value.message_dict) == {"shift"}
    assert _books(community) == books


# --- The "digest on time" KPI ------------------------------------------------------------------


def _closed_with_digest(traveller: Any) -> tuple[Any, list[Membership], Any]:
    from questions.models import Digest

    community, people = _week_with_a_moderator(traveller)
    traveller.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    digest = Digest.objects.get(community=community, week=W45)
    assert digest.moderator_id == people[0].pk
    return community, people, digest


def _publish(digest: Any, who: Membership) -> None:
    from questions.digests import services as digests

    digests.digest_curate(digest=digest, editor=who, summary="What we learnt.")
    digests.digest_publish(digest=digest, publisher=who)


def _on_time(community: Any) -> tuple[Any, Any]:
    shift = Shift.objects.get(community=community, week=W45)
    return shift.digest_on_time, shift.digest_published_at


def test_a_digest_published_within_the_due_days_is_on_time(
    time_machine: time_machine.TimeMachineFixture, settings: Any
) -> None:
    settings.DIGEST_DUE_DAYS = 3
    community, people, digest = _closed_with_digest(time_machine)
    # nothing is recorded while the digest is a draft and not late
    assert services.shifts_digest_record(community=community) == 0
    assert _on_time(community) == (None, None)
    time_machine.move_to(AFTER_W45 + 2 * WEEK / 7)  # two days after the week's end
    _publish(digest, people[0])
    assert services.shifts_digest_record(community=community) == 1
    digest.refresh_from_db()
    assert _on_time(community) == (True, digest.published_at)
    # recorded once: a second tick changes nothing
    assert services.shifts_digest_record(community=community) == 0


def test_a_digest_not_published_by_the_due_day_is_late_and_stays_late(
    time_machine: time_machine.TimeMachineFixture, settings: Any
) -> None:
    settings.DIGEST_DUE_DAYS = 3
    community, people, digest = _closed_with_digest(time_machine)
    time_machine.move_to(AFTER_W45 + 4 * WEEK / 7)  # four days after the week's end
    assert services.shifts_digest_record(community=community) == 1
    assert _on_time(community) == (False, None)
    # published later: the time is recorded, the KPI stays late
    _publish(digest, people[0])
    assert services.shifts_digest_record(community=community) == 1
    digest.refresh_from_db()
    assert _on_time(community) == (False, digest.published_at)
