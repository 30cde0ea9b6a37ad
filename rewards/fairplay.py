"""Fair play (SPEC §2.5): votes cost nothing but prizes are real money, so a ring of paid
accounts could farm the fund. Per closed week organisers see a voting-pattern report, and
may void a win, with a reason, before it is paid out: a reversing transaction returns the
prize to the reward fund, into the budget of the week in which it was voided, with an audit
row. Payouts wait a hold after the close (``Community.payout_hold_hours``, rewards.payouts)
so that this review can happen.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import services as member_services
from members import weeks
from members.currency import format_amount
from members.models import Community, Membership, Profile, User
from questions.models import Vote
from rewards import ledger, locks, payouts, services
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, BudgetAdjustment, Payout, Prize, Transaction

# Accounts that became active this long before voting opened (or later) are flagged.
NEW_ACCOUNT_WINDOW = datetime.timedelta(days=7)
MAX_REASON = 500


@dataclass(frozen=True)
class Person:
    membership_id: int
    handle: str


@dataclass(frozen=True)
class MutualPair:
    first: Person
    second: Person
    first_to_second: int  # votes the first gave the second's answers
    second_to_first: int


@dataclass(frozen=True)
class OneAuthorVoter:
    voter: Person
    author: Person
    votes: int


@dataclass(frozen=True)
class NewVoter:
    voter: Person
    activated_at: datetime.datetime
    votes: int


@dataclass
class Report:
    week: datetime.date
    label: str
    votes: int
    voters: int
    mutual_pairs: list[MutualPair] = field(default_factory=list)
    one_author_voters: list[OneAuthorVoter] = field(default_factory=list)
    new_voters: list[NewVoter] = field(default_factory=list)

    @property
    def flagged(self) -> int:
        return len(self.mutual_pairs) + len(self.one_author_voters) + len(self.new_voters)


def report(*, community: Community, week: datetime.date) -> Report:
    """The voting-pattern report of a week, in three queries whatever the number of votes:
    pairs of members who voted for each other's answers, members whose votes (two or more)
    all went to one author, and members who became active shortly before voting opened."""
    given: dict[tuple[int, int], int] = defaultdict(int)  # (voter, author) → votes
    for voter, author in Vote.objects.filter(community=community, week=week).values_list(
        "voter", "answer__author"
    ):
        given[(voter, author)] += 1
    voters = {v for v, _a in given}
    opens = weeks.voting_opens_at(community, week)
    recent = dict(
        Membership.objects.filter(
            pk__in=voters, activated_at__gte=opens - NEW_ACCOUNT_WINDOW
        ).values_list("pk", "activated_at")
    )
    people = {v for v, _a in given} | {a for _v, a in given}
    handles = dict(
        Profile.objects.filter(membership_id__in=people).values_list("membership_id", "handle")
    )

    def person(pk: int) -> Person:
        return Person(pk, handles.get(pk, "?"))

    result = Report(
        week=week,
        label=weeks.label(week),
        votes=sum(given.values()),
        voters=len(voters),
    )
    for (voter, author), n in sorted(given.items()):
        back = given.get((author, voter), 0)
        if voter < author and back:
            result.mutual_pairs.append(MutualPair(person(voter), person(author), n, back))
    authors_of: dict[int, dict[int, int]] = defaultdict(dict)
    for (voter, author), n in given.items():
        authors_of[voter][author] = n
    for voter in sorted(authors_of):
        authors = authors_of[voter]
        total = sum(authors.values())
        if len(authors) == 1 and total >= 2:
            [(author, n)] = authors.items()
            result.one_author_voters.append(OneAuthorVoter(person(voter), person(author), n))
    for voter in sorted(recent):
        activated = recent[voter]
        if activated is not None:  # the filter above rules None out
            result.new_voters.append(
                NewVoter(person(voter), activated, sum(authors_of[voter].values()))
            )
    return result


def _reason(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError({"reason": _("Say why the win is voided.")}, code="required")
    if len(text) > MAX_REASON or "\x00" in text:
        raise ValidationError(
            {"reason": _("At most %(max)d characters.") % {"max": MAX_REASON}}, code="max_length"
        )
    return text


def prize_void(
    *, actor: User, prize: Prize, reason: object, now: datetime.datetime | None = None
) -> Prize:
    """Void a win before it is paid out: the prize goes back from the winner's payable
    balance to the reward fund (a reversing transaction), into the budget of the week in
    which it is voided; an audit row says who and why. Refused — changing nothing — for a
    prize already voided, one that paid a challenge entrant's entrance fee, or one the
    winner's balance no longer holds (paid out)."""
    text = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        winner = locks.membership(prize.membership_id)
        locked = locks.prize(prize.pk)
        community = locked.week_close.community
        if locked.is_voided:
            raise ValidationError({"prize": _("This win was voided already.")}, code="voided")
        if not locked.week_close.is_closed:
            raise ValidationError(
                {"prize": _("The week is still being closed; try again in a minute.")},
                code="closing",
            )
        entrance = getattr(locked, "entrance_payment", None)
        if entrance is not None and services.refundable(entrance) > 0:
            raise ValidationError(
                {
                    "prize": _(
                        "This prize paid the winner's entrance fee (they joined by challenge): "
                        "reverse that payment first."
                    )
                },
                code="paid_entrance",
            )
        balance = ledger.member_balance(membership=winner)
        balance -= payouts.winnings_reserved(members=[winner.pk], now=now).get(winner.pk, 0)
        paid_since = Payout.objects.filter(
            membership=winner, created_at__gte=locked.week_close.closed_at
        ).exclude(status__in=[Payout.Status.FAILED, Payout.Status.REVERSED])
        if locked.amount > balance or paid_since.exists():
            raise ValidationError(
                {
                    "prize": _(
                        "This prize has been paid out already (the member is owed %(balance)s "
                        "now): it can no longer be voided."
                    )
                    % {"balance": format_amount(max(balance, 0), community.currency)}
                },
                code="paid_out",
            )
        week = weeks.start_of(community, now)
        posted = None
        if locked.amount:
            posted = ledger.transaction_post(
                community=community,
                kind=Transaction.Kind.PRIZE_VOID,
                idempotency_key=f"prize-void:{locked.pk}",
                description=ledger.describe(
                    Transaction.Kind.PRIZE_VOID.label,
                    weeks.label(locked.week_close.week),
                    f"#{locked.place}",
                    winner.profile.handle,
                ),
                occurred_at=now,
                lines=[
                    (
                        ledger.account(
                            community=community,
                            kind=Account.Kind.MEMBER_PAYABLE,
                            membership=winner,
                        ),
                        locked.amount,
                    ),
                    (
                        ledger.account(community=community, kind=Account.Kind.REWARD_FUND),
                        -locked.amount,
                    ),
                ],
                posted_by=actor,
            )
            BudgetAdjustment.objects.create(
                community=community,
                week=week,
                fund=BudgetAdjustment.Fund.REWARD,
                amount=locked.amount,
                reason=text,
                transaction=posted,
                created_by=actor,
            )
        locked.voided_at, locked.void_reason, locked.voided_by = now, text, actor
        locked.void_transaction = posted
        locked.save(update_fields=["voided_at", "void_reason", "voided_by", "void_transaction"])
        member_services.audit(
            community=community,
            event=MoneyEvent.PRIZE_VOIDED,
            actor=actor,
            membership=winner,
            data={
                "prize": locked.pk,
                "week": weeks.label(locked.week_close.week),
                "place": locked.place,
                "amount": locked.amount,
                "reason": text,
                "returned_to_week": weeks.label(week),
            },
        )
    return locked
