"""The week close (SPEC §2.5): ranking and prizes to the fen, rollover into the next week's
budget, the pipeline's idempotence and its resume after a crash, challenge entry, the
dispatcher and the close_week command."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from community import weekly
from community.models import WeekPipeline, WeekPipelineStep
from members import weeks
from members.models import Community, Membership
from questions import services as question_services
from questions import votes
from questions.models import Notification, Question
from rewards import ledger, schedules
from rewards import weekly as reward_steps
from rewards.models import Payment, Prize, Transaction, WeekClose
from tests.factories import UserFactory
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    WEEK,
    funded_community,
    questions_with_answers,
    voted_week,
)

pytestmark = pytest.mark.django_db


def _vote(voters: list[Membership], answer: Any) -> None:
    for voter in voters:
        votes.vote_cast(voter=voter, answer=answer)


def _books(community: Any) -> tuple[int, int, list[tuple[str, int]]]:
    return (
        Transaction.objects.filter(community=community).count(),
        ledger.trial_balance(community=community),
        [(a.kind + str(a.membership_id or ""), b) for a, b in ledger.balances(community=community)],
    )


@pytest.fixture
def voted(time_machine: time_machine.TimeMachineFixture) -> Any:
    """2026-W45 voted (weekly_helpers.voted_week): a reward budget of 200.00; answer 2 gets 3
    votes, answers 0 and 5 two each (0 is earlier: it wins the tie), answer 7 one."""
    return voted_week(time_machine)


def test_the_top_three_win_50_30_20_of_the_budget_ties_to_the_earlier_answer(voted: Any) -> None:
    community = voted.community
    [budget] = schedules.budgets(community=community, weeks=[W45])
    assert budget.reward_budget == 20000  # 52 entrance fees of 200.00 → 200.00 a week
    # when the week is closed
    weekly.week_close(community=community, week=W45)
    # then places follow the votes, the 2–2 tie going to the earlier answer
    prizes = list(Prize.objects.filter(week_close__community=community).order_by("place"))
    a = voted.answers
    assert [(p.place, p.answer_id, p.votes, p.amount) for p in prizes] == [
        (1, a[2].pk, 3, 10000),
        (2, a[0].pk, 2, 6000),
        (3, a[5].pk, 2, 4000),
    ]
    # credited to the winners' payable balances in one transaction from the reward fund
    for prize in prizes:
        assert ledger.member_balance(membership=prize.membership) == prize.amount
    [posted] = Transaction.objects.filter(community=community, kind=Transaction.Kind.WEEK_CLOSE)
    assert posted.idempotency_key == f"week:{community.pk}:2026-11-02:prizes"
    assert sorted(e.amount for e in posted.entries.all()) == [-10000, -6000, -4000, 20000]
    assert ledger.trial_balance(community=community) == 0
    # and nothing rolls over: the whole budget was won
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.reward_paid, close.reward_rollover_out) == (20000, 0)
    assert all(
        q.state == Question.State.CLOSED for q in Question.objects.filter(community=community)
    )


def test_places_not_won_roll_over_into_next_week_s_budget(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given a week where only one answer got a vote (and one got none)
    community, people = funded_community(time_machine)
    week = questions_with_answers(community, people, questions=1, answers=2)
    time_machine.move_to(FRIDAY_W45)
    _vote(people[40:41], week.answers[1])
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    # then one prize of 50 % and the rest rolls over
    [prize] = Prize.objects.filter(week_close__community=community)
    assert (prize.answer_id, prize.amount) == (week.answers[1].pk, 10000)
    close = WeekClose.objects.get(community=community, week=W45)
    assert (close.reward_budget, close.reward_paid, close.reward_rollover_out) == (
        20000,
        10000,
        10000,
    )
    # into the next week's budget: its own shares plus the rollover
    [next_week] = schedules.budgets(community=community, weeks=[W45 + WEEK])
    assert next_week.reward_scheduled == 20000
    assert next_week.reward_rollover_in == 10000
    assert next_week.reward_budget == 30000


def test_a_week_without_votes_pays_nothing_and_rolls_over_everything(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine)
    questions_with_answers(community, people, questions=1, answers=3)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    assert not Prize.objects.exists()
    assert not Transaction.objects.filter(kind=Transaction.Kind.WEEK_CLOSE).exists()
    close = WeekClose.objects.get(community=community, week=W45)
    assert close.reward_rollover_out == 20000
    assert close.operations_rollover_out == close.operations_budget


def test_closing_twice_changes_nothing(voted: Any) -> None:
    community = voted.community
    first = weekly.week_close(community=community, week=W45)
    books = _books(community)
    notifications = Notification.objects.count()
    again = weekly.week_close(community=community, week=W45)
    assert again.pk == first.pk
    assert again.state == WeekPipeline.State.DONE
    assert _books(community) == books
    assert Notification.objects.count() == notifications
    # and each step is recorded once, done
    steps = dict(WeekPipelineStep.objects.filter(pipeline=first).values_list("step", "state"))
    assert steps == {
        "close_questions": "done",
        "freeze_ballot": "done",
        "rank_and_award": "done",
        "challenge_entries": "done",
        "moderator_pay": "done",
        "rollover": "done",
        "digest_draft": "done",
        "notifications": "done",
    }


def test_a_crash_between_steps_resumes_where_it_stopped_and_pays_nobody_twice(
    voted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    community = voted.community

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("worker lost")

    # given the rollover step crashes after the prizes were awarded
    steps = tuple(weekly.Step(s.name, crash) if s.name == "rollover" else s for s in weekly.STEPS)
    monkeypatch.setattr(weekly, "STEPS", steps)
    with pytest.raises(weekly.WeekCloseError, match="worker lost"):
        weekly.week_close(community=community, week=W45)
    pipeline = WeekPipeline.objects.get(community=community, week=W45)
    assert pipeline.state == WeekPipeline.State.FAILED
    failed = WeekPipelineStep.objects.get(pipeline=pipeline, step="rollover")
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "worker lost" in failed.error
    assert WeekPipelineStep.objects.get(pipeline=pipeline, step="rank_and_award").state == "done"
    books = _books(community)
    assert Prize.objects.count() == 3
    # when it runs again with the step mended
    monkeypatch.undo()
    weekly.week_close(community=community, week=W45)
    # then it finished, and the prizes were posted once
    pipeline.refresh_from_db()
    assert pipeline.state == WeekPipeline.State.DONE
    assert _books(community) == books
    assert Prize.objects.count() == 3
    assert WeekClose.objects.get(community=community, week=W45).reward_rollover_out == 0
    assert WeekPipelineStep.objects.get(pipeline=pipeline, step="rollover").attempts == 2


def test_each_step_run_again_by_hand_changes_nothing(voted: Any) -> None:
    community = voted.community
    weekly.week_close(community=community, week=W45)
    books = _books(community)
    for step in weekly.STEPS:
        if step.service is not None and step.name != "notifications":
            step.service(community=community, week=W45)
    assert _books(community) == books
    assert Prize.objects.count() == 3
    assert Payment.objects.filter(method=Payment.Method.WINNINGS).count() == 0


def test_a_week_that_has_not_ended_cannot_be_closed(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people = funded_community(time_machine)
    questions_with_answers(community, people, questions=1, answers=2)
    time_machine.move_to(FRIDAY_W45)
    with pytest.raises(Exception, match="has not ended yet"):
        weekly.week_close(community=community, week=W45)
    assert not WeekPipeline.objects.exists()
    assert not WeekClose.objects.exists()
    # the command says so and exits non-zero, changing nothing
    with pytest.raises(CommandError, match="has not ended yet"):
        call_command("close_week", community.slug, "--week", "2026-W45", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No community"):
        call_command("close_week", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="2026-W48"):
        call_command("close_week", community.slug, "--week", "next", stdout=io.StringIO())
    assert not WeekPipeline.objects.exists()
    assert not WeekClose.objects.exists()
    assert not Question.objects.filter(state=Question.State.CLOSED).exists()


def test_the_command_closes_the_last_ended_week_and_those_before_it_in_order(
    voted: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = voted.community
    # two more weeks pass
    time_machine.move_to(AFTER_W45 + 2 * WEEK)
    out = io.StringIO()
    call_command("close_week", community.slug, stdout=out)
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "closed 2026-W45",
        "closed 2026-W46",
        "closed 2026-W47",
    ]
    closes = list(WeekClose.objects.filter(community=community).order_by("week"))
    # W46 and W47 had no votes: their whole budget rolled on
    assert [c.reward_rollover_in for c in closes] == [0, 0, 20000]
    assert [c.reward_rollover_out for c in closes] == [0, 20000, 40000]
    # and again: nothing to do
    out = io.StringIO()
    call_command("close_week", community.slug, stdout=out)
    assert "already closed" in out.getvalue()


def test_weeks_close_in_order(voted: Any, time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(AFTER_W45 + WEEK)
    with pytest.raises(Exception, match="Close 2026-W45 first"):
        weekly.week_close(community=voted.community, week=W45 + WEEK)


def test_the_dispatcher_closes_each_community_whose_week_ended_in_its_own_time_zone(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given two communities created in 2026-W45, one in Shanghai, one in New York
    shanghai, _people = funded_community(time_machine, members=3, slug="east")
    new_york, _people = funded_community(
        time_machine, members=3, slug="west", time_zone="America/New_York"
    )
    # (created on Monday in Shanghai, which is still Sunday of the week before in New York)
    Community.objects.filter(pk=new_york.pk).update(
        created_at=datetime.datetime(2026, 11, 3, 12, 0, tzinfo=datetime.UTC)
    )
    new_york.refresh_from_db()
    # when beat runs ten minutes after the week ended in Shanghai (still Sunday in New York)
    time_machine.move_to(AFTER_W45)
    assert weekly.weeks_dispatch() == 1
    # then Shanghai's week is closed (tasks run in-process in the tests), New York's is not
    assert weekly.is_closed(shanghai, W45)
    assert not WeekPipeline.objects.filter(community=new_york).exists()
    # and once it ended in New York too
    time_machine.move_to(datetime.datetime(2026, 11, 9, 5, 10, tzinfo=datetime.UTC))
    assert weekly.weeks_dispatch() == 1
    assert weekly.is_closed(new_york, W45)
    assert weekly.weeks_dispatch() == 0


def _challenge_week(
    traveller: time_machine.TimeMachineFixture, *, fee: int
) -> tuple[Any, list[Membership], Any]:
    """W45 (reward budget 200.00) with a challenge question a visitor answered: the
    community, its members, and the candidate's answer. The entrance fee is ``fee``."""
    community, people = funded_community(traveller)
    community.entrance_fee = fee
    community.save(update_fields=["entrance_fee"])
    week = questions_with_answers(community, people, questions=1, answers=2)
    question = week.questions[0]
    question_services.question_set_challenge(
        moderator=week.organiser, question=question, is_challenge=True
    )
    question.refresh_from_db()
    answer = question_services.challenge_answer_create(
        user=UserFactory(), question=question, body="Mine."
    )
    return community, people, answer


def test_a_winning_candidate_whose_prize_covers_the_fee_joins_and_the_fee_enters_52_shares(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given a challenge question answered by a candidate, whose answer wins first place
    # (200.00 budget: 100.00 first prize; the entrance fee is 80.00)
    community, people, answer = _challenge_week(time_machine, fee=8000)
    candidate = answer.author
    lost = question_services.challenge_answer_create(
        user=UserFactory(), question=answer.question, body="Also mine."
    )
    loser = lost.author
    time_machine.move_to(FRIDAY_W45)
    _vote(people[40:43], answer)
    time_machine.move_to(AFTER_W45)
    # when the week closes
    weekly.week_close(community=community, week=W45)
    # then the candidate is a member joined by challenge, their fee paid from the prize
    candidate.refresh_from_db()
    assert (candidate.role, candidate.status, candidate.joined_via) == (
        Membership.Role.MEMBER,
        Membership.Status.ACTIVE,
        Membership.JoinedVia.CHALLENGE,
    )
    [fee] = Payment.objects.filter(membership=candidate)
    assert (fee.kind, fee.method, fee.amount) == ("entrance", "winnings", 8000)
    assert fee.received_at == weeks.ends_at(community, W45)
    assert ledger.member_balance(membership=candidate) == 10000 - 8000
    # and the fee enters the reward fund as 52 weekly shares from the week after it was received
    shares = schedules.reward_shares(community=community)
    w46, w47 = W45 + WEEK, W45 + 2 * WEEK
    assert shares[w46] == 20000  # the fee was received in W46: its shares begin W47
    assert shares[w47] == 20000 + 154  # 8000 / 52 = 153.84…: the first 44 shares are 154
    assert (
        sum(
            s - (20000 if W45 - 4 * WEEK <= w <= W45 - 5 * WEEK + 52 * WEEK else 0)
            for w, s in shares.items()
        )
        == 8000
    )
    # the loser is invited to join, the winner told they joined
    kinds = dict(Notification.objects.filter(recipient=loser.user).values_list("kind", "data"))
    assert kinds["challenge_invited"]["fee"] == 8000
    assert Notification.objects.filter(
        recipient=candidate.user, kind=Notification.Kind.CHALLENGE_JOINED
    ).exists()
    # closing again does not charge the fee twice
    reward_steps.challenge_entries(community=community, week=W45)
    assert Payment.objects.filter(membership=candidate).count() == 1


def test_a_winning_candidate_whose_prize_is_short_keeps_it_and_is_told_the_difference(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    community, people, answer = _challenge_week(time_machine, fee=20000)
    candidate = answer.author
    time_machine.move_to(FRIDAY_W45)
    _vote(people[40:41], answer)
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    candidate.refresh_from_db()
    assert candidate.role == Membership.Role.CANDIDATE
    assert ledger.member_balance(membership=candidate) == 10000
    assert not Payment.objects.filter(membership=candidate).exists()
    [told] = Notification.objects.filter(recipient=candidate.user, kind="challenge_short")
    assert told.data["difference"] == 10000  # the fee is 200.00, the prize 100.00


def test_winners_and_runners_up_are_notified_with_place_and_amount(voted: Any) -> None:
    weekly.week_close(community=voted.community, week=W45)
    a = voted.answers
    won = {
        n.answer_id: (n.data["place"], n.data["amount"])
        for n in Notification.objects.filter(kind=Notification.Kind.PRIZE_WON)
    }
    assert won == {a[2].pk: (1, 10000), a[0].pk: (2, 6000), a[5].pk: (3, 4000)}
    runners = Notification.objects.filter(kind=Notification.Kind.RUNNER_UP)
    assert [(n.answer_id, n.data["place"]) for n in runners] == [(a[7].pk, 4)]


@given(
    budget=st.integers(min_value=-50_000, max_value=10**12),
    split=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=10),
    voted=st.integers(min_value=0, max_value=12),
)
def test_prizes_and_rollover_always_sum_to_the_budget(
    budget: int, split: list[int], voted: int
) -> None:
    winners = min(voted, len(split))
    amounts = reward_steps.prize_amounts(budget, split, winners)
    assert len(amounts) == winners
    assert all(a >= 0 for a in amounts)
    assert amounts == sorted(amounts, reverse=True) or len(set(split)) > 1
    paid = sum(amounts)
    rollover = budget - paid
    assert paid + rollover == budget
    if budget > 0 and winners == len(split):
        assert rollover == 0  # every place won: the whole budget is paid, to the fen
    if budget > 0:
        assert paid <= budget
        assert rollover >= 0


@given(
    counts=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=8),
    budget=st.integers(min_value=0, max_value=10_000_000),
)
def test_random_ballots_pay_prizes_plus_rollover_equal_to_the_budget_to_the_fen(
    counts: list[int], budget: int
) -> None:
    # a pure ranking of random tallies, then the award as the step computes it
    ranked = sorted(((n, i) for i, n in enumerate(counts) if n > 0), key=lambda t: (-t[0], t[1]))[
        :3
    ]
    amounts = reward_steps.prize_amounts(budget, [50, 30, 20], len(ranked))
    assert sum(amounts) + (budget - sum(amounts)) == budget
    if len(ranked) == 3:
        assert sum(amounts) == budget
    if ranked:
        assert amounts[0] == max(amounts)


def test_winners_are_emailed_in_their_language(
    voted: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    a = voted.answers
    first, second = a[2].author.user, a[0].author.user
    type(first).objects.filter(pk=first.pk).update(language="zh-hans")
    type(second).objects.filter(pk=second.pk).update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        weekly.week_close(community=voted.community, week=W45)
    to = {m.to[0]: m for m in mailoutbox}
    assert "¥100.00" in to[first.email].body
    assert "第 1 名" in to[first.email].subject or "第1名" in to[first.email].subject
    assert "won place 2 in 2026-W45" in to[second.email].subject
    assert "¥60.00" in to[second.email].body


def test_a_failed_close_is_tried_again_by_the_dispatcher_a_little_later(
    voted: Any, monkeypatch: pytest.MonkeyPatch, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = voted.community

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    steps = tuple(weekly.Step(s.name, crash) if s.name == "rollover" else s for s in weekly.STEPS)
    monkeypatch.setattr(weekly, "STEPS", steps)
    with pytest.raises(Exception, match="database went away"):  # the eager task raises
        weekly.weeks_dispatch()
    assert WeekPipeline.objects.get(community=community).state == WeekPipeline.State.FAILED
    # five minutes later beat leaves it alone; twenty minutes later it tries again
    time_machine.move_to(AFTER_W45 + datetime.timedelta(minutes=5))
    assert weekly.weeks_dispatch() == 0
    monkeypatch.undo()
    time_machine.move_to(AFTER_W45 + datetime.timedelta(minutes=30))
    assert weekly.weeks_dispatch() == 1
    assert weekly.is_closed(community, W45)
    assert Prize.objects.count() == 3


def test_staff_read_the_closes_prizes_and_payouts_in_the_admin(voted: Any) -> None:
    from django.test import Client

    weekly.week_close(community=voted.community, week=W45)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    pipeline = WeekPipeline.objects.get()
    close = WeekClose.objects.get()
    for url in (
        "/admin/community/weekpipeline/",
        f"/admin/community/weekpipeline/{pipeline.pk}/change/",
        "/admin/rewards/weekclose/",
        f"/admin/rewards/weekclose/{close.pk}/change/",
        "/admin/rewards/prize/",
        "/admin/rewards/payout/",
        "/admin/rewards/payoutbatch/",
        "/admin/rewards/budgetadjustment/",
        "/admin/rewards/connectedaccount/",
    ):
        assert client.get(url).status_code == 200, url
    # read-only: nothing can be added or deleted there
    assert client.get("/admin/rewards/prize/add/").status_code == 403


def test_a_candidate_who_wins_twice_pays_the_entrance_fee_once(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given a candidate whose answers to two challenge questions take first and second place
    community, people = funded_community(time_machine)
    Community.objects.filter(pk=community.pk).update(entrance_fee=3000)
    community.refresh_from_db()
    week = questions_with_answers(community, people, questions=2, answers=1)
    user = UserFactory()
    mine = []
    for question in week.questions:
        question_services.question_set_challenge(
            moderator=week.organiser, question=question, is_challenge=True
        )
        question.refresh_from_db()
        mine.append(
            question_services.challenge_answer_create(user=user, question=question, body="Mine.")
        )
    time_machine.move_to(FRIDAY_W45)
    _vote(people[40:43], mine[0])
    _vote(people[43:45], mine[1])
    time_machine.move_to(AFTER_W45)
    # when the week closes (twice)
    weekly.week_close(community=community, week=W45)
    reward_steps.challenge_entries(community=community, week=W45)
    # then one entrance fee, from the first prize
    candidate = mine[0].author
    [fee] = Payment.objects.filter(membership=candidate)
    assert (fee.amount, fee.prize.place) == (3000, 1)
    assert ledger.member_balance(membership=candidate) == 10000 + 6000 - 3000


def test_the_week_s_start_and_time_zone_are_fixed_once_a_week_is_closed(voted: Any) -> None:
    from django.core.exceptions import ValidationError

    from members import services as member_services

    community = voted.community
    organiser = voted.organiser
    member_services.community_update(
        actor=organiser, community=community, changes={"time_zone": "Asia/Tokyo"}
    )  # before any close: fine
    community.refresh_from_db()
    member_services.community_update(
        actor=organiser, community=community, changes={"time_zone": "Asia/Shanghai"}
    )
    community.refresh_from_db()
    weekly.week_close(community=community, week=W45)
    for changes in ({"week_start": 3}, {"time_zone": "Europe/London"}):
        with pytest.raises(ValidationError) as caught:
            member_services.community_update(actor=organiser, community=community, changes=changes)
        assert set(caught.value.message_dict) == set(changes)
    community.refresh_from_db()
    assert (community.week_start, community.time_zone) == (0, "Asia/Shanghai")
    # other rules still change
    member_services.community_update(
        actor=organiser, community=community, changes={"votes_per_member": 5}
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_week_at_once_pay_once(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    import threading

    from django.db import connection

    week = voted_week(time_machine, slug="twice")
    time_machine.move_to(AFTER_W45, tick=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def close() -> None:
        try:
            barrier.wait(timeout=30)
            weekly.week_close(community=week.community, week=W45)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert weekly.is_closed(week.community, W45)
    assert Prize.objects.filter(week_close__community=week.community).count() == 3
    assert (
        Transaction.objects.filter(
            community=week.community, kind=Transaction.Kind.WEEK_CLOSE
        ).count()
    ) == 1
    # each step ran once: the second worker found it done
    assert dict(WeekPipelineStep.objects.values_list("step", "attempts")) == {
        "close_questions": 1,
        "freeze_ballot": 1,
        "rank_and_award": 1,
        "challenge_entries": 1,
        "moderator_pay": 1,
        "rollover": 1,
        "digest_draft": 1,
        "notifications": 1,
    }
    assert ledger.trial_balance(community=week.community) == 0
