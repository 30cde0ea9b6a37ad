"""The weekly cycle in the browser: a member votes on the week's ballot (votes, a second vote,
withdraws one; their own answer offers no button); after the week ends and is closed, an
organiser signs in with password and authenticator code, reads the week's results, finds the
mutual-voting pair in the fair-play report and voids that win, then — once the hold is over —
pays the two remaining winners in one bank-transfer batch and downloads its CSV for the bank.
Each step is checked on the page and in the database.

Time: the builders travel with time-machine, which patches the clock of the whole process, so
the live server (a thread of this process) sees the same moved, still ticking clock as the test:
the week is built on its Monday, voted on its Friday, closed just after it ends, and paid out
after the 48-hour hold. The clock only ever moves forward, and only between browser phases.

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from community import weekly
from members.models import Community, CommunityAuditLog, Membership
from questions.models import Answer, Vote
from rewards import ledger
from rewards.audit import Event as MoneyEvent
from rewards.models import Account, Payout, PayoutBatch, Prize, Transaction
from tests.factories import PASSWORD, organiser_of, totp_activate, totp_code
from tests.rewards.weekly_helpers import (
    AFTER_W45,
    FRIDAY_W45,
    W45,
    funded_community,
    questions_with_answers,
    vote,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LABEL = "2026-W45"
AFTER_HOLD = AFTER_W45 + datetime.timedelta(hours=49)  # the 48-hour payout hold is over
REASON = "互投刷票 — a ring voting for each other"
REFERENCE = "ICBC 2026-11-11 批量转账"


@dataclass(frozen=True)
class Ballot:
    community: Community
    organiser: Membership
    secret: str  # the organiser's authenticator app
    voter: Membership  # votes in the browser
    own: Answer  # the voter's own answer
    first: Answer  # the two answers the voter votes for (and withdraws the first vote)
    second: Answer
    ring: tuple[Membership, Membership]  # voted for each other's answers
    answers: list[Answer]


def _handle(membership: Membership) -> str:
    return str(membership.profile.handle)


@pytest.fixture
def ballot(time_machine: time_machine.TimeMachineFixture) -> Ballot:
    """2026-W45 of a community of 52 members whose weekly reward budget is 200.00: two
    questions with four answers each (answers 0…7 by members 5…12), and on Friday, with
    voting open, the votes of ten other members — members 7 and 10 vote for each other's
    answers. The clock is left on that Friday, ticking."""
    community, people = funded_community(time_machine, members=52, slug="weekly-e2e")
    week = questions_with_answers(community, people, questions=2, answers=4)
    a = week.answers
    assert [answer.author_id for answer in a] == [p.pk for p in people[5:13]]
    time_machine.move_to(FRIDAY_W45)
    vote(people[40:43], a[2])
    vote([people[10]], a[2])  # member 10 → member 7
    vote([people[7]], a[5])  # member 7 → member 10
    vote([people[43]], a[5])
    vote(people[44:46], a[0])
    voter = people[6]  # the author of answer 1
    # bulk-made members have no e-mail address on record; signing in needs a verified one
    EmailAddress.objects.create(
        user=voter.user, email=voter.user.email, primary=True, verified=True
    )
    organiser = organiser_of(community)
    return Ballot(
        community=community,
        organiser=organiser,
        secret=totp_activate(organiser.user),
        voter=voter,
        own=a[1],
        first=a[4],
        second=a[0],
        ring=(people[7], people[10]),
        answers=a,
    )


def _sign_in(page: Page, base: str, email: str, secret: str | None = None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if secret is not None:
        # allauth asks for the authenticator code after the password
        expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
        page.locator("input[name=code]").fill(totp_code(secret))
        page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="My communities")).to_be_visible()


def _money(amount: int) -> str:
    return f"¥{amount / 100:,.2f}"


def test_member_votes_then_organiser_closes_reviews_voids_and_pays_out(
    page: Page,
    live_server: Any,
    ballot: Ballot,
    artifacts: Path,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    base = str(live_server)
    community = ballot.community
    slug = community.slug
    voter = ballot.voter

    # --- 1. On Friday, voting open: a member votes on the ballot page --------------------------
    _sign_in(page, base, voter.user.email)
    page.goto(f"{base}/c/{slug}/ballot/")
    expect(page.locator("section.ballot-head h1")).to_have_text(f"The week's ballot · {LABEL}")
    votes_left = page.locator("section.ballot-head .votes-left strong")
    expect(votes_left).to_have_text("3 votes left")
    expect(page.locator("li.ballot-answer")).to_have_count(8)

    # their own answer is marked, and offers no button to vote (nor to withdraw)
    own = page.locator(f"#ballot-answer-{ballot.own.pk}")
    expect(own.locator(".badge")).to_have_text("your answer")
    expect(own.get_by_role("button")).to_have_count(0)
    # every other answer offers a vote
    expect(page.get_by_role("button", name="Vote for this answer")).to_have_count(7)

    # when: they vote for an answer
    first = page.locator(f"#ballot-answer-{ballot.first.pk}")
    first.get_by_role("button", name="Vote for this answer").click()
    # then: said at that answer, without a page reload (static/js/actions.js), marked as
    # their vote, 2 votes left
    expect(first.locator(".action-status")).to_have_text(
        "Your vote is cast. You have 2 votes left this week."
    )
    expect(page).to_have_url(f"{base}/c/{slug}/ballot/")
    expect(votes_left).to_have_text("2 votes left")
    expect(first).to_have_class("ballot-answer voted")
    expect(first.locator(".badge.voted")).to_have_text("✓ your vote")
    expect(first.get_by_role("button")).to_have_text("Withdraw vote")
    assert list(Vote.objects.filter(voter=voter).values_list("answer", flat=True)) == [
        ballot.first.pk
    ]

    # when: they vote for a second answer
    second = page.locator(f"#ballot-answer-{ballot.second.pk}")
    second.get_by_role("button", name="Vote for this answer").click()
    expect(second.locator(".action-status")).to_have_text(
        "Your vote is cast. You have 1 vote left this week."
    )
    expect(votes_left).to_have_text("1 vote left")
    expect(page.get_by_role("button", name="Withdraw vote")).to_have_count(2)
    assert sorted(Vote.objects.filter(voter=voter).values_list("answer", flat=True)) == sorted(
        [ballot.first.pk, ballot.second.pk]
    )

    # when: they withdraw the first vote
    first.get_by_role("button", name="Withdraw vote").click()
    expect(first.locator(".action-status")).to_have_text(
        "Vote withdrawn. You have 2 votes left this week."
    )
    expect(votes_left).to_have_text("2 votes left")
    expect(first).to_have_class("ballot-answer")
    expect(first.get_by_role("button")).to_have_text("Vote for this answer")
    expect(second.locator(".badge.voted")).to_have_text("✓ your vote")
    expect(own.get_by_role("button")).to_have_count(0)
    page.screenshot(path=artifacts / "weekly-01-ballot.png", full_page=True)
    assert list(Vote.objects.filter(voter=voter).values_list("answer", flat=True)) == [
        ballot.second.pk
    ]
    assert not Vote.objects.filter(answer=ballot.own).exists()
    assert Vote.objects.filter(answer__question__community=community).count() == 9
    page.context.clear_cookies()

    # --- 2. The week ends and is closed -------------------------------------------------------
    time_machine.move_to(AFTER_W45)
    weekly.week_close(community=community, week=W45)
    a = ballot.answers
    prizes = list(
        Prize.objects.filter(week_close__community=community)
        .select_related("membership__profile")
        .order_by("place")
    )
    # 50/30/20 of the 200.00 budget; answer 0 (3 votes, the member's among them) is second
    assert [(p.place, p.answer_id, p.membership_id, p.votes, p.amount) for p in prizes] == [
        (1, a[2].pk, a[2].author_id, 4, 10000),
        (2, a[0].pk, a[0].author_id, 3, 6000),
        (3, a[5].pk, a[5].author_id, 2, 4000),
    ]

    # --- 3. The organiser reads the week's results --------------------------------------------
    _sign_in(page, base, ballot.organiser.user.email, ballot.secret)
    page.goto(f"{base}/c/{slug}/week/{LABEL}/results/")
    expect(page.locator("section.results h1")).to_have_text(f"Results · {LABEL}")
    winners = page.locator("#winners tbody tr")
    expect(winners).to_have_count(3)
    for row, prize in zip(winners.all(), prizes, strict=True):
        expect(row.locator("td")).to_have_text(
            [
                str(prize.place),
                _handle(prize.membership),
                prize.answer.question.title,
                str(prize.votes),
                _money(prize.amount),
            ]
        )
    expect(page.locator("#reward-budget")).to_have_text("¥200.00")
    expect(page.locator("#ballot-results tbody tr")).to_have_count(3)
    page.screenshot(path=artifacts / "weekly-02-results.png", full_page=True)

    # --- 4. The fair-play report: the mutual pair, and its winner's prize voided ----------------
    page.get_by_role("link", name="Fair-play review").click()
    expect(page).to_have_url(f"{base}/c/{slug}/week/{LABEL}/fair-play/")
    one, other = ballot.ring
    expect(page.locator("#mutual-pairs li")).to_have_text(
        [f"{_handle(one)} ⇄ {_handle(other)} (1 / 1)"]
    )
    expect(page.get_by_text("9 votes from 9 members.")).to_be_visible()
    ringleader = prizes[0]
    assert ringleader.membership_id == one.pk
    entry = page.locator(f"#prize-{ringleader.pk}")
    expect(entry.locator("strong")).to_have_text(f"1. {_handle(one)}")
    entry.get_by_text("Void this win").click()
    entry.get_by_label("Why is this win voided?").fill(REASON)
    entry.get_by_role("button", name="Void the win").click()

    expect(page.locator("ul.messages li.success")).to_have_text(
        "The win is voided; the prize is back in this week's reward budget."
    )
    expect(entry.locator(".badge")).to_have_text("voided")
    expect(entry).to_contain_text(REASON)
    expect(entry.get_by_text("Void this win")).to_have_count(0)
    # the other two wins can still be voided
    expect(page.locator("#prizes summary")).to_have_count(2)
    page.screenshot(path=artifacts / "weekly-03-fair-play.png", full_page=True)

    ringleader.refresh_from_db()
    assert ringleader.is_voided
    assert ringleader.void_reason == REASON
    reversal = ringleader.void_transaction
    assert reversal is not None
    assert reversal.kind == Transaction.Kind.PRIZE_VOID
    assert sorted(
        (e.account.kind, e.account.membership_id, e.amount)
        for e in reversal.entries.select_related("account")
    ) == [
        (Account.Kind.MEMBER_PAYABLE, one.pk, 10000),
        (Account.Kind.REWARD_FUND, None, -10000),
    ]
    assert ledger.member_balance(membership=one) == 0
    assert ledger.trial_balance(community=community) == 0
    audit = CommunityAuditLog.objects.get(event=MoneyEvent.PRIZE_VOIDED)
    assert (audit.actor_id, audit.data["amount"], audit.data["reason"]) == (
        ballot.organiser.user_id,
        10000,
        REASON,
    )
    standing = Prize.objects.filter(week_close__community=community, voided_at__isnull=True)
    assert sorted(standing.values_list("place", flat=True)) == [2, 3]

    # and the results page shows the win struck through
    page.get_by_role("link", name="The week's results").click()
    voided = page.locator("#winners tr.place-1")
    expect(voided).to_have_class("place-1 voided")
    expect(voided.locator("td s")).to_have_text("¥100.00")
    expect(voided.locator("td .badge")).to_have_text("voided")

    # --- 5. After the hold: the other two winners paid in one bank-transfer batch --------------
    time_machine.move_to(AFTER_HOLD)
    page.goto(f"{base}/c/{slug}/payouts/")
    expect(page.get_by_role("heading", name="Payouts", exact=True)).to_be_visible()
    second_place, third_place = prizes[1], prizes[2]
    owed = page.locator("#payables tbody tr")
    expect(owed).to_have_count(2)  # the voided winner is owed nothing
    for prize in (second_place, third_place):
        row = page.locator(f"#payables tr[data-member='{prize.membership_id}']")
        expect(row.locator("td").nth(1)).to_have_text(_handle(prize.membership))
        expect(row.locator("td").nth(2)).to_have_text(_money(prize.amount))  # owed
        expect(row.locator("td").nth(3)).to_have_text("—")  # held: no longer
        expect(row.locator("td").nth(4)).to_have_text(_money(prize.amount))  # payable now
        expect(row.locator(f"input[name=amount_{prize.membership_id}]")).to_have_value(
            f"{prize.amount / 100:.2f}"
        )
        row.get_by_label(_handle(prize.membership)).check()
    page.get_by_label("Paid by").select_option(label="Bank transfer")
    page.get_by_label("Reference").fill(REFERENCE)
    page.get_by_role("button", name="Record the payouts").click()

    expect(page.locator("ul.messages li.success")).to_have_text(
        "2 payouts recorded. Download the batch for your bank below."
    )
    expect(page).to_have_url(f"{base}/c/{slug}/payouts/")
    expect(page.locator("#payables tbody tr")).to_have_text(["Nobody is owed anything."])
    batch = PayoutBatch.objects.get(community=community)
    listed = page.locator("section.card", has=page.get_by_role("heading", name="Batches"))
    expect(listed.locator("li")).to_have_count(1)
    expect(listed.locator("li")).to_contain_text(f"#{batch.pk}")
    expect(listed.locator("li")).to_contain_text(REFERENCE)
    made = page.locator("#payouts tbody tr")
    expect(made).to_have_count(2)
    expect(made.locator("td:nth-child(5)")).to_have_text([REFERENCE, REFERENCE])
    page.screenshot(path=artifacts / "weekly-04-payouts.png", full_page=True)

    paid = list(batch.payouts.order_by("pk"))
    assert sorted((p.membership_id, p.amount, p.method, p.reference, p.status) for p in paid) == [
        (prize.membership_id, prize.amount, "bank_transfer", REFERENCE, Payout.Status.PAID)
        for prize in sorted((second_place, third_place), key=lambda p: p.membership_id)
    ]
    assert (batch.method, batch.reference) == ("bank_transfer", REFERENCE)
    assert all(ledger.member_balance(membership=p.membership) == 0 for p in prizes)
    assert ledger.trial_balance(community=community) == 0

    # when: the batch is downloaded for the bank
    with page.expect_download() as download_info:
        listed.get_by_role("link", name="CSV for the bank").click()
    download = download_info.value
    assert download.suggested_filename == f"{slug}-payouts-{batch.pk}.csv"
    saved = artifacts / "weekly-05-payouts.csv"
    download.save_as(saved)

    # then: one row per payout, with the real name the bank needs, to the fen
    rows = list(csv.DictReader(io.StringIO(saved.read_text("utf-8-sig"))))
    by_member = {p.membership_id: p for p in (second_place, third_place)}
    assert rows == [
        {
            "payout": str(p.pk),
            "member": str(p.membership_id),
            "handle": _handle(by_member[p.membership_id].membership),
            "name": by_member[p.membership_id].membership.profile.real_name,
            "amount": f"{p.amount / 100:.2f}",
            "currency": community.currency,
            "method": "bank_transfer",
            "reference": REFERENCE,
        }
        for p in paid
    ]
    assert [row["amount"] for row in rows] == ["60.00", "40.00"]
