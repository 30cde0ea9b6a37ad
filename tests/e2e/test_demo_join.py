"""A newcomer joins the demo with no Stripe keys, in the browser: they sign up (from the
community's page), the join page offers the clearly marked demo payment, they press it and are a
member, write an answer to this week's question and vote on the ballot. Once on a phone in
简体中文, once on a desktop in English — the site as ``make run`` serves it (DEBUG on, no
Stripe key, e-mail confirmation optional).

Screenshots go to $E2E_ARTIFACTS (default: <project>/artifacts/e2e/) so CI can keep them.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from members import weeks
from members.models import Membership, Weekday
from questions import services as question_services
from questions.models import Answer, Vote
from rewards.models import Payment
from tests.e2e.conftest import DESKTOP, OVERFLOW, PHONE, SignedIn
from tests.factories import add_member, make_community, organiser_of
from tests.questions.helpers import brief

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-newcomer-password-7"
ANSWER = "先问新人一个**具体问题**，第一周内让老成员回应一次。"


@pytest.mark.parametrize(
    ("viewport", "language", "name"),
    [(PHONE, "zh-hans", "phone-zh"), (DESKTOP, "en", "desktop-en")],
    ids=["phone-zh-hans", "desktop-en"],
)
def test_a_newcomer_signs_up_joins_by_demo_payment_answers_and_votes(
    signed_in: SignedIn,
    live_server: Any,
    midweek: datetime.datetime,
    settings: Any,
    artifacts: Path,
    viewport: dict[str, int],
    language: str,
    name: str,
) -> None:
    # given: the site as `make run` serves it, and a community with a question this week that
    # has an answer on the ballot (voting opens on Monday)
    settings.DEBUG = True
    settings.DEMO_PAYMENTS = True
    settings.STRIPE_SECRET_KEY = ""
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    community = make_community(
        slug="demo-circle",
        name="产品圈 Demo Circle",
        entrance_fee=20000,
        monthly_fee=1000,
        voting_opens_weekday=Weekday.MONDAY,
    )
    asker = add_member(community, profile={"handle": "asker"})
    old_hand = add_member(community, profile={"handle": "old-hand"})
    question = brief(asker, title="第一周流失严重怎么办？ First-week churn")
    question_services.question_schedule(
        moderator=organiser_of(community), question=question, week=weeks.start_of(community)
    )
    question.refresh_from_db()
    theirs = question_services.answer_create(
        author=old_hand, question=question, body="Onboarding e-mails, three of them."
    )
    email = f"newcomer-{name}@example.com"
    base = str(live_server)
    slug = community.slug
    page = signed_in(None, viewport=viewport, language=language)

    # --- the community's page, then sign up ---------------------------------------------------
    page.goto(f"{base}/c/{slug}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator(f"a[href='/accounts/signup/?next=/c/{slug}/join/']").click()
    expect(page).to_have_url(f"{base}/accounts/signup/?next=/c/{slug}/join/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.screenshot(path=artifacts / f"demo-join-{name}-01-signup.png", full_page=True)
    page.locator("input[name=password2]").press("Enter")

    # --- the join page: no Stripe, the demo payment clearly marked ----------------------------
    expect(page).to_have_url(f"{base}/c/{slug}/join/")
    expect(page.locator("#join-today")).to_have_text("¥210.00")
    button = page.locator("#join-demo-form button[name=demo]")
    expect(button).to_be_visible()
    expect(page.locator("#join-form")).to_have_count(0)  # no "continue to Stripe"
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=artifacts / f"demo-join-{name}-02-join.png", full_page=True)
    button.click()

    # then: a member, the fees recorded as an offline payment through the ledger
    expect(page).to_have_url(f"{base}/c/{slug}/")
    expect(page.locator("ul.messages li.success")).to_be_visible()
    membership = Membership.objects.get(community=community, user__email=email)
    assert (membership.role, membership.status) == (
        Membership.Role.MEMBER,
        Membership.Status.ACTIVE,
    )
    assert sorted(
        Payment.objects.filter(membership=membership).values_list("kind", "amount", "method")
    ) == [("entrance", 20000, "cash"), ("monthly", 1000, "cash")]
    page.screenshot(path=artifacts / f"demo-join-{name}-03-member.png", full_page=True)

    # --- answer this week's question --------------------------------------------------------
    page.goto(f"{base}/c/{slug}/questions/{question.pk}/")
    page.locator(f"a[href='/c/{slug}/questions/{question.pk}/answer/']").first.click()
    expect(page).to_have_url(f"{base}/c/{slug}/questions/{question.pk}/answer/")
    page.locator("#answer-form textarea[name=body]").fill(ANSWER)
    expect(page.locator("#answer-preview strong")).to_have_text("具体问题")
    page.screenshot(path=artifacts / f"demo-join-{name}-04-answer.png", full_page=True)
    page.locator("#answer-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/c/{slug}/questions/{question.pk}/#answer-\d+$"))
    mine = Answer.objects.get(question=question, author=membership)
    expect(page.locator(f"#answer-{mine.pk} .markdown strong")).to_have_text("具体问题")

    # --- vote for the other member's answer on the ballot ---------------------------------
    page.goto(f"{base}/c/{slug}/ballot/")
    vote_form = page.locator(f"#vote-form-{theirs.pk}")
    vote_form.locator("button[value=vote]").click()
    expect(page.locator(f"#vote-form-{theirs.pk} button[value=withdraw]")).to_be_visible()
    assert list(Vote.objects.filter(voter=membership).values_list("answer", flat=True)) == [
        theirs.pk
    ]
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=artifacts / f"demo-join-{name}-05-voted.png", full_page=True)

    # and a second press of the demo payment (the browser's back button) pays nothing twice
    page.goto(f"{base}/c/{slug}/join/")
    expect(page).to_have_url(f"{base}/c/{slug}/")
    assert Payment.objects.filter(membership=membership).count() == 2
