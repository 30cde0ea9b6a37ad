"""The demo (`manage.py demo`): what it loads, and that loading it again changes nothing.

The demo takes seconds to load, so it is loaded once per module (per xdist worker) as a
shared world (tests/worlds.py): each test reads it inside its own savepoint, rolled back
after it, and a second load runs in its test's savepoint on top of it."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client, TestCase
from django.utils import timezone

from community import demo_money, demo_questions, demo_rotation
from members import privacy, weeks
from members.models import Community, Membership, Profile, User
from questions.models import (
    Answer,
    AnswerRevision,
    Comment,
    Invitation,
    Notification,
    Question,
    Rating,
    WeekSession,
)
from rewards import ledger, schedules
from rewards.models import Account, Entry, Payment, Refund, Transaction
from rotation.models import RosterEntry, Shift, SwapRequest
from tests.factories import mfa_sign_in
from tests.worlds import fresh, settled, shared_world

pytestmark = pytest.mark.django_db

State = Question.State
OPEN_THIS_WEEK = [b for b in demo_questions.BRIEFS if b.week == 0]
ANSWERS = [a for b in demo_questions.BRIEFS for a in b.answers]
THREADS = [t for a in ANSWERS for t in a.threads]
REPLIES = [r for t in THREADS for r in t.replies]


def _demo(capture: Callable[..., Any]) -> str:
    out = StringIO()
    with capture(execute=True):  # run what the demo queues on commit: the e-mail jobs
        call_command("demo", stdout=out)
    return out.getvalue()


@dataclass
class Demo:
    """The demo as the module loaded it: what it printed and the e-mail it sent."""

    output: str
    sent: list[Any]


@pytest.fixture(scope="module")
def _demo_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[Demo]:
    with shared_world(django_db_blocker):
        already = len(mail.outbox)  # pytest-django empties it per test, not per module
        output = _demo(TestCase.captureOnCommitCallbacks)
        yield settled(Demo(output=output, sent=list(mail.outbox[already:])))


@pytest.fixture
def demo(_demo_world: Demo, db: None) -> Demo:
    """The demo, loaded (once for the module); this test's changes are rolled back after it."""
    return fresh(_demo_world)


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """What a second run must not touch, down to the timestamps."""
    return {
        "questions": list(
            Question.objects.order_by("pk").values_list(
                "pk", "title", "state", "session__week", "is_challenge", "submitted_at",
                "updated_at",
            )
        ),
        "answers": list(
            Answer.objects.order_by("pk").values_list("pk", "author", "revision", "updated_at")
        ),
        "comments": list(
            Comment.objects.order_by("pk").values_list("pk", "author", "parent", "created_at")
        ),
        "ratings": list(
            Rating.objects.order_by("pk").values_list("pk", "rater", "stars", "updated_at")
        ),
        "notifications": list(
            Notification.objects.order_by("pk").values_list("pk", "recipient", "kind", "read_at")
        ),
        "payments": list(
            Payment.objects.order_by("pk").values_list(
                "pk", "membership", "kind", "method", "amount", "received_at", "reference",
                "created_at",
            )
        ),
        "refunds": list(
            Refund.objects.order_by("pk").values_list(
                "pk", "payment", "reason", "amount", "received_at", "note", "created_at"
            )
        ),
        "transactions": list(
            Transaction.objects.order_by("pk").values_list(
                "pk", "kind", "idempotency_key", "occurred_at", "payment", "refund", "reverses",
                "posted_at",
            )
        ),
        "entries": list(
            Entry.objects.order_by("pk").values_list("pk", "transaction", "account", "amount")
        ),
    }  # fmt: skip


def test_demo_loads_twice_and_the_second_run_changes_nothing(
    demo: Demo, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # given: the demo loaded once (the module's)
    first = demo.output
    counts, snapshot = _row_counts(), _snapshot()

    # when: it is loaded again
    second = _demo(django_capture_on_commit_callbacks)

    # then: not a row more or less, nothing rewritten, the same text printed
    assert _row_counts() == counts
    assert _snapshot() == snapshot
    assert second == first
    # full links, to be opened from the terminal (`make run PORT=…` sets SITE_URL to its own)
    assert f"{settings.SITE_URL}/c/product-circle/week/" in first


def test_demo_community_has_members_an_organiser_and_a_moderator(demo: Demo) -> None:
    community = Community.objects.get(slug="product-circle")
    members = Membership.objects.filter(
        community=community, status=Membership.Status.ACTIVE
    ).exclude(role=Membership.Role.CANDIDATE)
    assert members.count() == 61 + 1  # and the challenge winner who joined
    assert members.filter(joined_via=Membership.JoinedVia.CHALLENGE).count() == 1
    candidates = Membership.objects.filter(community=community, role=Membership.Role.CANDIDATE)
    assert candidates.count() == 2  # challenge answerers who have not joined
    roles = dict(members.exclude(role=Membership.Role.MEMBER).values_list("user__email", "role"))
    assert roles == {
        "organiser@demo.example": Membership.Role.ORGANISER,
        "moderator@demo.example": Membership.Role.MODERATOR,
    }
    assert Community.objects.get(slug="writers-room").phase == "seed"


def test_demo_has_a_week_of_questions_with_answers_discussion_and_ratings(demo: Demo) -> None:
    community = Community.objects.get(slug="product-circle")
    this_week = weeks.start_of(community)

    # this week: four open questions, each with several answers
    current = Question.objects.filter(community=community, session__week=this_week)
    assert sorted(current.values_list("title", flat=True)) == sorted(
        b.title for b in OPEN_THIS_WEEK
    )
    assert len(OPEN_THIS_WEEK) == 4
    assert set(current.values_list("state", flat=True)) == {State.OPEN}
    for question in current:
        assert question.answers.count() >= 3, question.title
        assert question.needs.count() >= 2, question.title
        assert question.submitted_at <= weeks.brief_deadline(community, this_week)

    # the answers are long-form Markdown, rendered: headings, lists, bold, a table
    answers = Answer.objects.filter(question__title__in=[b.title for b in demo_questions.BRIEFS])
    assert answers.count() == len(ANSWERS) == 13
    assert AnswerRevision.objects.filter(answer__in=answers, number=1).count() == 13
    html = "".join(answers.values_list("body_html", flat=True))
    for tag in ("<h2 id=", "<h3 id=", "<ul>", "<ol>", "<strong>", "<table>", "<blockquote>"):
        assert tag in html, tag

    # threaded discussion, and ratings from several members (never one's own)
    comments = Comment.objects.filter(answer__in=answers)
    assert comments.count() == len(THREADS) + len(REPLIES) == 20
    assert comments.filter(parent__isnull=False).count() == len(REPLIES) == 9
    assert not comments.filter(parent__parent__isnull=False).exists()
    ratings = Rating.objects.filter(answer__in=answers)
    assert ratings.count() == sum(len(a.ratings) for a in ANSWERS) == 56
    assert set(ratings.values_list("stars", flat=True)) <= {1, 2, 3, 4, 5}
    assert min(a.ratings.count() for a in answers) >= 3
    assert not any(r.rater_id == r.answer.author_id for r in ratings.select_related("answer"))

    # one challenge question, published this week
    challenge = Question.objects.get(
        community=community, is_challenge=True, session__week=this_week
    )
    assert challenge.title == demo_questions.ONBOARDING_WEEK.title
    assert challenge.state == State.OPEN

    # next week: one brief scheduled; the moderators' queue: two submitted briefs
    next_week = this_week + datetime.timedelta(days=7)
    assert list(Question.objects.filter(session__week=next_week).values_list("title", "state")) == [
        (demo_questions.PRICE_RISE.title, State.SCHEDULED)
    ]
    assert sorted(
        Question.objects.filter(community=community, state=State.SUBMITTED).values_list(
            "title", flat=True
        )
    ) == sorted([demo_questions.EXCLUSIVE_DEAL.title, demo_questions.CONTENT_SPLIT.title])
    assert WeekSession.objects.get(community=community, week=this_week).announcement_html
    assert Invitation.objects.filter(question__community=community).count() == 4


def test_demo_notifies_in_the_portal_but_sends_no_email(demo: Demo) -> None:
    notifications = Notification.objects.filter(community__slug="product-circle")
    kinds = set(notifications.values_list("kind", flat=True))
    assert kinds == set(Notification.Kind.values)
    assert notifications.filter(recipient__email="member@demo.example", read_at=None).exists()
    assert not notifications.filter(emailed_at=None).exists()
    assert demo.sent == []  # what the demo sent while it loaded (mail.outbox is per test)


def test_demo_pages_show_the_week_the_queue_and_the_public_challenge(
    demo: Demo, client: Client
) -> None:
    member = Membership.objects.get(
        user__email="member@demo.example", community__slug="product-circle"
    )
    moderator = Membership.objects.get(
        user__email="moderator@demo.example", community__slug="product-circle"
    )

    client.force_login(member.user)
    page = client.get("/c/product-circle/week/").content.decode()
    for brief in [*OPEN_THIS_WEEK, demo_questions.PRICE_RISE]:
        assert brief.title in page

    client.force_login(moderator.user)
    page = client.get("/c/product-circle/briefs/").content.decode()
    assert demo_questions.EXCLUSIVE_DEAL.title in page
    assert demo_questions.CONTENT_SPLIT.title in page
    assert demo_questions.RETENTION.title not in page

    client.logout()
    challenge = Question.objects.get(title=demo_questions.ONBOARDING_WEEK.title)
    response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200
    assert challenge.title in response.content.decode()


def test_demo_week_times_are_shown_in_the_communitys_time_zone(demo: Demo, client: Client) -> None:
    community = Community.objects.get(slug="product-circle")
    this_week = weeks.start_of(community)
    next_week = this_week + datetime.timedelta(days=7)
    client.force_login(User.objects.get(email="member@demo.example"))

    page = client.get("/c/product-circle/week/").content.decode()
    assert f"{this_week:%Y-%m-%d} 00:00 – {next_week:%Y-%m-%d} 00:00 (Asia/Shanghai)" in page

    question = Question.objects.get(title=demo_questions.RETENTION.title)
    page = client.get(question.get_absolute_url()).content.decode()
    assert f"until voting closes at {next_week:%Y-%m-%d} 00:00" in page


def test_demo_has_a_year_of_payments_with_a_few_mistakes_put_right(demo: Demo) -> None:
    community = Community.objects.get(slug="product-circle")
    zone = ZoneInfo(community.time_zone)
    today = timezone.localtime(timezone.now(), zone).date()
    payers = (
        Membership.objects.filter(community=community)
        .exclude(role__in=[Membership.Role.ORGANISER, Membership.Role.CANDIDATE])
        .exclude(joined_via=Membership.JoinedVia.CHALLENGE)  # paid from a prize (below)
    )
    payments = Payment.objects.filter(community=community).exclude(method=Payment.Method.WINNINGS)

    # every member but the organiser paid the entrance fee once, on joining — over a year
    entrance = payments.filter(kind=Payment.Kind.ENTRANCE)
    assert sorted(entrance.values_list("membership", flat=True)) == sorted(
        payers.values_list("pk", flat=True)
    )
    assert payers.count() == 60
    joined = sorted(timezone.localtime(p.received_at, zone).date() for p in entrance)
    assert joined[0] == today - datetime.timedelta(days=demo_money.YEAR)
    assert (today - joined[-1]).days == demo_money.YEAR - demo_money.LAST_JOIN
    # the membership grows: people joined in every month of the year, at office hours
    assert len({(d.year, d.month) for d in joined}) >= 12
    assert {timezone.localtime(p.received_at, zone).hour for p in entrance} <= set(range(9, 20))
    assert sorted(set(entrance.values_list("amount", flat=True))) == [20000, 22000]

    # then the monthly fee every month since, up to yesterday, on the day they joined
    for membership in payers:
        day = timezone.localtime(entrance.get(membership=membership).received_at, zone).date()
        due = []
        while day < today:
            due.append(day)
            day = schedules.month_after(day)
        paid = [
            timezone.localtime(p.received_at, zone).date()
            for p in payments.filter(membership=membership, kind=Payment.Kind.MONTHLY)
            .exclude(reference__endswith=":again")
            .order_by("received_at")
        ]
        assert paid == due, membership.user.username
    monthly = payments.filter(kind=Payment.Kind.MONTHLY)
    assert set(monthly.values_list("amount", flat=True)) == {1000}
    assert 300 <= monthly.count() <= 450
    assert set(payments.values_list("method", flat=True)) == {"bank_transfer", "cash"}
    assert payments.filter(reference="").count() == 0
    assert payments.filter(recorded_by__email="organiser@demo.example").count() == payments.count()

    # a few mistakes put right, and two refunds: reversing entries, nothing deleted
    assert sorted(
        Refund.objects.filter(payment__community=community).values_list(
            "payment__reference", "reason", "amount"
        )
    ) == [
        ("demo:entrance:benc", "correction", 2000),
        ("demo:monthly:gracel:2", "refund", 500),
        ("demo:monthly:haoran:3:again", "correction", 1000),
        ("demo:monthly:jiayi:5", "refund", 1000),
    ]
    reversing = Transaction.objects.filter(community=community, kind=Transaction.Kind.REFUND)
    assert reversing.count() == 4
    assert reversing.filter(reverses__isnull=False).count() == 2  # the whole ones
    # a refunded monthly fee does not end a membership
    assert payers.filter(status=Membership.Status.ACTIVE).count() == 60

    # the books balance, to the fen: cash in = what was paid less what went back less what
    # was paid out; the reward fund = entrance fees less prizes (voided ones came back)
    paid_in = sum(payments.values_list("amount", flat=True))
    went_back = sum(Refund.objects.values_list("amount", flat=True))
    from rewards.models import Payout, Prize

    prizes = Prize.objects.filter(week_close__community=community)
    won = sum(prizes.values_list("amount", flat=True))
    voided = sum(prizes.filter(voided_at__isnull=False).values_list("amount", flat=True))
    [challenge_fee] = Payment.objects.filter(
        community=community, method=Payment.Method.WINNINGS
    ).values_list("amount", flat=True)
    paid_out = sum(Payout.objects.filter(community=community).values_list("amount", flat=True))
    assert won > 0
    assert voided > 0
    assert paid_out > 0
    balances: dict[str, int] = {}
    for account, balance in ledger.balances(community=community):
        balances[account.kind] = balances.get(account.kind, 0) + balance
    # and the operations fund paid the moderators of the past weeks (community/demo_rotation.py)
    moderator_pay = sum(
        Shift.objects.filter(community=community, pay__isnull=False).values_list("pay", flat=True)
    )
    assert moderator_pay > 0
    assert moderator_pay == sum(
        Entry.objects.filter(
            transaction__community=community,
            transaction__kind=Transaction.Kind.MODERATOR_PAY,
            account__kind=Account.Kind.OPERATIONS_FUND,
        ).values_list("amount", flat=True)
    )
    assert balances == {
        Account.Kind.OFFLINE_CASH: paid_in - went_back - paid_out,
        Account.Kind.REWARD_FUND: -60 * 20000 - challenge_fee + won - voided,
        Account.Kind.OPERATIONS_FUND: -(paid_in - went_back - 60 * 20000) + moderator_pay,
        Account.Kind.MEMBER_PAYABLE: -(won - voided - challenge_fee - paid_out) - moderator_pay,
        Account.Kind.PAYOUTS_IN_TRANSIT: 0,
    }
    assert ledger.trial_balance(community=community) == 0
    # and this week both funds have a budget
    [budget] = schedules.budgets(community=community, weeks=[weeks.start_of(community)])
    assert budget.reward_budget > 0
    assert budget.operations_budget > 0


def test_demo_organiser_sees_the_ledger_and_the_chart_members_their_own_payments(
    demo: Demo, client: Client
) -> None:
    organiser = User.objects.get(email="organiser@demo.example")
    mfa_sign_in(client, organiser)

    ledger_page = client.get("/c/product-circle/ledger/")
    assert ledger_page.status_code == 200
    assert len(ledger_page.context["page"].object_list) == 50
    statements = client.get("/c/product-circle/ledger/weeks/")
    assert statements.status_code == 200
    chart = statements.context["chart"]
    reward_fund = [float(xy.split(",")[1]) for xy in chart.series[0].points.split()]
    assert reward_fund[0] > reward_fund[-1]  # the fund grew over the half year (y runs down)
    assert client.get("/c/product-circle/payments/").status_code == 200

    member = Membership.objects.get(
        user__email="member@demo.example", community__slug="product-circle"
    )
    client.force_login(member.user)
    fund = client.get("/c/product-circle/fund/")
    assert fund.status_code == 200
    assert sorted(p.pk for p in fund.context["payments"]) == sorted(
        Payment.objects.filter(membership=member).values_list("pk", flat=True)[:50]
    )


def test_demo_has_closed_weeks_a_challenge_entry_a_voided_win_payouts_and_an_open_ballot(
    demo: Demo, client: Client
) -> None:
    from community import demo_weekly, weekly
    from questions import votes
    from rewards.models import Payout, Prize, WeekClose

    community = Community.objects.get(slug="product-circle")
    this_week = weeks.start_of(community)
    # every week since the community began here is closed, in order, with its rollover
    closes = list(WeekClose.objects.filter(community=community).order_by("week"))
    assert [c.week for c in closes] == [
        this_week - k * datetime.timedelta(days=7) for k in range(demo_weekly.PAST_WEEKS, 0, -1)
    ]
    assert weekly.first_week(community) == closes[0].week
    for before, after in itertools.pairwise(closes):
        assert after.reward_rollover_in == before.reward_rollover_out
    assert [c.reward_paid for c in closes[:2]] == [0, 0]  # the quiet weeks rolled over
    # the challenge winner joined, paying the fee from the prize
    challenger = Membership.objects.get(community=community, user__email=demo_weekly.CHALLENGER)
    assert (challenger.role, challenger.joined_via) == ("member", "challenge")
    assert Prize.objects.get(membership=challenger).entrance_payment.amount == 20000
    # one win voided, with its reason; older winners paid out by bank transfer
    [voided] = Prize.objects.filter(week_close__community=community, voided_at__isnull=False)
    assert voided.void_reason == demo_weekly.VOID_REASON
    assert Payout.objects.filter(community=community, method="bank_transfer").count() >= 5
    # this week's ballot is open, some votes cast, the demo member's three still to cast
    member = Membership.objects.get(community=community, user__email="member@demo.example")
    ballot = votes.ballot(viewer=member, community=community, week=this_week)
    assert ballot.is_open
    assert ballot.votes_left == 3
    assert ballot.answer_count >= 10
    client.force_login(member.user)
    for url in ("/c/product-circle/ballot/", "/c/product-circle/results/"):
        assert client.get(url).status_code == 200


def test_demo_has_a_moderator_rotation_with_paid_past_shifts_a_swap_and_a_console(
    demo: Demo, client: Client
) -> None:
    from community import demo_weekly

    community = Community.objects.get(slug="product-circle")
    this_week = weeks.start_of(community)
    week = datetime.timedelta(days=7)

    # five members on the roster, in order of sign-up, all before the first week was fixed
    roster = list(
        RosterEntry.objects.filter(community=community, left_at__isnull=True)
        .select_related("membership__user")
        .order_by("signed_up_at", "pk")
    )
    assert [e.membership.user.username for e in roster] == list(demo_rotation.ROSTER)
    assert len(roster) == 5
    first = this_week - demo_weekly.PAST_WEEKS * week
    assert all(e.signed_up_at < weeks.ends_at(community, first) for e in roster)

    # every past week's shift went round the roster in order; its close computed KPIs and pay
    past = list(Shift.objects.filter(community=community, week__lt=this_week).order_by("week"))
    assert [s.week for s in past] == [
        this_week - k * week for k in range(demo_weekly.PAST_WEEKS, 0, -1)
    ]
    assert [s.moderator_id for s in past] == [
        roster[k % 5].membership_id for k in range(demo_weekly.PAST_WEEKS)
    ]
    for shift in past:
        assert shift.is_computed, shift.week
        figures = (shift.answerers, shift.answers, shift.rating_count, shift.operations_budget)
        assert None not in figures, shift.week
        assert shift.pay is not None
        assert 0 <= shift.pay == shift.pay_at_close <= (shift.operations_budget or 0)
    assert (past[0].answers, past[0].pay) == (0, 0)  # the quiet first week
    assert (past[-1].answerers, past[-1].answers, past[-1].rating_count) == (3, 3, 9)
    assert any(s.pay > 0 for s in past)

    # a swap waiting: next week's moderator asked this week's for one of their later shifts
    [swap] = SwapRequest.objects.filter(community=community, state=SwapRequest.State.PENDING)
    current = Shift.objects.select_related("moderator__user").get(
        community=community, week=this_week
    )
    assert swap.requester_week == this_week + week
    assert swap.responder_id == current.moderator_id
    assert swap.responder_week > swap.requester_week

    # this week's moderator (a plain member on the roster) opens the on-duty console
    assert current.moderator is not None
    on_duty = current.moderator
    assert on_duty.user.email == "alicec@demo.example"
    assert on_duty.role == Membership.Role.MEMBER
    assert on_duty.on_duty_week == this_week
    client.force_login(on_duty.user)
    response = client.get("/c/product-circle/duty/")
    assert response.status_code == 200
    console = response.context["console"]
    assert [q.title for q in console.briefs] == [
        q.title
        for q in Question.objects.filter(community=community, state=State.SUBMITTED).order_by(
            "submitted_at", "pk"
        )
    ]
    assert len(console.briefs) == 2
    assert len(console.questions) == len(OPEN_THIS_WEEK)
    assert sum(q.invitation_count for q in console.questions) >= 2
    assert console.announcement
    page = response.content.decode()
    for section in ("duty-briefs", "duty-answerers", "duty-announcement", "duty-kpis"):
        assert f'id="{section}"' in page
    # and the swap waits for them on the roster page
    roster_page = client.get("/c/product-circle/roster/")
    assert roster_page.status_code == 200
    assert [s.pk for s in roster_page.context["roster"].incoming] == [swap.pk]


def test_demo_publishes_the_past_weeks_digests_and_leaves_the_last_one_to_curate(
    demo: Demo, client: Client
) -> None:
    from questions.models import Answer, Digest, DigestDelivery

    digests = list(Digest.objects.filter(community__slug="product-circle").order_by("week"))
    assert len(digests) >= 3
    *published, draft = digests
    assert all(d.is_published for d in published)
    assert draft.state == Digest.State.DRAFT
    # summaries in Chinese and English, the featured answers marked; no e-mail sent
    assert "本周要点" in published[0].summary
    assert "This week in brief" in published[0].summary
    assert Answer.objects.filter(question__community__slug="product-circle", featured=True).exists()
    assert not DigestDelivery.objects.exists()
    assert demo.sent == []
    # the organiser finds the draft waiting in the console of its week
    organiser = Membership.objects.get(
        user__email="organiser@demo.example", community__slug="product-circle"
    )
    client.force_login(organiser.user)
    page = client.get(f"/c/product-circle/duty/{draft.label}/").content.decode()
    assert f"/c/product-circle/digests/{draft.label}/curate/" in page
    archive = client.get("/c/product-circle/digests/").content.decode()
    assert published[-1].label in archive


def test_demo_names_no_one_through_a_shared_handle(demo: Demo) -> None:
    """Linkability (members.privacy): the demo does not model a person identified through a
    handle shown with their real name in a seed-phase community."""
    # given the demo, whose members of writers-room (seed) are all in product-circle (growth)
    seed = Community.objects.get(slug="writers-room")
    growth = Community.objects.get(slug="product-circle")
    assert (seed.phase, growth.phase) == (Community.Phase.SEED, Community.Phase.GROWTH)
    named: dict[tuple[int, str], Any] = {
        (user_id, handle.casefold()): handle
        for user_id, handle in Profile.objects.filter(community__phase=Community.Phase.SEED)
        .exclude(real_name="", company="")
        .values_list("membership__user_id", "handle")
    }
    in_both = Membership.objects.filter(community=growth, user__memberships__community=seed)
    assert in_both.count() == 10  # the organiser, the demo member and eight others

    # then no one uses in a growth community a handle shown with their name in a seed one
    shared = [
        handle
        for user_id, handle in Profile.objects.filter(
            community__phase=Community.Phase.GROWTH
        ).values_list("membership__user_id", "handle")
        if (user_id, handle.casefold()) in named
    ]
    assert shared == []
    # and no profile page would warn
    profiles = Profile.objects.select_related("community", "membership")
    assert [p.handle for p in profiles if privacy.handle_links(profile=p) is not None] == []
