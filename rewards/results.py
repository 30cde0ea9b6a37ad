"""Reads of the weekly results (SPEC §2.5): a week's results, the archive of closed weeks, the
leaderboard and the badges on profiles. Each at a fixed number of queries whatever the data's
size; all of it frozen per closed week (prizes and the ``WeekClose`` rows never change,
except that a voided prize is shown as voided and counts for nothing)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members import weeks
from members.models import Community
from questions.models import Answer, Question, Vote
from rewards import schedules
from rewards.models import Prize, WeekClose

PUBLISHED = (Question.State.SCHEDULED, Question.State.OPEN, Question.State.CLOSED)


@dataclass
class BallotLine:
    """An answer of a closed week with its votes, in the order of the ranking."""

    place: int | None  # None: no vote
    answer: Answer
    votes: int
    prize: Prize | None = None


@dataclass
class WeekResults:
    community: Community
    week: datetime.date
    label: str
    budget: schedules.WeekBudget
    close: WeekClose | None
    prizes: list[Prize]
    lines: list[BallotLine] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.close is not None and self.close.is_closed

    @property
    def ends_at(self) -> datetime.datetime:
        return weeks.ends_at(self.community, self.week)

    @property
    def voided(self) -> int:
        """Prizes of this week voided since its close (returned to the reward fund)."""
        return sum(p.amount for p in self.prizes if p.is_voided)


def _prizes(close: WeekClose | None) -> list[Prize]:
    if close is None:
        return []
    return list(
        Prize.objects.filter(week_close=close)
        .select_related("membership__profile", "answer__question")
        .defer("answer__search_document", "answer__question__search_document")
        .order_by("place")
    )


def week_results(
    *,
    community: Community,
    week: datetime.date,
    with_ballot: bool = False,
    budget: schedules.WeekBudget | None = None,
) -> WeekResults:
    """A week's budgets, and once closed its prizes (and with ``with_ballot`` every voted
    answer with its votes). Eight queries at most; two fewer with the week's ``budget``
    already read (``schedules.budgets`` of several weeks at once)."""
    if budget is None:
        [budget] = schedules.budgets(community=community, weeks=[week])
    elif budget.week != week:
        raise ValueError("the budget of another week")
    close = budget.closed
    prizes = _prizes(close)
    results = WeekResults(
        community=community,
        week=week,
        label=weeks.label(week),
        budget=budget,
        close=close,
        prizes=prizes,
    )
    if with_ballot and results.closed:
        counts = dict(
            Vote.objects.filter(community=community, week=week)
            .values("answer")
            .annotate(n=Count("pk"))
            .values_list("answer", "n")
        )
        answers = list(
            Answer.objects.filter(pk__in=list(counts))
            .select_related("author__profile", "question")
            .only(
                "pk",
                "created_at",
                "author_id",
                "question_id",
                "question__title",
                "question__community_id",
                "author__profile__handle",
                "author__profile__community_id",
            )
        )
        answers.sort(key=lambda a: (-counts[a.pk], a.created_at, a.pk))
        by_answer = {p.answer_id: p for p in prizes}
        results.lines = [
            BallotLine(place=i, answer=a, votes=counts[a.pk], prize=by_answer.get(a.pk))
            for i, a in enumerate(answers, start=1)
        ]
    return results


def closed_weeks(*, community: Community) -> QuerySet[WeekClose]:
    """The archive: closed weeks, newest first, each with its prizes (two queries a page)."""
    return (
        WeekClose.objects.filter(community=community, closed_at__isnull=False)
        .prefetch_related(
            Prefetch(
                "prizes",
                queryset=Prize.objects.select_related("membership__profile").order_by("place"),
            )
        )
        .order_by("-week")
    )


# --- Leaderboard -------------------------------------------------------------------------------


class Period:
    MONTH = "month"
    YEAR = "year"
    ALL = "all"
    CHOICES = (
        (MONTH, gettext_lazy("This month")),
        (YEAR, gettext_lazy("This year")),
        (ALL, gettext_lazy("All time")),
    )


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    membership_id: int
    handle: str
    wins: int
    firsts: int
    amount: int
    votes: int


def period_start(community: Community, period: str) -> datetime.date | None:
    """The first day a period's weeks may start on (None: all time); ValidationError naming
    ``period`` for an unknown one. Weeks count in the period they start in."""
    today = timezone.localtime(timezone.now(), weeks._zone(community)).date()
    if period == Period.MONTH:
        return today.replace(day=1)
    if period == Period.YEAR:
        return today.replace(month=1, day=1)
    if period == Period.ALL:
        return None
    raise ValidationError({"period": _("Choose month, year or all.")}, code="invalid")


def leaderboard(*, community: Community, period: str, limit: int = 50) -> list[LeaderboardRow]:
    """Members by what they won in the period's closed weeks (voided prizes left out): the
    total amount, then the number of wins. One query."""
    start = period_start(community, period)
    prizes = Prize.objects.filter(
        week_close__community=community,
        week_close__closed_at__isnull=False,
        voided_at__isnull=True,
    )
    if start is not None:
        prizes = prizes.filter(week_close__week__gte=start)
    rows = (
        prizes.values("membership", "membership__profile__handle")
        .annotate(
            wins=Count("pk"),
            firsts=Count("pk", filter=Q(place=1)),
            amount=Sum("amount"),
            votes=Sum("votes"),
            first_win=Min("week_close__week"),
        )
        .order_by("-amount", "-wins", "-votes", "first_win", "membership")[:limit]
    )
    return [
        LeaderboardRow(
            rank=rank,
            membership_id=row["membership"],
            handle=row["membership__profile__handle"],
            wins=row["wins"],
            firsts=row["firsts"],
            amount=int(row["amount"] or 0),
            votes=int(row["votes"] or 0),
        )
        for rank, row in enumerate(rows, start=1)
    ]


# --- Badges ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    code: str
    label: str
    count: int


def badges(*, membership_id: int) -> list[Badge]:
    """The non-money rewards a member earned, from their prizes (voided ones do not count):
    best answer of the week (first place), prize-winning answer (any place), and joined by
    winning a challenge (a prize paid their entrance fee). One query."""
    totals = Prize.objects.filter(
        membership_id=membership_id, voided_at__isnull=True, week_close__closed_at__isnull=False
    ).aggregate(
        firsts=Count("pk", filter=Q(place=1)),
        wins=Count("pk"),
        entries=Count("entrance_payment"),
    )
    found = []
    if totals["firsts"]:
        found.append(Badge("best_answer", _("Best answer of the week"), totals["firsts"]))
    if totals["wins"]:
        found.append(Badge("top_answer", _("Prize-winning answer"), totals["wins"]))
    if totals["entries"]:
        found.append(Badge("challenge", _("Joined by winning a challenge"), 1))
    return found
