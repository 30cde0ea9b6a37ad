"""KPIs and pay of a closed week (SPEC §2.6) and the organiser's review of the pay.

Locks follow rewards.locks: the moderator's membership, then the ``WeekClose``, then the
``Shift``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members import services as member_services
from members import weeks
from members.currency import format_amount
from members.models import Community, Membership
from questions.models import Answer, Digest, Question
from rewards import ledger, locks, payouts
from rewards.models import Account, BudgetAdjustment, Transaction, WeekClose
from rewards.weekly import close_key, week_close_of
from rotation.audit import Event
from rotation.models import PayAdjustment, Shift
from rotation.services.schedule import reason_text, shifts_fix_through

PUBLISHED = (Question.State.SCHEDULED, Question.State.OPEN, Question.State.CLOSED)


# --- KPIs and pay -----------------------------------------------------------------------------


def kpis_of(community: Community, week: datetime.date) -> dict[str, int]:
    """The week's figures (SPEC §2.6): distinct answerers (members and candidates), answers,
    and the sum and count of the ratings given to those answers. One query."""
    counted = Answer.objects.filter(
        question__community=community, question__session__week=week, question__state__in=PUBLISHED
    ).aggregate(
        answers=Count("pk", distinct=True),
        answerers=Count("author_id", distinct=True),
        rating_sum=Sum("ratings__stars"),
        rating_count=Count("ratings__pk"),
    )
    return {
        name: counted[name] or 0 for name in ("answerers", "answers", "rating_sum", "rating_count")
    }


def quality(rating_sum: int, rating_count: int) -> Fraction:
    """The average rating, exactly; no ratings: 0."""
    return Fraction(rating_sum, rating_count) if rating_count else Fraction(0)


def pay_for(
    *,
    budget: int,
    answerers: int,
    rating_sum: int,
    rating_count: int,
    target_answerers: int,
    target_quality: Decimal,
) -> int:
    """``floor(budget × min(1, answerers / target) × min(1, quality / target))`` in minor
    units, with exact rational arithmetic (no float touches the money). A budget below zero
    pays nothing."""
    if budget <= 0:
        return 0
    participation = min(Fraction(1), Fraction(answerers, target_answerers))
    rated = min(Fraction(1), quality(rating_sum, rating_count) / Fraction(str(target_quality)))
    return int(budget * participation * rated // 1)


def quality_display(rating_sum: int, rating_count: int) -> float:
    """The average rating to two places, for pages and the API (never for money)."""
    return float(
        (Decimal(rating_sum) / Decimal(rating_count)).quantize(Decimal("0.01"))
        if rating_count
        else Decimal("0")
    )


def moderator_pay(*, community: Community, week: datetime.date) -> Shift | None:
    """The pipeline's moderator-pay step: fix the week's shift if it was not, compute its
    KPIs, and credit the pay to the moderator's payable (one ledger transaction keyed by the
    community, the week and the step). The rest of the operations budget rolls over (the
    rollover step reads ``WeekClose.moderator_pay``). Idempotent."""
    close = week_close_of(community, week)
    if close.kpis or close.is_closed:  # computed already
        return Shift.objects.filter(community=community, week=week).first()
    shift = (
        Shift.objects.filter(community=community, week=week)
        .select_related("moderator__profile")
        .first()
    )
    if shift is None:  # the week was never fixed (the beat was not running): fix it now
        fixed = shifts_fix_through(community=community, week=week)
        if fixed is not None:
            shift = Shift.objects.select_related("moderator__profile").get(pk=fixed.pk)
    # Inside the pipeline's own transaction (no savepoint needed: a failure rolls it all
    # back); the WeekClose lock makes a concurrent run wait, then find the KPIs computed.
    with transaction.atomic(savepoint=False):
        close = locks.week_close(close.pk)
        if close.kpis or close.is_closed:
            return shift
        figures = kpis_of(community, week)
        budget = close.operations_budget
        pay = 0
        posted = None
        if shift is not None and shift.moderator_id is not None:
            pay = pay_for(
                budget=budget,
                target_answerers=community.moderator_target_answerers,
                target_quality=community.moderator_target_quality,
                answerers=figures["answerers"],
                rating_sum=figures["rating_sum"],
                rating_count=figures["rating_count"],
            )
            if pay > 0:
                assert shift.moderator is not None  # noqa: S101 - checked above
                posted = ledger.transaction_post(
                    community=community,
                    kind=Transaction.Kind.MODERATOR_PAY,
                    idempotency_key=close_key(community, week, "moderator_pay"),
                    description=ledger.describe(
                        Transaction.Kind.MODERATOR_PAY.label,
                        weeks.label(week),
                        shift.moderator.profile.handle,
                    ),
                    occurred_at=weeks.ends_at(community, week),
                    lines=[
                        (
                            ledger.account(community=community, kind=Account.Kind.OPERATIONS_FUND),
                            pay,
                        ),
                        (
                            ledger.account(
                                community=community,
                                kind=Account.Kind.MEMBER_PAYABLE,
                                membership=shift.moderator,
                            ),
                            -pay,
                        ),
                    ],
                )
        if shift is not None:
            Shift.objects.filter(pk=shift.pk).update(
                target_answerers=community.moderator_target_answerers,
                target_quality=community.moderator_target_quality,
                operations_budget=budget,
                pay_at_close=pay if shift.moderator_id else None,
                pay=pay if shift.moderator_id else None,
                transaction=posted,
                computed_at=timezone.now(),
                **figures,
            )
        close.moderator_id = shift.moderator_id if shift is not None else None
        close.moderator_pay = pay if close.moderator_id is not None else None
        close.kpis = {
            "answerers": figures["answerers"],
            "answers": figures["answers"],
            "quality": quality_display(figures["rating_sum"], figures["rating_count"]),
        }
        close.save(update_fields=["moderator", "moderator_pay", "kpis"])
    return shift


def _new_pay(value: object, budget: int) -> int:
    if isinstance(value, bool):
        value = None
    try:
        pay = int(Decimal(str(value)))
        if Decimal(str(value)) != pay:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(
            {"pay": _("Give the pay in minor units (a whole number).")}, code="invalid"
        ) from None
    if pay < 0:
        raise ValidationError({"pay": _("Pay cannot be below zero.")}, code="negative")
    if pay > budget:
        raise ValidationError(
            {
                "pay": _("Pay cannot be more than the week's operations budget (%(budget)s).")
                % {"budget": budget}
            },
            code="above_budget",
        )
    return pay


def pay_adjust(
    *,
    organiser: Membership,
    shift: Shift,
    pay: object,
    reason: object,
    now: datetime.datetime | None = None,
) -> PayAdjustment:
    """The organiser's review: set a closed week's moderator pay (0 ≤ pay ≤ that week's
    operations budget), with a reason. The difference moves between the operations fund and
    the moderator's payable, and enters (or leaves) the operations budget of the current
    week. Refused for a week not closed, or a cut the moderator's balance no longer holds."""
    now = now or timezone.now()
    text = reason_text(reason)
    community = organiser.community
    if shift.community_id != community.pk or shift.moderator_id is None:
        raise ValidationError({"shift": _("No such shift.")}, code="invalid")
    with transaction.atomic():
        moderator = locks.membership(shift.moderator_id)
        close = WeekClose.objects.filter(community=community, week=shift.week).first()
        if close is not None:
            close = locks.week_close(close.pk)
        shift = Shift.objects.select_for_update().get(pk=shift.pk)
        if (
            close is None
            or not close.is_closed
            or shift.pay is None
            or shift.operations_budget is None
        ):
            raise ValidationError(
                {"shift": _("This week has not been closed yet.")}, code="not_closed"
            )
        new = _new_pay(pay, shift.operations_budget)
        difference = new - shift.pay
        if difference == 0:
            raise ValidationError({"pay": _("That is the pay already.")}, code="unchanged")
        if difference < 0:
            balance = ledger.member_balance(membership=moderator)
            balance -= payouts.winnings_reserved(members=[moderator.pk], now=now).get(
                moderator.pk, 0
            )
            if -difference > balance:
                raise ValidationError(
                    {
                        "pay": _(
                            "The moderator's balance holds only %(balance)s now (paid out): "
                            "the pay cannot be cut by more."
                        )
                        % {"balance": format_amount(max(balance, 0), community.currency)}
                    },
                    code="paid_out",
                )
        current = weeks.start_of(community, now)
        adjustment = PayAdjustment.objects.create(
            shift=shift,
            pay_before=shift.pay,
            pay_after=new,
            week=current,
            reason=text,
            created_by=organiser.user,
        )
        fund = ledger.account(community=community, kind=Account.Kind.OPERATIONS_FUND)
        payable = ledger.account(
            community=community, kind=Account.Kind.MEMBER_PAYABLE, membership=moderator
        )
        posted = ledger.transaction_post(
            community=community,
            kind=Transaction.Kind.MODERATOR_PAY,
            idempotency_key=f"moderator-pay-adjust:{adjustment.pk}",
            description=ledger.describe(
                gettext_lazy("Moderator pay adjusted"),
                weeks.label(shift.week),
                moderator.profile.handle,
            ),
            occurred_at=now,
            lines=[(fund, difference), (payable, -difference)],
            posted_by=organiser.user,
        )
        adjustment.transaction = posted
        adjustment.save(update_fields=["transaction"])
        BudgetAdjustment.objects.create(
            community=community,
            week=current,
            fund=BudgetAdjustment.Fund.OPERATIONS,
            amount=-difference,
            reason=text,
            transaction=posted,
            created_by=organiser.user,
        )
        shift.pay = new
        shift.save(update_fields=["pay"])
        # The closed week's own accounts (moderator_pay, operations paid, rollover) stay as
        # the close froze them: the difference belongs to the current week's budget.
        member_services.audit(
            community=community,
            event=Event.MODERATOR_PAY_ADJUSTED,
            actor=organiser.user,
            membership=moderator,
            data={
                "week": weeks.label(shift.week),
                "before": adjustment.pay_before,
                "after": new,
                "entered_week": weeks.label(current),
                "reason": text,
            },
        )
    return adjustment


def shifts_digest_record(*, community: Community, now: datetime.datetime | None = None) -> int:
    """The "digest on time" KPI (SPEC §2.6), recorded on the shifts of weeks that have ended:
    on time when the week's digest was published within DIGEST_DUE_DAYS of the week's end,
    late once that passed unpublished (and the publishing time, if it comes later). Beat
    (the rotation's tick); idempotent. Returns how many shifts changed."""
    moment = now or timezone.now()
    current = weeks.start_of(community, moment)
    open_rows = Shift.objects.filter(community=community, week__lt=current).filter(
        Q(digest_on_time__isnull=True) | Q(digest_published_at__isnull=True)
    )
    shifts = list(open_rows.order_by("week")[:60])
    if not shifts:
        return 0
    published = dict(
        Digest.objects.filter(
            community=community,
            week__in=[s.week for s in shifts],
            state=Digest.State.PUBLISHED,
        ).values_list("week", "published_at")
    )
    due_days = datetime.timedelta(days=settings.DIGEST_DUE_DAYS)
    changed = 0
    for shift in shifts:
        due = weeks.ends_at(community, shift.week) + due_days
        at = published.get(shift.week)
        if at is not None:
            on_time = shift.digest_on_time if shift.digest_on_time is False else at <= due
            values = {"digest_published_at": at, "digest_on_time": on_time}
        elif moment > due:
            values = {"digest_on_time": False}
        else:
            continue
        if any(getattr(shift, k) != v for k, v in values.items()):
            Shift.objects.filter(pk=shift.pk).update(**values)
            changed += 1
    return changed
