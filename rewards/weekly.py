"""The money steps of a week's close (SPEC §2.5), each one step of the weekly pipeline
(community/weekly.py), each idempotent: run again, it finds what it did and does nothing.

1. ``ballot_freeze``: the week's budgets are frozen on a ``WeekClose`` row with the rules in
   force (winners, prize split) and the ballot's size. Votes cannot change after the week
   has ended (questions.votes), so the week's ``Vote`` rows are its frozen ballot.
2. ``prizes_award``: answers ranked by votes, ties to the earlier answer; answers with no
   vote never win. The top ``winners_per_week`` win their places' shares of the reward
   budget (the prize split through the allocation helper); places not won roll over. The
   prizes are credited to the winners' payable balances in one ledger transaction, keyed by
   the community, the week and the step.
3. ``challenge_entries``: a winning candidate whose prize covers the entrance fee pays it
   from the prize (an entrance payment received at the week's end, whose 52 weekly shares
   begin the week after) and becomes a member "joined by challenge".
4. ``rollover``: what the week paid (prizes; the moderator's pay, once the rotation fills
   its step) and what rolled over into the next week, stored on the ``WeekClose`` row, which
   ``schedules.budgets`` reads.
5. ``results_notify``: winners, runners-up and challenge candidates are told.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members import services as member_services
from members import weeks
from members.models import Community, Membership
from questions import lifecycle
from questions.models import Answer, Notification, Question, Vote
from questions.notifications import notify
from rewards import ledger, locks, schedules, services
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, Payment, Prize, Transaction, WeekClose
from rewards.money import allocate

PUBLISHED = (Question.State.SCHEDULED, Question.State.OPEN, Question.State.CLOSED)


def close_key(community: Community, week: datetime.date, step: str) -> str:
    """The idempotency key of what a step posts: the community, the week (its first day:
    unlike its ISO label, never shared by two weeks) and the step."""
    return f"week:{community.pk}:{week.isoformat()}:{step}"


def week_close_of(community: Community, week: datetime.date) -> WeekClose:
    found = WeekClose.objects.filter(community=community, week=week).first()
    if found is None:
        raise ValidationError(
            {"week": _("The ballot of %(week)s is not frozen yet.") % {"week": weeks.label(week)}},
            code="not_frozen",
        )
    return found


# --- 1. Freeze the ballot ------------------------------------------------------------------


def ballot_freeze(*, community: Community, week: datetime.date) -> WeekClose:
    """Freeze the ended week's budgets and rules; idempotent."""
    if not lifecycle.has_ended(community, week):
        raise ValidationError({"week": _("That week has not ended yet.")}, code="not_ended")
    existing = WeekClose.objects.filter(community=community, week=week).first()
    if existing is not None:
        return existing
    [budget] = schedules.budgets(community=community, weeks=[week])
    ballot = Answer.objects.filter(
        question__community=community, question__session__week=week, question__state__in=PUBLISHED
    )
    votes = Vote.objects.filter(community=community, week=week).aggregate(
        votes=Count("pk"), voters=Count("voter", distinct=True)
    )
    close = WeekClose(
        community=community,
        week=week,
        winners_per_week=community.winners_per_week,
        prize_split=list(community.prize_split)[: community.winners_per_week],
        ballot_answers=ballot.count(),
        ballot_votes=votes["votes"],
        ballot_voters=votes["voters"],
        reward_scheduled=budget.reward_scheduled,
        reward_late=budget.reward_late,
        reward_rollover_in=budget.reward_rollover_in,
        reward_adjustments=budget.reward_adjustments,
        operations_scheduled=budget.operations_scheduled,
        operations_late=budget.operations_late,
        operations_rollover_in=budget.operations_rollover_in,
        operations_adjustments=budget.operations_adjustments,
        frozen_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            close.save()
    except IntegrityError:  # frozen a moment ago by another worker
        return WeekClose.objects.get(community=community, week=week)
    return close


# --- 2. Rank and award ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    place: int
    answer_id: int
    author_id: int
    votes: int


def ranking(*, community: Community, week: datetime.date, limit: int | None = None) -> list[Ranked]:
    """The week's voted answers, most votes first; ties go to the earlier answer (first
    published); the first ``limit`` places only, if given. Two queries: the week's votes
    counted by answer (no join, so PostgreSQL reads only the week's votes), then the author
    and time of the answers that can place (those with at least the votes of the last
    place asked for: ties at the cut included)."""
    counts = list(
        Vote.objects.filter(community=community, week=week)
        .values("answer")
        .annotate(n=Count("pk"))
        .values_list("answer", "n")
        .order_by()
    )
    if limit is not None and limit < len(counts):
        if limit <= 0:
            return []
        cut = sorted((n for _answer, n in counts), reverse=True)[limit - 1]
        counts = [(answer, n) for answer, n in counts if n >= cut]
    answers = {
        pk: (author, created)
        for pk, author, created in Answer.objects.filter(
            pk__in=[answer for answer, _n in counts]
        ).values_list("pk", "author_id", "created_at")
    }
    ordered = sorted(counts, key=lambda row: (-row[1], answers[row[0]][1], row[0]))[:limit]
    return [
        Ranked(place=place, answer_id=answer, author_id=answers[answer][0], votes=n)
        for place, (answer, n) in enumerate(ordered, start=1)
    ]


def prize_amounts(budget: int, split: list[int], winners: int) -> list[int]:
    """The amounts of the first ``winners`` places: ``budget`` split by the prize split
    (allocation helper; the odd fen to the higher place), nothing when the budget is not
    positive. Places without a winner are not paid: they roll over."""
    if budget <= 0 or not split:
        return [0] * min(winners, len(split))
    return allocate(budget, split)[:winners]


def _payable_accounts(community: Community, memberships: set[int]) -> dict[int, Account]:
    """The members' payable accounts by membership, made where missing: ``ledger.account``
    for several members at once, in one query when they all exist, three when some do not."""

    def found() -> dict[int, Account]:
        return {
            a.membership_id: a
            for a in Account.objects.filter(
                community=community,
                kind=Account.Kind.MEMBER_PAYABLE,
                membership_id__in=memberships,
            )
            if a.membership_id is not None
        }

    accounts = found()
    missing = memberships - set(accounts)
    if missing:
        Account.objects.bulk_create(
            [
                Account(community=community, kind=Account.Kind.MEMBER_PAYABLE, membership_id=pk)
                for pk in sorted(missing)
            ],
            ignore_conflicts=True,  # made by a concurrent request a moment ago
        )
        accounts = found()
    return accounts


def prizes_award(*, community: Community, week: datetime.date) -> list[Prize]:
    """Award the week's prizes and credit them to the winners' payable balances, once."""
    close = week_close_of(community, week)
    with transaction.atomic():
        close = locks.week_close(close.pk)
        existing = list(close.prizes.order_by("place"))
        if existing or close.is_closed:
            return existing
        ranked = ranking(community=community, week=week, limit=close.winners_per_week)
        amounts = prize_amounts(close.reward_budget, list(close.prize_split), len(ranked))
        paid = [(r, amount) for r, amount in zip(ranked, amounts, strict=True) if amount > 0]
        posted = None
        if paid:
            fund = ledger.account(community=community, kind=Account.Kind.REWARD_FUND)
            payable = _payable_accounts(community, {r.author_id for r, _amount in paid})
            lines = [(fund, sum(amount for _r, amount in paid))] + [
                (payable[r.author_id], -amount) for r, amount in paid
            ]
            posted = ledger.transaction_post(
                community=community,
                kind=Transaction.Kind.WEEK_CLOSE,
                idempotency_key=close_key(community, week, "prizes"),
                description=ledger.describe(gettext_lazy("Prizes"), weeks.label(week)),
                occurred_at=weeks.ends_at(community, week),
                lines=lines,
            )
        return Prize.objects.bulk_create(
            Prize(
                week_close=close,
                place=r.place,
                answer_id=r.answer_id,
                membership_id=r.author_id,
                votes=r.votes,
                amount=amount,
                transaction=posted if amount > 0 else None,
            )
            for r, amount in zip(ranked, amounts, strict=True)
        )


# --- 3. Challenge entries ------------------------------------------------------------------


def _is_candidate(membership: Membership) -> bool:
    return (
        membership.role == Membership.Role.CANDIDATE
        and membership.status == Membership.Status.ACTIVE
    )


def challenge_entries(*, community: Community, week: datetime.date) -> list[Membership]:
    """Winning candidates whose prize covers the entrance fee pay it from the prize and
    become members (joined by challenge); a free community lets them in. Returns who
    joined. Idempotent: the payment is one per prize, and a candidate who won twice pays
    once (their membership is read afresh for each prize)."""
    close = week_close_of(community, week)
    joined = []
    fee = community.entrance_fee
    for prize in close.prizes.order_by("place"):
        membership = Membership.objects.select_related("community").get(pk=prize.membership_id)
        if prize.is_voided or not _is_candidate(membership):
            continue
        if fee == 0:
            member_services.membership_paid(membership=membership, entrance=True, actor=None)
        elif prize.amount >= fee:
            services.payment_record(
                community=community,
                membership=membership,
                kind=Payment.Kind.ENTRANCE,
                amount=fee,
                received_at=weeks.ends_at(community, week),
                method=Payment.Method.WINNINGS,
                reference=close_key(community, week, "challenge"),
                prize=prize,
            )
        else:
            continue
        joined.append(membership)
    return joined


# --- 4. Rollover ---------------------------------------------------------------------------


def rollover(*, community: Community, week: datetime.date) -> WeekClose:
    """Store what the week paid and what rolls over into the next; the week is closed."""
    close = week_close_of(community, week)
    with transaction.atomic():
        close = locks.week_close(close.pk)
        if close.is_closed:
            return close
        close.reward_paid = sum(p.amount for p in close.prizes.all())
        close.operations_paid = close.moderator_pay or 0
        close.reward_rollover_out = close.reward_budget - close.reward_paid
        close.operations_rollover_out = close.operations_budget - close.operations_paid
        close.closed_at = timezone.now()
        close.save()
        member_services.audit(
            community=community,
            event=MoneyEvent.WEEK_CLOSED,
            actor=None,
            data={
                "week": weeks.label(week),
                "reward_budget": close.reward_budget,
                "reward_paid": close.reward_paid,
                "reward_rollover_out": close.reward_rollover_out,
                "operations_budget": close.operations_budget,
                "operations_paid": close.operations_paid,
                "operations_rollover_out": close.operations_rollover_out,
            },
        )
    return close


# --- 5. Notifications ----------------------------------------------------------------------


def results_notify(*, community: Community, week: datetime.date) -> int:
    """Tell the winners (place, amount), the runners-up (the next places), and the week's
    challenge candidates (joined; or how much more joining costs; or invited to join).
    Returns how many were told. Run once by the pipeline (its step is recorded)."""
    close = week_close_of(community, week)
    label = weeks.label(week)
    prizes = list(
        close.prizes.select_related(
            "membership__user", "answer__question", "entrance_payment"
        ).order_by("place")
    )
    told = 0
    won = {p.answer_id for p in prizes}
    for prize in prizes:
        data = {
            "week": label,
            "place": prize.place,
            "votes": prize.votes,
            "amount": prize.amount,
            "currency": community.currency,
        }
        notify(
            recipient=prize.membership.user,
            kind=Notification.Kind.PRIZE_WON,
            question=prize.answer.question,
            answer=prize.answer,
            data=data,
        )
        told += 1
        if prize.membership.joined_via != Membership.JoinedVia.CHALLENGE:
            continue
        joined = hasattr(prize, "entrance_payment") or (
            community.entrance_fee == 0 and prize.membership.role == Membership.Role.MEMBER
        )
        if joined and prize.membership.role == Membership.Role.MEMBER:
            notify(
                recipient=prize.membership.user,
                kind=Notification.Kind.CHALLENGE_JOINED,
                question=prize.answer.question,
                answer=prize.answer,
                data={**data, "fee": community.entrance_fee},
            )
            told += 1
        elif prize.membership.role == Membership.Role.CANDIDATE:
            notify(
                recipient=prize.membership.user,
                kind=Notification.Kind.CHALLENGE_SHORT,
                question=prize.answer.question,
                answer=prize.answer,
                data={
                    **data,
                    "fee": community.entrance_fee,
                    "difference": community.entrance_fee - prize.amount,
                },
            )
            told += 1
    runners_up = [
        r
        for r in ranking(community=community, week=week, limit=close.winners_per_week * 2)[
            close.winners_per_week :
        ]
        if r.answer_id not in won
    ]
    answers = {
        a.pk: a
        for a in Answer.objects.filter(pk__in=[r.answer_id for r in runners_up]).select_related(
            "author__user", "question"
        )
    }
    for r in runners_up:
        answer = answers[r.answer_id]
        notify(
            recipient=answer.author.user,
            kind=Notification.Kind.RUNNER_UP,
            question=answer.question,
            answer=answer,
            data={"week": label, "place": r.place, "votes": r.votes},
        )
        told += 1
    # Candidates of the week's challenge questions who did not win: invited to join.
    invited = (
        Answer.objects.filter(
            question__community=community,
            question__session__week=week,
            question__is_challenge=True,
            author__role=Membership.Role.CANDIDATE,
            author__status=Membership.Status.ACTIVE,
        )
        .exclude(pk__in=won)
        .select_related("author__user", "question")
        .order_by("pk")
    )
    seen: set[int] = set()
    for answer in invited:
        if answer.author_id in seen:
            continue
        seen.add(answer.author_id)
        notify(
            recipient=answer.author.user,
            kind=Notification.Kind.CHALLENGE_INVITED,
            question=answer.question,
            answer=answer,
            data={"week": label, "fee": community.entrance_fee, "currency": community.currency},
        )
        told += 1
    return told
