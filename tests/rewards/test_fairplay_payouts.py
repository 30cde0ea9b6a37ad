"""Fair play and payouts by hand (SPEC §2.5): the voting-pattern report, voiding a win (the
prize back into the current week's reward budget, audited; refused once paid out), the hold
after the close, payouts never above the balance, batches and their bank file; the pages and
the §5 API, permissions both ways."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from community import weekly
from members.models import CommunityAuditLog, Membership
from rewards import fairplay, ledger, payouts, schedules
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, BudgetAdjustment, Payout, Prize, Transaction
from tests.factories import mfa_sign_in, mfa_token, organiser_of
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    WEEK,
    funded_community,
    questions_with_answers,
    vote,
    voted_week,
)

pytestmark = pytest.mark.django_db
HOLD = datetime.timedelta(hours=48)


def _first(closed: Any) -> Prize:
    return Prize.objects.get(week_close__community=closed.community, place=1)


def _books(community: Any) -> tuple[int, list[tuple[str, int]]]:
    return (
        Transaction.objects.filter(community=community).count(),
        [(f"{a.kind}{a.membership_id or ''}", b) for a, b in ledger.balances(community=community)],
    )


# --- The voting-pattern report ------------------------------------------------------------------


def test_the_report_finds_mutual_votes_one_author_voters_and_new_accounts(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    # given 12 members: answers 0 and 7 are by one author, as are 2 and 9
    community, people = funded_community(time_machine, members=12)
    week = questions_with_answers(community, people, questions=2, answers=6)
    answers = week.answers
    assert answers[2].author_id == answers[9].author_id
    a, b = answers[0].author, answers[1].author
    newcomer = people[3]  # activated two days before voting opens
    Membership.objects.filter(pk=newcomer.pk).update(
        activated_at=FRIDAY_W45 - datetime.timedelta(days=2)
    )
    time_machine.move_to(FRIDAY_W45)
    vote([a], answers[1])  # a → b
    vote([b], answers[0])  # b → a: a mutual pair
    loyal = people[1]
    vote([loyal], answers[2])
    vote([loyal], answers[9])  # both votes for one author
    vote([newcomer], answers[3])
    time_machine.move_to(AFTER_W45)
    # when the organiser reads the report
    report = fairplay.report(community=community, week=W45)
    # then each pattern is there, and nothing else
    assert [(p.first.membership_id, p.second.membership_id) for p in report.mutual_pairs] == [
        tuple(sorted((a.pk, b.pk)))
    ]
    assert [
        (r.voter.membership_id, r.author.membership_id, r.votes) for r in report.one_author_voters
    ] == [(loyal.pk, answers[2].author_id, 2)]
    assert [r.voter.membership_id for r in report.new_voters] == [newcomer.pk]
    assert (report.votes, report.voters) == (5, 4)


def test_the_fair_play_page_is_for_organisers_with_two_factors(closed: Any) -> None:
    community = closed.community
    url = reverse("rewards:fair_play", args=[community.slug, "2026-W45"])
    member = Client()
    member.force_login(closed.members[3].user)
    assert member.get(url).status_code == 403
    organiser = Client()
    mfa_sign_in(organiser, organiser_of(community).user)
    page = organiser.get(url)
    assert page.status_code == 200
    assert "Void this win" in page.content.decode()


# --- Voiding a win -------------------------------------------------------------------------------


def test_voiding_a_win_returns_the_prize_to_this_week_s_reward_budget(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    winner = prize.membership
    # one day after the close, within the hold, in 2026-W46
    time_machine.move_to(AFTER_W45 + datetime.timedelta(days=1))
    [before] = schedules.budgets(community=community, weeks=[W45 + WEEK])
    actor = organiser_of(community).user
    fairplay.prize_void(actor=actor, prize=prize, reason="a voting ring")
    prize.refresh_from_db()
    assert prize.is_voided
    assert prize.void_reason == "a voting ring"
    assert ledger.member_balance(membership=winner) == 0
    # a reversing transaction: payable +10,000, reward fund −10,000
    posted = prize.void_transaction
    assert posted.kind == Transaction.Kind.PRIZE_VOID
    assert sorted((e.account.kind, e.amount) for e in posted.entries.select_related("account")) == [
        (Account.Kind.MEMBER_PAYABLE, 10000),
        (Account.Kind.REWARD_FUND, -10000),
    ]
    assert ledger.trial_balance(community=community) == 0
    # the current week's reward budget grew by the prize
    [after] = schedules.budgets(community=community, weeks=[W45 + WEEK])
    assert after.reward_budget == before.reward_budget + 10000
    assert BudgetAdjustment.objects.get().week == W45 + WEEK
    # audited
    row = CommunityAuditLog.objects.get(event=MoneyEvent.PRIZE_VOIDED)
    assert (row.actor_id, row.data["amount"], row.data["reason"]) == (
        actor.pk,
        10000,
        "a voting ring",
    )
    # the week's results still show it, voided; the leaderboard no longer counts it
    from rewards import results

    board = results.leaderboard(community=community, period="all")
    assert winner.pk not in [r.membership_id for r in board]
    # and voiding it again is refused, changing nothing
    books = _books(community)
    with pytest.raises(ValidationError, match="voided already"):
        fairplay.prize_void(actor=actor, prize=prize, reason="again")
    assert _books(community) == books


def test_a_win_paid_out_cannot_be_voided(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    actor = organiser_of(community).user
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    payouts.payout_record(
        actor=actor,
        community=community,
        member=prize.membership_id,
        amount=10000,
        method="bank_transfer",
        reference="ICBC 123",
    )
    books = _books(community)
    with pytest.raises(ValidationError, match="paid out already"):
        fairplay.prize_void(actor=actor, prize=prize, reason="too late")
    prize.refresh_from_db()
    assert not prize.is_voided
    assert _books(community) == books


def test_void_needs_a_reason_and_an_organiser(closed: Any) -> None:
    community = closed.community
    prize = _first(closed)
    organiser = organiser_of(community)
    api = APIClient()
    token = mfa_token(api, organiser.user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    url = f"/api/v1/prizes/{prize.pk}/void/"
    response = api.post(url, {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    member = APIClient()
    member.force_authenticate(closed.members[3].user)
    assert member.post(url, {"reason": "x"}, format="json").status_code == 403
    assert not Prize.objects.filter(voided_at__isnull=False).exists()
    response = api.post(url, {"reason": "ring"}, format="json")
    assert response.status_code == 200
    assert response.json()["voided"] is True
    assert api.post(url, {"reason": "ring"}, format="json").status_code == 400
    assert api.post("/api/v1/prizes/99999/void/", {"reason": "x"}, format="json").status_code == 404


# --- Payouts by hand -----------------------------------------------------------------------------


def test_prizes_are_held_until_the_hold_ends(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    actor = organiser_of(community).user
    [payable] = [
        p for p in payouts.payables(community=community) if p.membership.pk == prize.membership_id
    ]
    assert (payable.balance, payable.held, payable.available) == (10000, 10000, 0)
    books = _books(community)
    with pytest.raises(ValidationError) as caught:
        payouts.payout_record(
            actor=actor, community=community, member=prize.membership_id, amount=100,
            method="alipay", reference="x",
        )  # fmt: skip
    assert "hold" in " ".join(caught.value.message_dict["amount"])
    assert _books(community) == books
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(minutes=1))
    payout = payouts.payout_record(
        actor=actor, community=community, member=prize.membership_id, amount=4000,
        method="alipay", reference="2026110922001",
    )  # fmt: skip
    assert payout.status == Payout.Status.PAID
    assert ledger.member_balance(membership=prize.membership) == 6000
    # payable → in transit → offline cash, each once
    keys = set(
        Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {f"payout:{payout.pk}:out", f"payout:{payout.pk}:paid"}
    balances = {a.kind: b for a, b in ledger.balances(community=community) if not a.membership_id}
    assert balances[Account.Kind.PAYOUTS_IN_TRANSIT] == 0
    assert ledger.trial_balance(community=community) == 0
    # never more than the balance
    with pytest.raises(ValidationError, match="More than the member is owed"):
        payouts.payout_record(
            actor=actor, community=community, member=prize.membership_id, amount=6001,
            method="cash",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": -5, "method": "cash"}, "amount"),
        ({"amount": 12.5, "method": "cash"}, "amount"),
        ({"amount": "100.00", "method": "cash"}, "amount"),
        ({"amount": 999999, "method": "cash"}, "amount"),
        ({"amount": 100, "method": "cheque"}, "method"),
        ({"amount": 100, "method": "cash", "member": 0}, "member"),
        ({"amount": 100, "method": "cash", "member": 999999}, "member"),
        ({"amount": 100, "method": "cash", "surprise": 1}, "surprise"),
        ({"amount": 100, "method": "stripe"}, "method"),
    ],
)
def test_a_bad_payout_is_400_naming_the_field_and_changes_nothing(
    closed: Any, time_machine: time_machine.TimeMachineFixture, body: dict[str, Any], field: str
) -> None:
    community = closed.community
    prize = _first(closed)
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser_of(community).user)}")
    books = _books(community)
    response = api.post(
        f"/api/v1/communities/{community.slug}/payouts/",
        {"member": prize.membership_id, **body},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _books(community) == books
    assert not Payout.objects.exists()


def test_the_payouts_api_lists_payables_and_records_a_payout(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {mfa_token(api, organiser_of(community).user)}")
    url = f"/api/v1/communities/{community.slug}/payouts/"
    listed = api.get(url).json()
    row = next(p for p in listed["payables"] if p["member"] == prize.membership_id)
    assert (row["balance"], row["held"], row["available"]) == (10000, 0, 10000)
    response = api.post(
        url,
        {"member": prize.membership_id, "amount": 10000, "method": "bank_transfer",
         "reference": "CMB 88"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    assert {
        k: response.json()[k] for k in ("member", "amount", "method", "reference", "status")
    } == {
        "member": prize.membership_id,
        "amount": 10000,
        "method": "bank_transfer",
        "reference": "CMB 88",
        "status": "paid",
    }
    assert api.get(url).json()["payouts"][0]["amount"] == 10000
    # members and organisers without their second factor may not
    member = APIClient()
    member.force_authenticate(closed.members[3].user)
    assert member.get(url).status_code == 403
    assert (
        member.post(url, {"member": 1, "amount": 1, "method": "cash"}, format="json").status_code
        == 403
    )


def test_a_batch_pays_everyone_or_nobody_and_gives_a_file_for_the_bank(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prizes = list(Prize.objects.filter(week_close__community=community).order_by("place"))
    actor = organiser_of(community).user
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    books = _books(community)
    with pytest.raises(ValidationError) as caught:
        payouts.payouts_batch(
            actor=actor,
            community=community,
            items=[(prizes[0].membership_id, 10000), (prizes[1].membership_id, 6001)],
            method="bank_transfer",
        )
    assert prizes[1].membership.profile.handle in " ".join(caught.value.messages)
    assert _books(community) == books
    batch = payouts.payouts_batch(
        actor=actor,
        community=community,
        items=[(p.membership_id, p.amount) for p in prizes],
        method="bank_transfer",
        reference="November prizes",
    )
    assert batch.payouts.count() == 3
    assert all(ledger.member_balance(membership=p.membership) == 0 for p in prizes)
    organiser = Client()
    mfa_sign_in(organiser, actor)
    response = organiser.get(
        reverse("rewards:payout_batch_export", args=[community.slug, batch.pk])
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["handle"], r["amount"]) for r in rows] == [
        (p.membership.profile.handle, f"{p.amount / 100:.2f}") for p in prizes
    ]
    assert all(r["name"] for r in rows)  # organisers see real names: the bank needs them


def test_the_payouts_page_pays_the_members_ticked(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    organiser = Client()
    mfa_sign_in(organiser, organiser_of(community).user)
    url = reverse("rewards:payouts", args=[community.slug])
    page = organiser.get(url)
    assert page.status_code == 200
    assert prize.membership.profile.handle in page.content.decode()
    response = organiser.post(
        url,
        {
            f"pay_{prize.membership_id}": "on",
            f"amount_{prize.membership_id}": "25.50",
            "method": "wechat_pay",
            "reference": "wx-1",
        },
    )
    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.amount, payout.method, payout.reference) == (2550, "wechat_pay", "wx-1")
    # too much: the error is shown, nothing written
    response = organiser.post(
        url,
        {
            f"pay_{prize.membership_id}": "on",
            f"amount_{prize.membership_id}": "1000",
            "method": "cash",
        },
    )
    assert response.status_code == 200
    assert "More than the member is owed" in response.content.decode()
    assert Payout.objects.count() == 1
    member = Client()
    member.force_login(closed.members[3].user)
    assert member.get(url).status_code == 403


def test_the_earnings_page_shows_won_paid_out_and_owed(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    payouts.payout_record(
        actor=organiser_of(community).user, community=community, member=prize.membership_id,
        amount=2500, method="cash",
    )  # fmt: skip
    found = payouts.earnings(membership=prize.membership)
    assert (found.won, found.paid_out, found.owed, found.held) == (10000, 2500, 7500, 0)
    client = Client()
    client.force_login(prize.membership.user)
    page = client.get(reverse("rewards:earnings", args=[community.slug])).content.decode()
    assert "¥100.00" in page
    assert "¥25.00" in page
    assert "¥75.00" in page
    api = APIClient()
    api.force_authenticate(prize.membership.user)
    data = api.get(f"/api/v1/communities/{community.slug}/earnings/").json()
    assert (data["won"], data["paid_out"], data["owed"]) == (10000, 2500, 7500)


def test_payables_and_earnings_run_a_fixed_number_of_queries(
    time_machine: time_machine.TimeMachineFixture, django_assert_max_num_queries: Any
) -> None:
    sizes = []
    for slug, questions in (("p1", 1), ("p3", 3)):
        community, people = funded_community(time_machine, members=40, slug=slug)
        week = questions_with_answers(community, people, questions=questions, answers=6)
        time_machine.move_to(FRIDAY_W45)
        for i, answer in enumerate(week.answers[:12]):
            vote([people[i // 3]], answer)
        time_machine.move_to(AFTER_W45)
        weekly.week_close(community=community, week=W45)
        sizes.append(community)
    organiser = Client()
    for community in sizes:
        mfa_sign_in(organiser, organiser_of(community).user)
        url = reverse("rewards:payouts", args=[community.slug])
        organiser.get(url)
        with django_assert_max_num_queries(16):
            assert organiser.get(url).status_code == 200


def test_a_prize_is_held_while_its_week_is_still_being_closed(
    time_machine: time_machine.TimeMachineFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a close that stopped after the prizes were credited (before its last step)
    week = voted_week(time_machine)

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("worker lost")

    steps = tuple(weekly.Step(s.name, crash) if s.name == "rollover" else s for s in weekly.STEPS)
    monkeypatch.setattr(weekly, "STEPS", steps)
    with pytest.raises(weekly.WeekCloseError):
        weekly.week_close(community=week.community, week=W45)
    prize = Prize.objects.get(week_close__community=week.community, place=1)
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=5))
    # then the prize is held: nothing can be paid out of it
    payable = payouts.payable_of(membership=prize.membership)
    assert (payable.balance, payable.held, payable.available) == (10000, 10000, 0)
    with pytest.raises(ValidationError, match="hold"):
        payouts.payout_record(
            actor=organiser_of(week.community).user, community=week.community,
            member=prize.membership_id, amount=100, method="cash",
        )  # fmt: skip


def test_a_win_cannot_be_voided_once_the_member_was_paid_since_even_if_owed_as_much_again(
    closed: Any, time_machine: time_machine.TimeMachineFixture
) -> None:
    community = closed.community
    prize = _first(closed)
    actor = organiser_of(community).user
    time_machine.move_to(AFTER_W45 + HOLD + datetime.timedelta(hours=1))
    payouts.payout_record(
        actor=actor, community=community, member=prize.membership_id, amount=10000,
        method="bank_transfer",
    )  # fmt: skip
    from tests.factories import bulk_prizes

    bulk_prizes(community, [(prize.membership, 10000, AFTER_W45 + HOLD)])  # owed again
    assert ledger.member_balance(membership=prize.membership) == 10000
    with pytest.raises(ValidationError, match="paid out already"):
        fairplay.prize_void(actor=actor, prize=prize, reason="too late")
    assert ledger.member_balance(membership=prize.membership) == 10000


@pytest.mark.parametrize("size", [2, 6])
def test_a_batch_reads_the_balances_once_whatever_its_size(
    time_machine: time_machine.TimeMachineFixture, django_assert_max_num_queries: Any, size: int
) -> None:
    from tests.factories import bulk_prizes

    community, people = funded_community(time_machine, members=12, slug=f"batch{size}")
    bulk_prizes(community, [(m, 1000, AFTER_W45) for m in people[:size]])
    actor = organiser_of(community).user
    # a fixed part, and per member only its own writes (the payout, its two postings and
    # their accounts, the audit row): the balances are read once
    with django_assert_max_num_queries(11 + 17 * size):
        payouts.payouts_batch(
            actor=actor,
            community=community,
            items=[(m.pk, 1000) for m in people[:size]],
            method="cash",
        )
    assert all(ledger.member_balance(membership=m) == 0 for m in people[:size])
